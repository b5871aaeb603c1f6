/**
 * Ctrl-C stops local mode promptly whatever is queued, and nothing queued is lost: local mode is started as a child
 * process with one inspector batch at a time, 600 files are uploaded (their inspections queue up behind the uploads),
 * the process group gets SIGINT right after the last PUT, and it must be gone within 5 s. At the next start (default
 * settings) every file is inspected and verified.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { callApi, startLocalModeProcess, uploadSyntheticFiles, type RunningLocalMode } from '../../bench/local-session-driver';

const FILES = 600;
const dataDir = mkdtempSync(join(tmpdir(), 'local-stop-'));
let running: RunningLocalMode | undefined;

afterAll(async () => {
  await running?.signal('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

async function verifiedCount(mode: RunningLocalMode, sessionId: string, token: string): Promise<number> {
  const answer = await callApi(mode.apiUrl, 'GET', `/sessions/${sessionId}`, undefined, token);
  expect(answer.status).toBe(200);
  return (answer.body.files as { status: string }[]).filter((f) => f.status === 'VERIFIED').length;
}

describe('stopping local mode', () => {
  it('exits within 5 s of Ctrl-C with inspections queued, and finishes them at the next start', async () => {
    // One inspector batch at a time: the uploads stay ahead of inspection however fast the machine, so work is queued
    // when the signal comes (with the default four, an idle machine sometimes finished every inspection first).
    running = await startLocalModeProcess(dataDir, { INSPECTION_CONCURRENCY: '1' });
    const session = await callApi(running.apiUrl, 'POST', '/sessions', { uploadCode: running.uploadCode });
    expect(session.status).toBe(201);
    const { sessionId, token } = session.body as { sessionId: string; token: string };
    const upload = await uploadSyntheticFiles(running.apiUrl, { sessionId, token }, { count: FILES, studies: 3, concurrency: 8 });
    expect(upload.failures).toEqual([]);
    expect(upload.fileIds).toHaveLength(FILES);

    const stopped = await running.signal('SIGINT');
    const log = running.output();
    expect(stopped.code).toBe(0);
    expect(stopped.ms).toBeLessThan(5000);
    // The premise: work was still queued when the signal came.
    const left = Number(/leftForNextStart[^0-9]*(\d+)/.exec(log)?.[1] ?? 'NaN');
    expect(left, log.slice(-2000)).toBeGreaterThan(0);
    console.info(`local mode stopped ${Math.round(stopped.ms)} ms after SIGINT, ${left} inspections left for the next start`);

    running = await startLocalModeProcess(dataDir);
    const deadline = Date.now() + 120_000;
    let verified = 0;
    while (verified < FILES && Date.now() < deadline) {
      verified = await verifiedCount(running, sessionId, token);
      if (verified < FILES) await new Promise((r) => setTimeout(r, 500));
    }
    expect(verified).toBe(FILES);
    expect((await running.signal('SIGTERM')).code).toBe(0);
  }, 300_000);
});
