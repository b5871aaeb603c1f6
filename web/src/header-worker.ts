/**
 * The header worker: reads DICOM headers from File.slice prefixes off the main thread, so the page
 * stays responsive while thousands of files are added. Results go back in small batches.
 */
import { classifyAll, scanZip, type ScanResult, type ZipEntryScan } from './scan';

export type WorkerRequest =
  | { type: 'files'; batch: number; jobs: { id: string; blob: Blob }[] }
  | { type: 'zip'; batch: number; blob: Blob };

export type WorkerResponse =
  | { type: 'results'; batch: number; results: { id: string; result: ScanResult }[] }
  | { type: 'zip-entries'; batch: number; entries: ZipEntryScan[] }
  | { type: 'done'; batch: number }
  | { type: 'error'; batch: number; message: string };

/** Parallel slice reads hide disk latency; more buys nothing on a 2-core laptop. */
const READS_IN_FLIGHT = 8;
const FLUSH_EVERY = 100;

const scope = self as unknown as { postMessage(message: WorkerResponse): void; onmessage: ((e: MessageEvent<WorkerRequest>) => void) | null };

scope.onmessage = (event) => {
  const request = event.data;
  const work = request.type === 'files' ? scanFiles(request.batch, request.jobs) : scanArchive(request.batch, request.blob);
  work.then(
    () => scope.postMessage({ type: 'done', batch: request.batch }),
    (error: unknown) => scope.postMessage({ type: 'error', batch: request.batch, message: error instanceof Error ? error.message : String(error) }),
  );
};

async function scanFiles(batch: number, jobs: { id: string; blob: Blob }[]): Promise<void> {
  await classifyAll(jobs, (results) => scope.postMessage({ type: 'results', batch, results }), { readsInFlight: READS_IN_FLIGHT, batchSize: FLUSH_EVERY });
}

async function scanArchive(batch: number, blob: Blob): Promise<void> {
  let pending: ZipEntryScan[] = [];
  for await (const scanned of scanZip(blob)) {
    pending.push(scanned);
    if (pending.length >= FLUSH_EVERY) {
      scope.postMessage({ type: 'zip-entries', batch, entries: pending });
      pending = [];
    }
  }
  if (pending.length > 0) scope.postMessage({ type: 'zip-entries', batch, entries: pending });
}
