/**
 * SigV4 verification for the local S3 gate: the signature is recomputed with @smithy/signature-v4
 * (the SDK's own signer) from what arrived on the wire and compared with the one sent. Presigned
 * URLs (query auth) and the SDK clients' Authorization header (header auth) are both verified.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** What arrived: the raw path (as signed, still encoded), the decoded query, the headers. */
export interface ArrivedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
}

export type Verdict = { ok: true; signedHeaders: Set<string> } | { ok: false; code: string; message: string };

/** S3 allows header-signed requests this far from its clock. */
const MAX_CLOCK_SKEW_MS = 15 * 60_000;
const DATE_PATTERN = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

const refuse = (code: string, message: string): Verdict => ({ ok: false, code, message });

function parseAmzDate(value: string | undefined | null): Date | undefined {
  const m = value ? DATE_PATTERN.exec(value) : null;
  return m ? new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)) : undefined;
}

interface Scope {
  accessKeyId: string;
  region: string;
  service: string;
}

function parseCredentialScope(credential: string | undefined | null): Scope | undefined {
  const parts = credential?.split('/');
  if (!parts || parts.length !== 5 || parts[3] !== 's3' || parts[4] !== 'aws4_request') return undefined;
  return { accessKeyId: parts[0]!, region: parts[2]!, service: parts[3] };
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** The signed headers as the signer saw them; undefined when one of them did not arrive. */
function signedHeaderValues(headers: IncomingHttpHeaders, names: string[]): Record<string, string> | undefined {
  const picked: Record<string, string> = {};
  for (const name of names) {
    const value = headerValue(headers, name);
    if (value === undefined) return undefined;
    picked[name] = value;
  }
  return picked;
}

function queryRecord(query: URLSearchParams, without: string): Record<string, string | string[]> {
  const record: Record<string, string | string[]> = {};
  for (const [name, value] of query) {
    if (name === without) continue;
    const seen = record[name];
    record[name] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
  }
  return record;
}

function sameSignature(expected: string, received: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(received);
  return a.length === b.length && timingSafeEqual(a, b);
}

export class SigV4Verifier {
  constructor(private readonly credentials: Credentials[]) {}

  private signerFor(scope: Scope): SignatureV4 | undefined {
    const credentials = this.credentials.find((c) => c.accessKeyId === scope.accessKeyId);
    if (!credentials) return undefined;
    return new SignatureV4({ credentials, region: scope.region, service: scope.service, sha256: Sha256, uriEscapePath: false });
  }

  /** Anonymous requests get a verdict too: refused, as a private bucket refuses them. */
  async verify(request: ArrivedRequest, now: Date): Promise<Verdict> {
    if (request.query.has('X-Amz-Signature')) return this.verifyPresigned(request, now);
    if (headerValue(request.headers, 'authorization')) return this.verifyHeader(request, now);
    return refuse('AccessDenied', 'Access Denied');
  }

  private async verifyPresigned(request: ArrivedRequest, now: Date): Promise<Verdict> {
    const q = request.query;
    const scope = parseCredentialScope(q.get('X-Amz-Credential'));
    const signedAt = parseAmzDate(q.get('X-Amz-Date'));
    const expiresIn = Number(q.get('X-Amz-Expires'));
    const names = (q.get('X-Amz-SignedHeaders') ?? '').split(';').filter(Boolean);
    if (q.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256' || !scope || !signedAt || !Number.isInteger(expiresIn) || !names.includes('host')) {
      return refuse('AuthorizationQueryParametersError', 'The presigned URL is malformed');
    }
    if (now.getTime() > signedAt.getTime() + expiresIn * 1000) return refuse('AccessDenied', 'Request has expired');
    if (signedAt.getTime() - now.getTime() > MAX_CLOCK_SKEW_MS) return refuse('AccessDenied', 'Request is not yet valid');
    const signer = this.signerFor(scope);
    if (!signer) return refuse('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
    const headers = signedHeaderValues(request.headers, names);
    if (!headers) return refuse('AccessDenied', 'There were headers present in the request which were not signed');
    const signed = await signer.presign(
      // The body is a stream: a presigned S3 request's payload is UNSIGNED-PAYLOAD.
      { method: request.method, protocol: 'http:', hostname: 'gate', path: request.path, query: queryRecord(q, 'X-Amz-Signature'), headers, body: {} },
      { signingDate: signedAt, expiresIn, signableHeaders: new Set(names), unhoistableHeaders: new Set(names) },
    );
    const expected = signed.query?.['X-Amz-Signature'];
    if (typeof expected !== 'string' || !sameSignature(expected, q.get('X-Amz-Signature')!)) {
      return refuse('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
    }
    return { ok: true, signedHeaders: new Set(names) };
  }

  private async verifyHeader(request: ArrivedRequest, now: Date): Promise<Verdict> {
    const authorization = headerValue(request.headers, 'authorization')!;
    const m = /^AWS4-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/.exec(authorization);
    const scope = parseCredentialScope(m?.[1]);
    const signedAt = parseAmzDate(headerValue(request.headers, 'x-amz-date'));
    const names = (m?.[2] ?? '').split(';');
    if (!m || !scope || !signedAt || !names.includes('host') || !headerValue(request.headers, 'x-amz-content-sha256')) {
      return refuse('AuthorizationHeaderMalformed', 'The authorization header is malformed');
    }
    if (Math.abs(now.getTime() - signedAt.getTime()) > MAX_CLOCK_SKEW_MS) {
      return refuse('RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.');
    }
    const signer = this.signerFor(scope);
    if (!signer) return refuse('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
    const headers = signedHeaderValues(request.headers, names);
    if (!headers) return refuse('AccessDenied', 'There were headers present in the request which were not signed');
    const signed = await signer.sign(
      { method: request.method, protocol: 'http:', hostname: 'gate', path: request.path, query: queryRecord(request.query, ''), headers },
      { signingDate: signedAt, signableHeaders: new Set(names) },
    );
    const expected = /Signature=([0-9a-f]{64})$/.exec(String(signed.headers.authorization))?.[1];
    if (!expected || !sameSignature(expected, m[3]!)) {
      return refuse('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
    }
    return { ok: true, signedHeaders: new Set(names) };
  }
}
