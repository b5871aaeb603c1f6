/**
 * `npm run inspect -- <files or folders…>`: one JSON line per file, in the order the folders list them (see
 * inspect-file.ts for the fields). The main thread lists the folders, inspects batches of files itself and writes the
 * lines; worker threads (this same module) inspect the batches it hands them while it is busy. Exit code 1 when any
 * file has an error (not DICOM, truncated, unreadable), 2 without arguments.
 */
import { filesUnder, type FileToInspect } from './files-under';
import { FIRST_READ_BYTES, inspectFile } from './inspect-file';
import { orderedOutput } from './ordered-output';
import { inWorker, workerPool, type Batch, type BatchResult } from './worker-pool';

/** Files per batch: a message costs little per file, and a thread finishing last waits for at most one batch. */
const BATCH_FILES = 128;

function inspectBatch(batch: Batch, buffer: Uint8Array): BatchResult {
  let text = '';
  let failures = 0;
  for (const file of batch.files) {
    const line = inspectFile(file, buffer);
    if (line.error) failures++;
    text += `${JSON.stringify(line)}\n`;
  }
  return { id: batch.id, text, failures };
}

function serveBatches(): void {
  const buffer = new Uint8Array(FIRST_READ_BYTES);
  const { parentPort } = require('node:worker_threads') as typeof import('node:worker_threads');
  parentPort!.on('message', (batch: Batch) => parentPort!.postMessage(inspectBatch(batch, buffer)));
}

/** One turn of the event loop, in which the workers' finished batches arrive. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function main(args: string[]): Promise<number> {
  if (args.length === 0) {
    process.stderr.write('usage: npm run inspect -- <files or folders…>\n');
    return 2;
  }
  const output = orderedOutput(1);
  const pool = workerPool(new URL(import.meta.url), output.add);
  const buffer = new Uint8Array(FIRST_READ_BYTES);
  let nextId = 0;
  const dispatch = async (files: FileToInspect[]): Promise<void> => {
    const batch: Batch = { id: nextId++, files };
    // Workers start only once there is more than a batch to do: a few files cost less than a thread's start-up.
    if (batch.id > 0 && pool.offer(batch)) return;
    output.add(inspectBatch(batch, buffer));
    await nextTurn();
  };
  let files: FileToInspect[] = [];
  for (const file of filesUnder(args)) {
    files.push(file);
    if (files.length === BATCH_FILES) {
      await dispatch(files);
      files = [];
    }
  }
  if (files.length > 0) await dispatch(files);
  await pool.close();
  output.end();
  return output.failures() > 0 ? 1 : 0;
}

if (!inWorker()) {
  // A promise chain, not a top-level await: the bundle is CommonJS (see scripts/inspect.cjs).
  main(process.argv.slice(2)).then(
    (exitCode) => {
      process.exitCode = exitCode;
    },
    (error: unknown) => {
      // A closed pipe (`| head`) ends the listing quietly instead of with a stack trace.
      if ((error as NodeJS.ErrnoException).code !== 'EPIPE') throw error;
      process.exit(process.exitCode ?? 0);
    },
  );
} else {
  serveBatches();
}
