/**
 * Streaming SHA-256 of a Blob with bounded memory: the file is read in slices and fed to hash-wasm,
 * so a 2 GB file costs one slice of memory, not 2 GB. A multipart file's part hashes are computed in
 * the same pass, by the same plan the server signs its parts with.
 */
import { createSHA256, type IHasher } from 'hash-wasm';
import { MIN_PART_BYTES, planParts } from '../../lambdas/core/transfers';

/** Large enough that per-read overhead vanishes, small enough to keep memory flat. */
export const HASH_CHUNK_BYTES = 8 * 1024 * 1024;

export interface BlobHashes {
  /** Base64 SHA-256 of the whole body. */
  sha256: string;
  /** Base64 SHA-256 of each part (part 1 first), when the body is large enough to travel in parts. */
  parts?: string[];
  partSize?: number;
}

function base64(digest: Uint8Array): string {
  let binary = '';
  for (const byte of digest) binary += String.fromCharCode(byte);
  return btoa(binary);
}

async function readSlice(body: Blob, start: number, end: number): Promise<Uint8Array> {
  return new Uint8Array(await body.slice(start, end).arrayBuffer());
}

/** Base64 SHA-256 of a body, read `chunkBytes` at a time. */
export async function sha256Base64(body: Blob, chunkBytes = HASH_CHUNK_BYTES): Promise<string> {
  return (await hashBlob(body, { withParts: false, chunkBytes })).sha256;
}

/**
 * The body's SHA-256 and, for bodies of at least the smallest multipart threshold, each part's
 * SHA-256 by `planParts` (or `partSize` when given), all in one read of the body.
 */
export async function hashBlob(
  body: Blob,
  options: { withParts?: boolean; partSize?: number; chunkBytes?: number } = {},
): Promise<BlobHashes> {
  const chunkBytes = options.chunkBytes ?? HASH_CHUNK_BYTES;
  const whole = await createSHA256();
  whole.init();
  const withParts = (options.withParts ?? true) && body.size >= MIN_PART_BYTES;
  if (!withParts) {
    for (let start = 0; start < body.size; start += chunkBytes) whole.update(await readSlice(body, start, Math.min(body.size, start + chunkBytes)));
    return { sha256: base64(whole.digest('binary')) };
  }
  const partSize = options.partSize ?? planParts(body.size).partSize;
  const parts: string[] = [];
  const part: IHasher = await createSHA256();
  for (let partStart = 0; partStart < body.size; partStart += partSize) {
    const partEnd = Math.min(body.size, partStart + partSize);
    part.init();
    for (let start = partStart; start < partEnd; start += chunkBytes) {
      const bytes = await readSlice(body, start, Math.min(partEnd, start + chunkBytes));
      whole.update(bytes);
      part.update(bytes);
    }
    parts.push(base64(part.digest('binary')));
  }
  return { sha256: base64(whole.digest('binary')), parts, partSize };
}
