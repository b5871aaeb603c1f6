/** The bare baseline: hash-wasm's SHA-256 over 8 MiB slices of each body, nothing else. */
import { createSHA256 } from 'hash-wasm';

const SLICE = 8 * 1024 * 1024;

self.onmessage = async (event: MessageEvent<{ id: number; blob: Blob }>) => {
  const { id, blob } = event.data;
  const hasher = await createSHA256();
  hasher.init();
  for (let at = 0; at < blob.size; at += SLICE) hasher.update(new Uint8Array(await blob.slice(at, at + SLICE).arrayBuffer()));
  (self as unknown as Worker).postMessage({ id, hashes: { sha256: btoa(String.fromCharCode(...hasher.digest('binary'))) } });
};
