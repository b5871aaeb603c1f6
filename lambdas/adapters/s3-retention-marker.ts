/** RetentionMarker on S3: re-tags each accepted object `upload-state=accepted` (the lifecycle keys on it). */
import { PutObjectTaggingCommand, type S3Client } from '@aws-sdk/client-s3';
import type { RetentionMarker } from '../core/ports';
import { RETENTION_TAG } from '../core/retention';
import { forEachInParallel } from './parallel';

/** Parallel tagging requests per accepted session: fast for hundreds of files, gentle on S3. */
const CONCURRENCY = 16;

export class S3RetentionMarker implements RetentionMarker {
  constructor(private readonly options: { s3: S3Client; bucketName: string }) {}

  async markAccepted(keys: readonly string[]): Promise<void> {
    await forEachInParallel(keys, CONCURRENCY, async (key) => {
      await this.options.s3.send(
        new PutObjectTaggingCommand({
          Bucket: this.options.bucketName,
          Key: key,
          Tagging: { TagSet: [{ Key: RETENTION_TAG.key, Value: RETENTION_TAG.accepted }] },
        }),
      );
    });
  }
}
