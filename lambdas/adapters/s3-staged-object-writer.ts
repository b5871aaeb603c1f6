/**
 * Writes one object staged for an import (HealthImaging) from a stream of known length. Up to the
 * threshold it is one PutObject, streamed; S3 takes at most 5 GiB in one PutObject, so a larger
 * object goes up as a multipart upload of fixed-size parts. One part is read while the one before
 * it is sent: memory holds two parts whatever the object's size. A failure aborts the upload, so
 * no parts are left behind (the bucket's lifecycle rule for incomplete uploads is the backstop).
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';

/** S3's limit for one PutObject. */
export const MAX_SINGLE_PUT_BYTES = 5 * 1024 ** 3;
/** 10 GB in 150 parts; two parts in memory stay well inside the delivery Lambda's 1 GB. */
export const DEFAULT_STAGING_PART_BYTES = 64 * 1024 ** 2;
/** S3's limit of parts per upload. */
const MAX_PARTS = 10_000;

export interface StagingWriteLimits {
  /** Objects larger than this go up in parts (default: S3's single-PUT limit). */
  multipartThresholdBytes: number;
  /** Every part but the last has this size; S3 wants at least 5 MiB. */
  partSizeBytes: number;
}

export const DEFAULT_STAGING_WRITE_LIMITS: StagingWriteLimits = { multipartThresholdBytes: MAX_SINGLE_PUT_BYTES, partSizeBytes: DEFAULT_STAGING_PART_BYTES };

export interface StagedObject {
  bucket: string;
  key: string;
  body: Readable | Uint8Array;
  contentLength: number;
  contentType: string;
}

export class S3StagedObjectWriter {
  constructor(
    private readonly s3: S3Client,
    private readonly limits: StagingWriteLimits = DEFAULT_STAGING_WRITE_LIMITS,
  ) {}

  async write(object: StagedObject): Promise<void> {
    const { bucket: Bucket, key: Key, body, contentLength: ContentLength, contentType: ContentType } = object;
    if (ContentLength <= this.limits.multipartThresholdBytes) {
      await this.s3.send(new PutObjectCommand({ Bucket, Key, Body: body, ContentLength, ContentType }));
      return;
    }
    if (Math.ceil(ContentLength / this.limits.partSizeBytes) > MAX_PARTS) {
      throw Object.assign(new Error(`an object of ${ContentLength} bytes needs more than ${MAX_PARTS} parts of ${this.limits.partSizeBytes} bytes`), { name: 'EntityTooLarge' });
    }
    const { UploadId } = await this.s3.send(new CreateMultipartUploadCommand({ Bucket, Key, ContentType }));
    if (!UploadId) throw new Error('CreateMultipartUpload returned no upload id');
    try {
      const Parts = await this.sendParts({ Bucket, Key, UploadId }, body, ContentLength);
      await this.s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts } }));
    } catch (error) {
      // The original error is what the caller must see; a failed abort leaves it to the lifecycle rule.
      await this.s3.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })).catch(() => undefined);
      throw error;
    }
  }

  /** Sends the body's parts in order, one in flight while the next is read; the parts' ETags. */
  private async sendParts(upload: { Bucket: string; Key: string; UploadId: string }, body: Readable | Uint8Array, contentLength: number): Promise<CompletedPart[]> {
    const completed: CompletedPart[] = [];
    let failure: { error: unknown } | undefined;
    let inFlight: Promise<void> = Promise.resolve();
    let sent = 0;
    let PartNumber = 0;
    try {
      for await (const part of partsOf(body instanceof Uint8Array ? [body] : body, this.limits.partSizeBytes)) {
        sent += part.length;
        if (sent > contentLength) throw new Error(`the staged content is longer than its ${contentLength} bytes`);
        // The part before must be sent first: partsOf refills its buffer for the part after this one.
        await inFlight;
        if (failure) throw failure.error;
        const number = ++PartNumber;
        // Settled here, so a part that fails while the next is read is never an unhandled rejection.
        inFlight = this.s3.send(new UploadPartCommand({ ...upload, PartNumber: number, Body: part, ContentLength: part.length })).then(
          ({ ETag }) => void completed.push({ PartNumber: number, ETag }),
          (error: unknown) => void (failure ??= { error }),
        );
      }
    } finally {
      await inFlight;
    }
    if (failure) throw failure.error;
    if (sent !== contentLength) throw new Error(`the staged content ended after ${sent} of ${contentLength} bytes`);
    return completed.sort((a, b) => a.PartNumber! - b.PartNumber!);
  }
}

/**
 * Cuts a byte stream into parts of `size` bytes (the last one shorter). Two buffers take turns: the
 * caller sends a part only after the part before it was sent, so the buffer filled next is never
 * one being sent, and memory stays at two parts.
 */
async function* partsOf(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, size: number): AsyncGenerator<Buffer> {
  const buffers: Buffer<ArrayBuffer>[] = [];
  let turn = 0;
  let part = (buffers[0] = Buffer.allocUnsafe(size));
  let filled = 0;
  for await (const chunk of chunks) {
    for (let offset = 0; offset < chunk.length; ) {
      const take = Math.min(size - filled, chunk.length - offset);
      part.set(chunk.subarray(offset, offset + take), filled);
      filled += take;
      offset += take;
      if (filled === size) {
        yield part;
        turn = 1 - turn;
        part = buffers[turn] ??= Buffer.allocUnsafe(size);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield part.subarray(0, filled);
}
