/**
 * SHA-256 of a Blob with bounded memory, as fast as the browser allows:
 * - a body of at most ONE_SHOT_BYTES is read once and digested by WebCrypto (native code);
 * - a larger body streams through hash-wasm (WebCrypto cannot hash incrementally);
 * - a multipart body's part hashes come from the same read: each part is gathered into one buffer
 *   and digested by WebCrypto (native, off this thread) while hash-wasm goes on with the file's
 *   hash, so the parts cost a copy, not a second hash.
 * Without WebCrypto (an insecure context) hash-wasm does all of it.
 */
import { createSHA256, type IHasher } from 'hash-wasm';
import { MIN_PART_BYTES, planParts } from '../../lambdas/core/transfers';

/** Bodies up to this size are digested in one read; parts up to this size are one read each. */
export const ONE_SHOT_BYTES = 16 * 1024 * 1024;

export interface BlobHashes {
  /** Base64 SHA-256 of the whole body. */
  sha256: string;
  /** Base64 SHA-256 of each part (part 1 first), when the body is large enough to travel in parts. */
  parts?: string[];
  partSize?: number;
}

export interface HashOptions {
  withParts?: boolean;
  partSize?: number;
  /** false: hash-wasm only, as in a context without WebCrypto. */
  native?: boolean;
}

type Digest = (bytes: Uint8Array<ArrayBuffer>) => Promise<Uint8Array>;

function base64(digest: Uint8Array): string {
  let binary = '';
  for (const byte of digest) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function nativeDigest(enabled: boolean): Digest | undefined {
  const subtle = enabled ? globalThis.crypto?.subtle : undefined;
  return subtle ? async (bytes) => new Uint8Array(await subtle.digest('SHA-256', bytes)) : undefined;
}

/**
 * The body's bytes as the browser streams them: in Chromium a stream costs about two thirds of the
 * CPU of reading the same bytes as ArrayBuffer slices (see bench/README.md).
 */
async function eachChunk(body: Blob, take: (bytes: Uint8Array<ArrayBuffer>) => void): Promise<void> {
  const reader = body.stream().getReader();
  for (let next = await reader.read(); !next.done; next = await reader.read()) take(next.value as Uint8Array<ArrayBuffer>);
}

async function streamed(body: Blob): Promise<string> {
  const whole = await createSHA256();
  whole.init();
  await eachChunk(body, (bytes) => whole.update(bytes));
  return base64(whole.digest('binary'));
}

/** Base64 SHA-256 of a body. */
export async function sha256Base64(body: Blob): Promise<string> {
  return (await hashBlob(body, { withParts: false })).sha256;
}

/**
 * The body's SHA-256 and, for bodies of at least the smallest multipart threshold, each part's
 * SHA-256 by `planParts` (or `partSize` when given), all in one read of the body.
 */
export async function hashBlob(body: Blob, options: HashOptions = {}): Promise<BlobHashes> {
  const native = nativeDigest(options.native ?? true);
  const withParts = (options.withParts ?? true) && body.size >= MIN_PART_BYTES;
  if (!withParts) {
    if (native && body.size <= ONE_SHOT_BYTES) return { sha256: base64(await native(new Uint8Array(await body.arrayBuffer()))) };
    return { sha256: await streamed(body) };
  }
  const partSize = options.partSize ?? planParts(body.size).partSize;
  const whole = await createSHA256();
  whole.init();
  const parts = native && partSize <= ONE_SHOT_BYTES ? await partsNatively(body, partSize, whole, native) : await partsStreamed(body, partSize, whole);
  return { sha256: base64(whole.digest('binary')), parts, partSize };
}

/** Each part streamed into one buffer: hash-wasm adds it to the file's hash, WebCrypto digests it off this thread. */
async function partsNatively(body: Blob, partSize: number, whole: IHasher, native: Digest): Promise<string[]> {
  const digests: Promise<Uint8Array>[] = [];
  for (let partStart = 0; partStart < body.size; partStart += partSize) {
    const part = body.slice(partStart, Math.min(body.size, partStart + partSize));
    const buffer = new Uint8Array(part.size);
    let filled = 0;
    await eachChunk(part, (bytes) => {
      whole.update(bytes);
      buffer.set(bytes, filled);
      filled += bytes.length;
    });
    digests.push(native(buffer));
    // At most two part digests pending, so memory stays a few parts whatever the file's size.
    if (digests.length >= 2) await digests[digests.length - 2];
  }
  return (await Promise.all(digests)).map(base64);
}

async function partsStreamed(body: Blob, partSize: number, whole: IHasher): Promise<string[]> {
  const parts: string[] = [];
  const part = await createSHA256();
  for (let partStart = 0; partStart < body.size; partStart += partSize) {
    part.init();
    await eachChunk(body.slice(partStart, Math.min(body.size, partStart + partSize)), (bytes) => {
      whole.update(bytes);
      part.update(bytes);
    });
    parts.push(base64(part.digest('binary')));
  }
  return parts;
}
