/** RetentionMarker on S3: re-tags each accepted object `upload-state=accepted` (the lifecycle keys on it). */
import { GetObjectTaggingCommand, PutObjectTaggingCommand, type S3Client, type Tag } from '@aws-sdk/client-s3';
import type { RetentionMarker } from '../core/ports';
import { RETENTION_TAG } from '../core/retention';
import { forEachInParallel } from './parallel';

/** Parallel tagging requests per accepted session: fast for hundreds of files, gentle on S3. */
const CONCURRENCY = 16;

export class S3RetentionMarker implements RetentionMarker {
  /**
   * `keepOtherTags`: PutObjectTagging replaces the whole set, so with GuardDuty scanning the uploads its
   * GuardDutyMalwareScanStatus tag is read first and kept (delivery checks it); one more request per file.
   */
  constructor(private readonly options: { s3: S3Client; bucketName: string; keepOtherTags?: boolean }) {}

  async markAccepted(keys: readonly string[]): Promise<void> {
    const { s3, bucketName } = this.options;
    await forEachInParallel(keys, CONCURRENCY, async (key) => {
      const others: Tag[] = this.options.keepOtherTags
        ? ((await s3.send(new GetObjectTaggingCommand({ Bucket: bucketName, Key: key }))).TagSet ?? []).filter((tag) => tag.Key !== RETENTION_TAG.key)
        : [];
      await s3.send(
        new PutObjectTaggingCommand({
          Bucket: bucketName,
          Key: key,
          Tagging: { TagSet: [{ Key: RETENTION_TAG.key, Value: RETENTION_TAG.accepted }, ...others] },
        }),
      );
    });
  }
}
