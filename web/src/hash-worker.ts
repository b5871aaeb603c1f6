/**
 * The hash worker: computes each body's SHA-256 (and its parts', for multipart files) off the main
 * thread, so hashing a 2 GB file neither blocks the page nor holds more than one slice in memory.
 * hash-wasm lives only here, outside the page's main script.
 */
import { hashBlob, type BlobHashes } from './hashing';

export interface HashRequest {
  id: number;
  blob: Blob;
  withParts: boolean;
}

export type HashResponse = { id: number; hashes: BlobHashes } | { id: number; error: string };

const scope = self as unknown as { postMessage(message: HashResponse): void; onmessage: ((e: MessageEvent<HashRequest>) => void) | null };

scope.onmessage = (event) => {
  const { id, blob, withParts } = event.data;
  hashBlob(blob, { withParts }).then(
    (hashes) => scope.postMessage({ id, hashes }),
    (error: unknown) => scope.postMessage({ id, error: error instanceof Error ? error.message : String(error) }),
  );
};
