/** Deletes uploaded objects (ObjectRemover port). S3 answers 204 for a missing key too. */
import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ObjectRemover } from '../core/ports';

export class S3ObjectRemover implements ObjectRemover {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async remove(key: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }
}
