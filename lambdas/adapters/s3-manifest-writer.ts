/**
 * ManifestWriter on S3: sessions/{id}/manifest.json, encrypted by the bucket's default KMS key.
 * Written without a retention tag: the pending rule only matches `upload-state=pending`, so the
 * manifest is kept like accepted data (the bucket's ceiling rule), and needs no tagging grant.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ManifestWriter } from '../core/ports';
import { manifestKeyFor } from '../core/model';

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
      }),
    );
    return { key };
  }
}
