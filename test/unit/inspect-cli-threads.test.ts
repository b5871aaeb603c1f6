/**
 * The inspect CLI's threads, in process: how many workers a load leaves room for, and batches inspected by a real
 * worker thread (the bundled CLI, as `npm run inspect` starts it) and written in batch order whatever order they end.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { orderedOutput } from '../../scripts/inspect/ordered-output';
import { workerPool, workersFor, type BatchResult } from '../../scripts/inspect/worker-pool';
import { explicit, part10 } from './dicom-fixtures';

const PROJECT = fileURLToPath(new URL('../../', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'inspect-threads-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('workersFor', () => {
  it('starts a worker per core the load leaves idle beyond the main thread, at most 3', () => {
    expect(workersFor(2, 0.1)).toBe(1);
    expect(workersFor(2, 0.6)).toBe(0); // a busy 2-core machine: the main thread alone
    expect(workersFor(2, 12)).toBe(0);
    expect(workersFor(1, 0)).toBe(0);
    expect(workersFor(4, 1)).toBe(2);
    expect(workersFor(16, 0)).toBe(3);
  });
});

describe('workerPool and orderedOutput', () => {
  it('writes a worker’s batches and the main thread’s in batch order, with their failures counted', async () => {
    // Builds the bundle when it is missing or stale; package.json is no DICOM file, hence exit code 1.
    expect(spawnSync(process.execPath, [join(PROJECT, 'scripts/inspect.cjs'), join(PROJECT, 'package.json')]).status).toBe(1);
    const files = Array.from({ length: 4 }, (_, i) => {
      const path = join(scratch, `${i}.dcm`);
      writeFileSync(path, i === 3 ? 'not DICOM' : part10([...explicit(0x0020000d, 'UI', `2.25.${i}`)])); // StudyInstanceUID
      return { path, regular: true };
    });
    const outFile = join(scratch, 'out.jsonl');
    const fd = openSync(outFile, 'w');
    const output = orderedOutput(fd);
    const fromWorker: number[] = [];
    const pool = workerPool(pathToFileURL(join(PROJECT, '.build/inspect.cjs')), (result: BatchResult) => {
      fromWorker.push(result.id);
      output.add(result);
    }, 1);
    expect(pool.offer({ id: 0, files: files.slice(0, 2) })).toBe(true);
    expect(pool.offer({ id: 1, files: files.slice(2, 4) })).toBe(true);
    expect(pool.offer({ id: 2, files: files.slice(0, 1) })).toBe(false); // the one worker holds two batches already
    // The main thread's own batch, finished before the worker's: held back until batches 0 and 1 are written.
    output.add({ id: 2, text: '{"main":true}\n', failures: 0 });
    await pool.close();
    output.end();
    closeSync(fd);
    expect(fromWorker).toEqual([0, 1]);
    const lines = readFileSync(outFile, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.map((line) => line.main ?? line.studyInstanceUid)).toEqual(['2.25.0', '2.25.1', '2.25.2', null, true]);
    expect(lines[3]).toMatchObject({ file: files[3]!.path, isDicom: false, error: expect.stringMatching(/^NOT_DICOM/) });
    expect(output.failures()).toBe(1);
  });
});
