/**
 * `npm run bench:scale`: one session at the seed's full scale through a real local mode, over HTTP as the portal
 * drives it: BENCH_FILES (default 20,000) small synthetic DICOM files in 4 studies, declared 10 at a time and PUT,
 * inspected from their S3 events, then completed. It prints GET /sessions/{id} (median of 5) once 2,000 files are
 * verified and once all are (targets: under 1 s, and at most 2× the time at 2,000), the completion (target: under
 * 20 s, or asynchronous and done within 60 s), every non-2xx answer, and the longest invocation of each handler with
 * local mode's peak memory (what a Lambda would need; on AWS each handler runs alone in its own function).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Usage } from '../local/usage-meter';
import { callApi, startLocalModeProcess, uploadSyntheticFiles, type RunningLocalMode } from './local-session-driver';

const FILES = Number(process.env.BENCH_FILES ?? 20_000);
const FIRST = Math.min(2000, FILES);
const STUDIES = 4;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** Peak resident memory of a process, MB (Linux). */
function peakMemoryMb(pid: number): number | undefined {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

async function waitVerified(mode: RunningLocalMode, session: { sessionId: string; token: string }, count: number): Promise<void> {
  const deadline = Date.now() + 1_800_000;
  for (;;) {
    const answer = await callApi(mode.apiUrl, 'GET', `/sessions/${session.sessionId}`, undefined, session.token);
    if (answer.status !== 200) throw new Error(`GET answered ${answer.status}`);
    if (answer.body.counts.verified + answer.body.counts.rejected >= count) {
      if (answer.body.counts.rejected > 0) throw new Error(`${answer.body.counts.rejected} files rejected`);
      return;
    }
    if (Date.now() > deadline) throw new Error(`only ${answer.body.counts.verified} of ${count} verified after 30 minutes`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function timedGets(mode: RunningLocalMode, session: { sessionId: string; token: string }) {
  const runs = [];
  for (let i = 0; i < 5; i++) runs.push(await callApi(mode.apiUrl, 'GET', `/sessions/${session.sessionId}`, undefined, session.token));
  return { ms: median(runs.map((r) => r.ms)), bytes: runs[0]!.bytes, files: runs[0]!.body.files.length as number, counts: runs[0]!.body.counts };
}

const dataDir = mkdtempSync(join(tmpdir(), 'bench-scale-'));
const mode = await startLocalModeProcess(dataDir, { SWEEP_INTERVAL_SECONDS: '86400', POWERTOOLS_LOG_LEVEL: 'WARN' });
const nodePid = mode.child.pid!;
try {
  console.log(`bench:scale: one session of ${FILES} files through local mode`);
  const opened = await callApi(mode.apiUrl, 'POST', '/sessions', { uploadCode: mode.uploadCode });
  const session = opened.body as { sessionId: string; token: string };
  const started = performance.now();
  const first = await uploadSyntheticFiles(mode.apiUrl, session, { count: FIRST, studies: STUDIES, concurrency: 8 });
  await waitVerified(mode, session, FIRST);
  const atFirst = await timedGets(mode, session);
  const rest = await uploadSyntheticFiles(mode.apiUrl, session, { count: FILES - FIRST, studies: STUDIES, concurrency: 8, offset: FIRST });
  const uploaded = performance.now() - started;
  await waitVerified(mode, session, FILES);
  const atAll = await timedGets(mode, session);
  const failures = [...first.failures, ...rest.failures];

  const studies = Array.from({ length: STUDIES }, (_, i) => ({ studyInstanceUid: `2.25.2000000000000000000000000000.2.${i + 1}` }));
  const body = { studies, contact: { email: 'bench@example.org' }, consent: { privacyPolicy: true, dataSharing: true } };
  const completeStarted = performance.now();
  let complete = await callApi(mode.apiUrl, 'POST', `/sessions/${session.sessionId}/complete`, body, session.token);
  const firstCompleteMs = complete.ms;
  while (complete.status === 202 || complete.status === 409) {
    await new Promise((r) => setTimeout(r, 1000));
    complete = await callApi(mode.apiUrl, 'POST', `/sessions/${session.sessionId}/complete`, body, session.token);
  }
  const completeMs = performance.now() - completeStarted;
  if (complete.status >= 500) failures.push(`complete ${complete.status}`);
  const peakMb = peakMemoryMb(nodePid);
  await mode.signal('SIGINT');
  const usage = JSON.parse(readFileSync(join(dataDir, 'usage.json'), 'utf8')) as Usage;

  console.log(`  declare + PUT of ${FILES} files: ${seconds(uploaded)}; 5xx or failed answers: ${failures.length}${failures.length ? ` (${failures.slice(0, 3).join('; ')})` : ''}`);
  console.log(`  GET /sessions/{id} at ${FIRST} files:  ${seconds(atFirst.ms)}, ${atFirst.bytes} bytes, ${atFirst.files} files in the page`);
  console.log(`  GET /sessions/{id} at ${FILES} files: ${seconds(atAll.ms)}, ${atAll.bytes} bytes, ${atAll.files} files in the page, counts ${JSON.stringify(atAll.counts)}`);
  const ratio = atAll.ms / atFirst.ms;
  console.log(`    target < 1 s: ${atAll.ms < 1000 ? 'OK' : 'MISSED'}; ${ratio.toFixed(2)}× the time at ${FIRST} (target ≤ 2×): ${ratio <= 2 ? 'OK' : 'MISSED'}`);
  console.log(`  POST complete: ${complete.status} ${complete.body.status}; first answer ${seconds(firstCompleteMs)}, done in ${seconds(completeMs)} (target < 20 s): ${complete.body.status === 'ACCEPTED' && completeMs < 20_000 ? 'OK' : 'MISSED'}`);
  console.log(`  all verified: ${atAll.counts.verified === FILES ? 'yes' : 'NO'}`);
  console.log(`  longest invocation per handler (local wall time; Lambda limit 900 s, API Gateway 29 s), local mode's peak memory ${peakMb?.toFixed(0) ?? '?'} MB:`);
  for (const [name, u] of Object.entries(usage.invocations).sort((a, b) => b[1].maxMs - a[1].maxMs)) {
    console.log(`    ${name.padEnd(16)} ${seconds(u.maxMs).padStart(9)} longest, ${(u.ms / u.count).toFixed(0).padStart(6)} ms mean over ${u.count}`);
  }
} finally {
  await mode.signal('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
}
