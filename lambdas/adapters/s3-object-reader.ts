/**
 * ObjectReader on S3: the first ranged GET also tells the real size (Content-Range) and ETag, so
 * inspecting an object costs no HeadObject; more ranged GETs only when the header is longer.
 */
import { GetObjectCommand, HeadObjectCommand, NoSuchKey, NotFound, type S3Client } from '@aws-sdk/client-s3';
import type { ObjectReader, ObjectStart } from '../core/ports';

export class S3ObjectReader implements ObjectReader {
  constructor(private readonly options: { s3: S3Client; bucketName: string }) {}

  async head(key: string): Promise<{ size: number; etag?: string } | null> {
    try {
      const out = await this.options.s3.send(new HeadObjectCommand({ Bucket: this.options.bucketName, Key: key }));
      return { size: out.ContentLength ?? 0, ...(out.ETag ? { etag: stripQuotes(out.ETag) } : {}) };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async readStart(key: string, length: number): Promise<ObjectStart | null> {
    if (length < 1) throw new RangeError('readStart needs a length of at least one byte');
    let out;
    try {
      out = await this.options.s3.send(new GetObjectCommand({ Bucket: this.options.bucketName, Key: key, Range: `bytes=0-${length - 1}` }));
    } catch (error) {
      if (isNotFound(error)) return null;
      // S3 refuses every range of an empty object (416 InvalidRange): HeadObject gives its size and ETag.
      if (statusOf(error) === 416) {
        const head = await this.head(key);
        return head ? { ...head, bytes: new Uint8Array(0) } : null;
      }
      throw error;
    }
    const etag = out.ETag ? { etag: stripQuotes(out.ETag) } : {};
    const total = totalOf(out.ContentRange);
    if (total === 0) {
      // s3rver answers an empty object with 206 "bytes 0-0/0" and a body that never comes: do not wait for it.
      (out.Body as { destroy?: () => void } | undefined)?.destroy?.();
      return { size: 0, ...etag, bytes: new Uint8Array(0) };
    }
    const bytes = await out.Body!.transformToByteArray();
    // No Content-Range: the server ignored Range and sent the whole object, so its length is the size.
    const size = total ?? (out.ContentRange === undefined ? bytes.length : undefined);
    if (size === undefined) throw new Error(`unreadable Content-Range on a ranged GET: ${out.ContentRange}`);
    return { size, ...etag, bytes: bytes.length > length ? bytes.subarray(0, length) : bytes };
  }

  async readRange(key: string, start: number, endExclusive: number): Promise<Uint8Array> {
    if (endExclusive <= start) return new Uint8Array(0);
    try {
      const out = await this.options.s3.send(
        new GetObjectCommand({ Bucket: this.options.bucketName, Key: key, Range: `bytes=${start}-${endExclusive - 1}` }),
      );
      const bytes = await out.Body!.transformToByteArray();
      // A server that ignores Range would send the whole object: never hand that on.
      return bytes.length > endExclusive - start ? bytes.subarray(0, endExclusive - start) : bytes;
    } catch (error) {
      // 416: the range starts past the end (the object is shorter than asked).
      if (statusOf(error) === 416) return new Uint8Array(0);
      throw error;
    }
  }
}

/** The object's total size from `bytes FIRST-LAST/TOTAL`; undefined when absent or unknown (`/*`). */
function totalOf(contentRange: string | undefined): number | undefined {
  const match = contentRange ? /^bytes \d+-\d+\/(\d+)$/.exec(contentRange.trim()) : null;
  return match ? Number(match[1]) : undefined;
}

function stripQuotes(etag: string): string {
  return etag.replace(/"/g, '');
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

/** HeadObject answers a missing key with NotFound, GetObject with NoSuchKey; an emulator may send a bare 404. */
function isNotFound(error: unknown): boolean {
  return error instanceof NotFound || error instanceof NoSuchKey || statusOf(error) === 404;
}
