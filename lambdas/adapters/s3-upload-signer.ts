/**
 * Presigned PUT URLs (UploadSigner port). Content-Length (and Content-Type, when declared) are signed
 * headers, so S3 refuses a body of another size. The S3Client must be created with
 * requestChecksumCalculation 'WHEN_REQUIRED', or the URL would carry a checksum of an empty body.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { UploadSigner } from '../core/ports';

export class S3UploadSigner implements UploadSigner {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async signPut(request: Parameters<UploadSigner['signPut']>[0]): Promise<{ url: string; headers: Record<string, string> }> {
    const command = new PutObjectCommand({
      Bucket: this.bucket,
      Key: request.key,
      ContentLength: request.contentLength,
      ...(request.contentType ? { ContentType: request.contentType } : {}),
    });
    const signed = new Set(['content-length', ...(request.contentType ? ['content-type'] : [])]);
    const url = await getSignedUrl(this.s3, command, { expiresIn: request.expiresInSeconds, signableHeaders: signed });
    const headers: Record<string, string> = request.contentType ? { 'Content-Type': request.contentType } : {};
    return { url, headers };
  }
}
