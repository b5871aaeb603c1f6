/**
 * s3rver on its own thread. It hashes and writes every uploaded byte in JavaScript; on the API's
 * event loop that would make every API request wait behind the transfers (on AWS, S3 is not in
 * the Lambda's process either). The thread posts each event record back with its request origin.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { RunningEmulator, S3ObjectEvent, S3RequestOrigin } from './emulators';

interface ThreadOptions {
  port?: number;
  dataDir: string;
  buckets?: { name: string; corsOrigins: string[] }[];
}

type FromThread =
  | { type: 'ready'; port: number; endpoint: string; incompleteObjectsRemoved: number }
  | { type: 'event'; record: S3ObjectEvent; origin: S3RequestOrigin }
  | { type: 'stopped' }
  | { type: 'failed'; message: string };

/** Starts s3rver on a worker thread; `onEvent` runs on the calling thread. */
export function startS3rverThread(opts: ThreadOptions & { onEvent?: (record: S3ObjectEvent, origin: S3RequestOrigin) => void }): Promise<RunningEmulator> {
  const { onEvent, ...options } = opts;
  // The thread runs this same module. Node 20 does not pass tsx's loader hooks on to threads, so
  // a small bootstrap registers them before importing it.
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then(({ register }) => { register(); return import(${JSON.stringify(import.meta.url)}); })`;
  const worker = new Worker(bootstrap, { eval: true, workerData: options });
  return new Promise((resolve, reject) => {
    let stopped: (() => void) | undefined;
    worker.on('message', (message: FromThread) => {
      if (message.type === 'event') onEvent?.(message.record, message.origin);
      else if (message.type === 'ready') {
        resolve({
          endpoint: message.endpoint,
          port: message.port,
          incompleteObjectsRemoved: message.incompleteObjectsRemoved,
          stop: () =>
            new Promise<void>((done) => {
              stopped = done;
              worker.postMessage('stop');
            }),
        });
      } else if (message.type === 'failed') reject(new Error(`s3rver failed to start: ${message.message}`));
      else if (message.type === 'stopped') {
        void worker.terminate().then(() => stopped?.());
      }
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      stopped?.();
      reject(new Error(`s3rver thread exited with ${code}`));
    });
  });
}

async function runThread(): Promise<void> {
  const port = parentPort!;
  const { startS3rver } = await import('./emulators');
  try {
    const s3rver = await startS3rver({
      ...(workerData as ThreadOptions),
      onEvent: (record, origin) => port.postMessage({ type: 'event', record, origin } satisfies FromThread),
    });
    port.on('message', (message) => {
      if (message !== 'stop') return;
      void s3rver.stop().then(() => port.postMessage({ type: 'stopped' } satisfies FromThread));
    });
    port.postMessage({ type: 'ready', port: s3rver.port, endpoint: s3rver.endpoint, incompleteObjectsRemoved: s3rver.incompleteObjectsRemoved ?? 0 } satisfies FromThread);
  } catch (error) {
    port.postMessage({ type: 'failed', message: (error as Error).message } satisfies FromThread);
  }
}

if (!isMainThread && parentPort && (workerData as ThreadOptions | undefined)?.dataDir) await runThread();
