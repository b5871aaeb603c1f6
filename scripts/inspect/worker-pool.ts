import { availableParallelism, loadavg } from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { FileToInspect } from './files-under';

/**
 * Set in each worker's environment: main.ts learns that it runs in a worker without loading node:worker_threads on
 * the main thread, where loading it costs about 14 ms of every run's start-up.
 */
export const WORKER_ENV = 'DICOM_INSPECT_WORKER';

/** True in a worker this pool started (the variable alone could come from the user's shell). */
export function inWorker(): boolean {
  return process.env[WORKER_ENV] === '1' && !(require('node:worker_threads') as typeof import('node:worker_threads')).isMainThread;
}

export interface Batch {
  id: number;
  files: FileToInspect[];
}

export interface BatchResult {
  id: number;
  text: string;
  failures: number;
}

/**
 * Worker threads beside the main thread, which inspects too: one per core the load average leaves idle beyond the
 * main thread's, at most 3. A busy machine gets none: there each isolate's JIT warm-up and the threads' contention
 * for the cores cost more than the split work saves (measured on a shared 2-core machine: one worker beside the main
 * thread used 40–50% more CPU over 20,000 files, and finished later).
 */
export function workersFor(cores = availableParallelism(), load = loadavg()[0]!): number {
  return Math.max(0, Math.min(3, Math.round(cores - load) - 1));
}

/** Batches queued per worker, so that it never waits while the main thread is busy with a batch of its own. */
const QUEUED_PER_WORKER = 2;

interface Inspector {
  worker: Worker;
  queued: number;
}

/** Hands batches to worker threads (started on first use) while they have room, and passes on their results. */
export function workerPool(module: URL, onResult: (result: BatchResult) => void, workers = workersFor()) {
  const inspectors: Inspector[] = [];
  let wake: (() => void) | undefined;
  const spawn = (): Inspector => {
    const threads = require('node:worker_threads') as typeof import('node:worker_threads');
    const inspector = { worker: new threads.Worker(module, { env: { ...process.env, [WORKER_ENV]: '1' } }), queued: 0 };
    inspector.worker.on('message', (result: BatchResult) => {
      inspector.queued--;
      onResult(result);
      wake?.();
    });
    inspector.worker.on('error', (error) => {
      throw error;
    });
    inspectors.push(inspector);
    return inspector;
  };
  const withRoom = (): Inspector | undefined =>
    inspectors.find((i) => i.queued === 0) ??
    (inspectors.length < workers ? spawn() : inspectors.find((i) => i.queued < QUEUED_PER_WORKER));
  return {
    /** Queues the batch on a worker with room; false when every worker is full (the caller inspects it). */
    offer(batch: Batch): boolean {
      const inspector = withRoom();
      if (!inspector) return false;
      inspector.queued++;
      inspector.worker.postMessage(batch);
      return true;
    },
    /** Waits for every queued batch's result, then stops the workers. */
    async close(): Promise<void> {
      while (inspectors.some((i) => i.queued > 0)) await new Promise<void>((resolve) => (wake = resolve));
      await Promise.all(inspectors.map((i) => i.worker.terminate()));
    },
  };
}
