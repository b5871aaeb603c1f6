/** RetentionMarker on S3: re-tags each accepted object `upload-state=accepted` (the lifecycle keys on it). */
import { PutObjectTaggingCommand, type S3Client } from '@aws-sdk/client-s3';
import type { RetentionMarker } from '../core/ports';
import { RETENTION_TAG } from '../core/retention';

/** Parallel tagging requests per accepted session: fast for hundreds of files, gentle on S3. */
const CONCURRENCY = 16;

export class S3RetentionMarker implements RetentionMarker {
  constructor(private readonly options: { s3: S3Client; bucketName: string }) {}

  async markAccepted(keys: readonly string[]): Promise<void> {
    const queue = [...keys];
    const worker = async () => {
      for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
        await this.options.s3.send(
          new PutObjectTaggingCommand({
            Bucket: this.options.bucketName,
            Key: key,
            Tagging: { TagSet: [{ Key: RETENTION_TAG.key, Value: RETENTION_TAG.accepted }] },
          }),
        );
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queue.length) }, worker));
  }
}
