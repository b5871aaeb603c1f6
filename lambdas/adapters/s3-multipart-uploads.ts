/**
 * Multipart uploads on S3 (MultipartUploads port). Uploads are created with ChecksumAlgorithm
 * SHA256, so S3 verifies every part against the checksum its URL signs; completion names each
 * part's checksum as S3 holds it (ListParts), and If-None-Match: * keeps it from replacing an object.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListPartsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { CompletionOutcome, MultipartUploads, StoredPart } from '../core/ports/multipart-uploads';
import { retentionTagging } from '../core/retention';
import type { S3UploadSigner } from './s3-upload-signer';

const statusOf = (error: unknown) => (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
const nameOf = (error: unknown) => (error as { name?: string }).name;

export class S3MultipartUploads implements MultipartUploads {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly signer: S3UploadSigner,
  ) {}

  async create(request: { key: string; contentType: string }): Promise<string> {
    const out = await this.s3.send(
      new CreateMultipartUploadCommand({
        Bucket: this.bucket,
        Key: request.key,
        ContentType: request.contentType,
        ChecksumAlgorithm: 'SHA256',
        // Pending data until its session is accepted, as a single PUT is tagged.
        Tagging: retentionTagging('pending'),
      }),
    );
    if (!out.UploadId) throw new Error('CreateMultipartUpload answered no UploadId');
    return out.UploadId;
  }

  signPart(request: Parameters<MultipartUploads['signPart']>[0]): Promise<{ url: string; headers: Record<string, string> }> {
    return this.signer.presign({
      method: 'PUT',
      key: request.key,
      query: { 'x-id': 'UploadPart', partNumber: String(request.partNumber), uploadId: request.uploadId },
      headers: { 'content-length': String(request.contentLength), 'x-amz-checksum-sha256': request.sha256 },
      expiresInSeconds: request.expiresInSeconds,
    });
  }

  async listParts(request: { key: string; uploadId: string }): Promise<StoredPart[] | undefined> {
    const parts: StoredPart[] = [];
    let marker: string | undefined;
    try {
      // At most 10,000 parts: ten pages.
      do {
        const out = await this.s3.send(new ListPartsCommand({ Bucket: this.bucket, Key: request.key, UploadId: request.uploadId, PartNumberMarker: marker, MaxParts: 1000 }));
        for (const p of out.Parts ?? []) {
          parts.push({ partNumber: p.PartNumber!, size: p.Size!, etag: p.ETag!, ...(p.ChecksumSHA256 ? { sha256: p.ChecksumSHA256 } : {}) });
        }
        marker = out.IsTruncated ? out.NextPartNumberMarker : undefined;
      } while (marker);
    } catch (error) {
      if (nameOf(error) === 'NoSuchUpload' || statusOf(error) === 404) return undefined;
      throw error;
    }
    return parts;
  }

  async complete(request: { key: string; uploadId: string; parts: StoredPart[] }): Promise<CompletionOutcome> {
    try {
      await this.s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: request.key,
          UploadId: request.uploadId,
          IfNoneMatch: '*',
          MultipartUpload: { Parts: request.parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag, ...(p.sha256 ? { ChecksumSHA256: p.sha256 } : {}) })) },
        }),
      );
      return 'completed';
    } catch (error) {
      if (statusOf(error) === 412) return 'object-exists';
      if (nameOf(error) === 'NoSuchUpload' || statusOf(error) === 404) return 'no-such-upload';
      if (['InvalidPart', 'InvalidPartOrder', 'EntityTooSmall'].includes(nameOf(error) ?? '')) return 'parts-mismatch';
      throw error;
    }
  }

  async abort(request: { key: string; uploadId: string }): Promise<void> {
    try {
      await this.s3.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: request.key, UploadId: request.uploadId }));
    } catch (error) {
      if (nameOf(error) === 'NoSuchUpload' || statusOf(error) === 404) return;
      throw error;
    }
  }
}
