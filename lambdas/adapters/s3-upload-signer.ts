/**
 * Presigned PUT URLs (UploadSigner port). Content-Length, Content-Type, `x-amz-checksum-sha256`,
 * `If-None-Match: *` and the pending retention tag are signed headers: S3 refuses a body of another
 * size or SHA-256, a replacement of an object that exists, and a request without any of them. The
 * S3Client must be created with requestChecksumCalculation 'WHEN_REQUIRED', or the URL would carry
 * a checksum of an empty body.
 *
 * The bucket's endpoint is resolved once through the SDK (getSignedUrl of a probe key); each URL is
 * then signed directly with S3RequestPresigner, skipping the per-command middleware stack, which
 * cost several milliseconds per file and dominated an upload request.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl, S3RequestPresigner } from '@aws-sdk/s3-request-presigner';
import type { UploadSigner } from '../core/ports';
import { retentionTagging } from '../core/retention';

const PROBE_KEY = 'endpoint-probe';

interface BucketEndpoint {
  protocol: string;
  hostname: string;
  port?: number;
  /** The path before the key: `/` (virtual-hosted style) or `/<bucket>/` (path style). */
  pathPrefix: string;
}

export class S3UploadSigner implements UploadSigner {
  private readonly presigner: S3RequestPresigner;
  private endpoint?: Promise<BucketEndpoint>;

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {
    this.presigner = new S3RequestPresigner({ ...s3.config });
  }

  private bucketEndpoint(): Promise<BucketEndpoint> {
    this.endpoint ??= getSignedUrl(this.s3, new PutObjectCommand({ Bucket: this.bucket, Key: PROBE_KEY }), { expiresIn: 60 }).then((signed) => {
      const url = new URL(signed);
      if (!url.pathname.endsWith(`/${PROBE_KEY}`)) throw new Error(`Unexpected presigned URL layout for bucket ${this.bucket}`);
      return {
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        pathPrefix: url.pathname.slice(0, -PROBE_KEY.length),
      };
    });
    // A failed resolution (e.g. credentials not yet available) is retried on the next request.
    this.endpoint.catch(() => (this.endpoint = undefined));
    return this.endpoint;
  }

  /**
   * Presigns `method` on `key` with `headers` signed. Headers named in `unhoistable` stay headers
   * (S3 reads tagging, checksums and conditions from headers only); the rest of x-amz-* go in the query.
   */
  async presign(request: { method: string; key: string; query: Record<string, string>; headers: Record<string, string>; expiresInSeconds: number }): Promise<{ url: string; headers: Record<string, string> }> {
    const endpoint = await this.bucketEndpoint();
    const host = endpoint.port ? `${endpoint.hostname}:${endpoint.port}` : endpoint.hostname;
    const headers: Record<string, string> = { host, ...request.headers };
    const signed = await this.presigner.presign(
      {
        method: request.method,
        protocol: endpoint.protocol,
        hostname: endpoint.hostname,
        ...(endpoint.port ? { port: endpoint.port } : {}),
        // Our keys are [A-Za-z0-9_-] segments joined by '/': nothing to escape.
        path: `${endpoint.pathPrefix}${request.key}`,
        query: request.query,
        headers,
      },
      {
        expiresIn: request.expiresInSeconds,
        signableHeaders: new Set(Object.keys(request.headers)),
        unhoistableHeaders: new Set(Object.keys(request.headers).filter((h) => h.startsWith('x-amz-'))),
      },
    );
    const url = new URL(`${signed.protocol}//${host}${signed.path}`);
    for (const [name, value] of Object.entries(signed.query ?? {})) {
      for (const v of Array.isArray(value) ? value : [value]) if (v !== null) url.searchParams.append(name, v);
    }
    // Browsers set Content-Length themselves and refuse it from scripts; it is signed all the same.
    const { 'content-length': _length, ...clientHeaders } = request.headers;
    return { url: url.toString(), headers: clientHeaders };
  }

  signPut(request: Parameters<UploadSigner['signPut']>[0]): Promise<{ url: string; headers: Record<string, string> }> {
    return this.presign({
      method: 'PUT',
      key: request.key,
      query: { 'x-id': 'PutObject' },
      headers: {
        'content-length': String(request.contentLength),
        'content-type': request.contentType,
        // S3 refuses bytes of another SHA-256 and never replaces an object that exists.
        'x-amz-checksum-sha256': request.sha256,
        'if-none-match': '*',
        // Every upload starts as pending data: the bucket lifecycle expires it after retention.pendingDays
        // unless the sweeper re-tags it accepted once its session is.
        'x-amz-tagging': retentionTagging('pending'),
      },
      expiresInSeconds: request.expiresInSeconds,
    });
  }
}
