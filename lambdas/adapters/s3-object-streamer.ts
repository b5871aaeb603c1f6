/** ObjectStreamer on S3: one ranged GET from the offset, its body read as the network delivers it. */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ObjectStreamer } from '../core/ports/object-streamer';

export class S3ObjectStreamer implements ObjectStreamer {
  constructor(private readonly options: { s3: S3Client; bucketName: string }) {}

  async *stream(key: string, start: number): AsyncIterable<Uint8Array> {
    const out = await this.options.s3.send(new GetObjectCommand({ Bucket: this.options.bucketName, Key: key, Range: `bytes=${start}-` }));
    // The SDK's Node body is a Readable: async iteration keeps backpressure and a bounded buffer.
    yield* out.Body as AsyncIterable<Uint8Array>;
  }
}
