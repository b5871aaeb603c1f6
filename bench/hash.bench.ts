/**
 * Streaming SHA-256 as the portal computes it (hash-wasm over 8 MiB Blob slices, part hashes in the
 * same pass) against a baseline in the same run: Node's native crypto over the same slices.
 */
import { createHash } from 'node:crypto';
import { HASH_CHUNK_BYTES, hashBlob } from '../web/src/hashing';

const size = 512 * 1024 * 1024;
const blob = new Blob([new Uint8Array(size).fill(7)]);

async function mbPerSecond(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return size / 1e6 / ((performance.now() - start) / 1000);
}

async function nativeSliced(): Promise<void> {
  const hash = createHash('sha256');
  for (let at = 0; at < size; at += HASH_CHUNK_BYTES) hash.update(new Uint8Array(await blob.slice(at, at + HASH_CHUNK_BYTES).arrayBuffer()));
  hash.digest();
}

for (let round = 1; round <= 2; round++) {
  const portal = await mbPerSecond(() => hashBlob(blob));
  const baseline = await mbPerSecond(nativeSliced);
  console.log(`round ${round}: portal hash-wasm ${portal.toFixed(0)} MB/s, baseline node:crypto ${baseline.toFixed(0)} MB/s (${((portal / baseline) * 100).toFixed(0)}%)`);
}
