/**
 * `npm run inspect -- <files or folders…>`: one JSON line per file, in the order the folders list them (see
 * inspect-file.ts for the fields). The main thread lists the folders and writes; up to WORKERS worker threads (this
 * same module) inspect batches of files, each a file at a time. Exit code 1 when any file has an error (not DICOM,
 * truncated, unreadable), 2 without arguments.
 */
import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import { filesUnder } from './files-under';
import { FIRST_READ_BYTES, inspectFile } from './inspect-file';

/**
 * Files read at once: one per worker, a core left to the main thread's listing and writing. More threads than cores
 * cost more CPU than they save (measured on 2 cores: 2 workers used 30% more CPU than 1, for no faster a run).
 */
const WORKERS = Math.max(1, Math.min(4, availableParallelism() - 1));
/** Files per message: enough that a message costs little per file, few enough that the first lines come quickly. */
const BATCH_FILES = 64;
/** Batches queued per worker, so a worker never waits for the listing. */
const BATCHES_PER_WORKER = 2;

interface Batch {
  id: number;
  files: string[];
}

interface BatchResult {
  id: number;
  text: string;
  failures: number;
}

interface Inspector {
  worker: Worker;
  queued: number;
}

async function inspectBatch(batch: Batch, buffer: Uint8Array): Promise<BatchResult> {
  let text = '';
  let failures = 0;
  for (const file of batch.files) {
    const line = await inspectFile(file, buffer);
    if (line.error) failures++;
    text += `${JSON.stringify(line)}\n`;
  }
  return { id: batch.id, text, failures };
}

function serveBatches(): void {
  const buffer = new Uint8Array(FIRST_READ_BYTES);
  let queue = Promise.resolve();
  parentPort!.on('message', (batch: Batch) => {
    queue = queue.then(async () => parentPort!.postMessage(await inspectBatch(batch, buffer)));
  });
}

/** Writes batch results in batch order, whatever order the workers finish them in. */
function orderedWriter(): { write(result: BatchResult): void; failures(): number } {
  const waiting = new Map<number, BatchResult>();
  let next = 0;
  let failures = 0;
  return {
    write(result) {
      waiting.set(result.id, result);
      for (let ready = waiting.get(next); ready; ready = waiting.get(next)) {
        waiting.delete(next++);
        failures += ready.failures;
        if (ready.text) process.stdout.write(ready.text);
      }
    },
    failures: () => failures,
  };
}

async function main(args: string[]): Promise<number> {
  if (args.length === 0) {
    process.stderr.write('usage: npm run inspect -- <files or folders…>\n');
    return 2;
  }
  const writer = orderedWriter();
  const inspectors: Inspector[] = [];
  let wake: (() => void) | undefined;
  const spawn = (): Inspector => {
    const inspector = { worker: new Worker(new URL(import.meta.url)), queued: 0 };
    inspector.worker.on('message', (result: BatchResult) => {
      inspector.queued--;
      writer.write(result);
      wake?.();
    });
    inspector.worker.on('error', (error) => {
      throw error;
    });
    inspectors.push(inspector);
    return inspector;
  };
  const idle = (): Inspector | undefined =>
    inspectors.find((i) => i.queued === 0) ??
    (inspectors.length < WORKERS ? spawn() : inspectors.find((i) => i.queued < BATCHES_PER_WORKER));
  const settled = () => new Promise<void>((resolve) => (wake = resolve));
  let sent = 0;
  const send = async (files: string[]): Promise<void> => {
    let inspector = idle();
    while (!inspector) {
      await settled();
      inspector = idle();
    }
    inspector.queued++;
    inspector.worker.postMessage({ id: sent++, files } satisfies Batch);
  };
  let files: string[] = [];
  for await (const file of filesUnder(args)) {
    files.push(file);
    if (files.length === BATCH_FILES) {
      await send(files);
      files = [];
    }
  }
  if (files.length > 0) await send(files);
  while (inspectors.some((i) => i.queued > 0)) await settled();
  await Promise.all(inspectors.map((i) => i.worker.terminate()));
  return writer.failures() > 0 ? 1 : 0;
}

if (isMainThread) {
  // A closed pipe (`| head`) ends the listing quietly instead of with a stack trace.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
  process.exitCode = await main(process.argv.slice(2));
} else {
  serveBatches();
}
