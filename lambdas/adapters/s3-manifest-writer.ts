/** ManifestWriter on S3: sessions/{id}/manifest.json, encrypted by the bucket's default KMS key. */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ManifestWriter } from '../core/inspection-ports';
import { manifestKeyFor } from '../core/model';
import { retentionTagging } from '../core/retention';

export class S3ManifestWriter implements ManifestWriter {
  constructor(private readonly options: { s3: S3Client; bucketName: string }) {}

  async write(sessionId: string, manifest: unknown): Promise<{ key: string }> {
    const key = manifestKeyFor(sessionId);
    await this.options.s3.send(
      new PutObjectCommand({
        Bucket: this.options.bucketName,
        Key: key,
        Body: JSON.stringify(manifest, null, 2),
        ContentType: 'application/json; charset=utf-8',
        Tagging: retentionTagging('accepted'),
      }),
    );
    return { key };
  }
}
