/** ObjectReader on S3: HeadObject for the real size, ranged GETs for the header bytes. */
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ObjectReader } from '../core/inspection-ports';

export class S3ObjectReader implements ObjectReader {
  constructor(private readonly options: { s3: S3Client; bucketName: string }) {}

  async head(key: string): Promise<{ size: number; etag?: string } | null> {
    try {
      const out = await this.options.s3.send(new HeadObjectCommand({ Bucket: this.options.bucketName, Key: key }));
      return { size: out.ContentLength ?? 0, ...(out.ETag ? { etag: out.ETag.replace(/"/g, '') } : {}) };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
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

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

export function isNotFound(error: unknown): boolean {
  const name = (error as { name?: string })?.name;
  return name === 'NotFound' || name === 'NoSuchKey' || statusOf(error) === 404;
}
