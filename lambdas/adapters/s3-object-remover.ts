/** ObjectRemover on S3: one object, or every object under sessions/{id}/. S3 answers 204 for a missing key too, so a retry is harmless. */
import { DeleteObjectCommand, DeleteObjectsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { ObjectRemover } from '../core/ports';

export class S3ObjectRemover implements ObjectRemover {
  constructor(private readonly options: { s3: S3Client; bucketName: string }) {}

  async deleteObject(key: string): Promise<void> {
    await this.options.s3.send(new DeleteObjectCommand({ Bucket: this.options.bucketName, Key: key }));
  }

  async deleteSessionObjects(sessionId: string): Promise<number> {
    const { s3, bucketName } = this.options;
    let deleted = 0;
    // Pages of up to 1000 keys, each deleted in one DeleteObjects call; a later page starts fresh
    // because the previous one is gone.
    for (;;) {
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucketName, Prefix: `sessions/${sessionId}/`, MaxKeys: 1000 }));
      const keys = (listed.Contents ?? []).map((o) => o.Key!).filter(Boolean);
      if (keys.length === 0) return deleted;
      const out = await s3.send(
        new DeleteObjectsCommand({ Bucket: bucketName, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } }),
      );
      if (out.Errors?.length) throw new Error(`S3 refused to delete ${out.Errors.length} object(s): ${out.Errors[0]?.Code ?? 'unknown'}`);
      deleted += keys.length;
      if (!listed.IsTruncated) return deleted;
    }
  }
}
