/** The page's side of the header worker: one worker, requests answered in order. */
import type { ScanResult, ZipEntryScan } from './scan';
import type { WorkerRequest, WorkerResponse } from './header-worker';

interface Pending {
  onResults?: (results: { id: string; result: ScanResult }[]) => void;
  onEntries?: (entries: ZipEntryScan[]) => void;
  resolve: () => void;
  reject: (error: Error) => void;
}

export class HeaderScanner {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextBatch = 1;

  constructor() {
    this.worker = new Worker(new URL('./header-worker.ts', import.meta.url), { type: 'module' });
    this.worker.onmessage = (event: MessageEvent<WorkerResponse>) => this.receive(event.data);
    this.worker.onerror = (event) => {
      for (const p of this.pending.values()) p.reject(new Error(event.message || 'header worker failed'));
      this.pending.clear();
    };
  }

  scanFiles(jobs: { id: string; blob: Blob }[], onResults: Pending['onResults']): Promise<void> {
    return this.send({ type: 'files', batch: this.nextBatch++, jobs }, { onResults });
  }

  scanZip(blob: Blob, onEntries: Pending['onEntries']): Promise<void> {
    return this.send({ type: 'zip', batch: this.nextBatch++, blob }, { onEntries });
  }

  private send(request: WorkerRequest, handlers: Omit<Pending, 'resolve' | 'reject'>): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.set(request.batch, { ...handlers, resolve, reject });
      this.worker.postMessage(request);
    });
  }

  private receive(message: WorkerResponse): void {
    const p = this.pending.get(message.batch);
    if (!p) return;
    if (message.type === 'results') p.onResults?.(message.results);
    else if (message.type === 'zip-entries') p.onEntries?.(message.entries);
    else {
      this.pending.delete(message.batch);
      if (message.type === 'done') p.resolve();
      else p.reject(new Error(message.message));
    }
  }
}
