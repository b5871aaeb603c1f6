/**
 * How the uploader hashes bodies: in the hash worker in the browser (one worker, requests answered
 * in turn), or in the calling thread where there is no Worker (Node, tests). Either way hash-wasm is
 * loaded only when a body is first hashed, so it never weighs on the page's main script.
 */
import type { HashRequest, HashResponse } from './hash-worker';
import type { BlobHashes } from './hashing';

export type Hasher = (body: Blob, options?: { withParts?: boolean }) => Promise<BlobHashes>;

/** Hashes in the calling thread, importing hash-wasm on first use. */
export const inlineHasher: Hasher = async (body, options) => (await import('./hashing')).hashBlob(body, options);

/** A hasher answered by the worker `createWorker` starts on first use: the Blob is passed by reference, its bytes are read there. */
export function makeWorkerHasher(createWorker: () => Worker): Hasher {
  let worker: Worker | undefined;
  let nextId = 1;
  const waiting = new Map<number, { resolve: (h: BlobHashes) => void; reject: (e: Error) => void }>();
  const hashWorker = (): Worker => {
    if (worker) return worker;
    worker = createWorker();
    worker.onmessage = (event: MessageEvent<HashResponse>) => {
      const answer = event.data;
      const pending = waiting.get(answer.id);
      waiting.delete(answer.id);
      if ('error' in answer) pending?.reject(new Error(answer.error));
      else pending?.resolve(answer.hashes);
    };
    worker.onerror = (event) => {
      for (const pending of waiting.values()) pending.reject(new Error(event.message || 'hash worker failed'));
      waiting.clear();
    };
    return worker;
  };
  return (body, options) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve, reject });
      const request: HashRequest = { id, blob: body, withParts: options?.withParts ?? true };
      hashWorker().postMessage(request);
    });
}

/** The portal's hasher: hash-worker.ts, bundled by Vite as a module worker. */
export const workerHasher: Hasher = makeWorkerHasher(() => new Worker(new URL('./hash-worker.ts', import.meta.url), { type: 'module' }));
