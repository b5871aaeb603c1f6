/** The portal's client for the HTTP API (DESIGN.md "HTTP API"). Errors keep the server's code and message. */
import type { SessionView } from '../../lambdas/core/sessions';
import type { Limits, RejectionReason, SessionStatus, Violation } from '../../lambdas/core/model';

export interface Institution {
  name: string;
  phone?: string;
  email?: string;
  manualUrl?: string;
  privacyPolicyUrl?: string;
}

export interface Usage {
  reservedBytes: number;
  receivedBytes: number;
}

export interface CreatedSession {
  sessionId: string;
  token: string;
  status: SessionStatus;
  expiresAt: string;
  institution: Institution;
  limits: Limits;
  usage: Usage;
}

export interface SessionFile {
  fileId: string;
  clientId?: string;
  name: string;
  kind: 'dicom' | 'attachment';
  size: number;
  studyInstanceUid?: string;
  status: string;
  /** The SHA-256 it was declared with: a reloaded portal recognises the same file added again by it. */
  sha256?: string;
  reason?: string;
}

export interface SessionState {
  sessionId?: string;
  status: SessionStatus;
  limits: Limits;
  usage: Usage;
  files: SessionFile[];
  /** Per study: totals, the header fields the inspector read and, once delivery reports it, its delivery. */
  studies?: SessionView['studies'];
  /** GET /sessions/{id} names them `rejection`; POST …/complete answers `reasons`. */
  rejection?: RejectionReason[];
  reasons?: RejectionReason[];
  institution?: Institution;
  expiresAt?: string;
  /** Files declared and judged so far: what to poll during an upload, whatever the number of files. */
  counts?: { declared: number; received: number; verified: number; rejected: number };
  /** Present when GET /sessions/{id} has more files than this page: `?cursor=` fetches the next. */
  nextCursor?: string;
  /** The hospital revoked the code while the session was open. */
  revokedAt?: string;
}

export interface UploadRequestFile {
  clientId: string;
  name: string;
  size: number;
  kind: 'dicom' | 'attachment';
  studyInstanceUid: string;
  sopInstanceUid?: string;
  contentType?: string;
  /** Base64 SHA-256 of the bytes: S3 refuses any others. */
  sha256: string;
}

/** A presigned PUT (`url`, `headers`, `expiresAt`) or, for `method: "MULTIPART"`, the multipart upload's plan. */
export interface UploadGrant {
  clientId: string;
  fileId: string;
  url: string;
  method: string;
  headers: Record<string, string>;
  expiresAt: string;
  uploadId?: string;
  partSize?: number;
  partCount?: number;
}

export interface PartGrant {
  partNumber: number;
  url: string;
  headers: Record<string, string>;
  expiresAt: string;
}

export interface HeldPart {
  partNumber: number;
  size: number;
  etag: string;
}

export interface CompleteRequest {
  studies: { studyInstanceUid: string; comment?: string }[];
  contact: { email?: string; phone?: string };
  consent: { privacyPolicy: true; dataSharing: true };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: { violations?: Violation[]; [key: string]: unknown },
  ) {
    super(message);
    this.name = 'ApiError';
  }

  get violations(): Violation[] {
    return this.details?.violations ?? [];
  }
}

const fileRoute = (sessionId: string, fileId: string) => `/sessions/${encodeURIComponent(sessionId)}/files/${encodeURIComponent(fileId)}`;

export type FetchFn = (input: string, init?: RequestInit) => Promise<Response>;

export class ApiClient {
  token?: string;

  constructor(
    readonly baseUrl: string,
    private readonly fetchFn: FetchFn = (input, init) => fetch(input, init),
  ) {}

  createSession(uploadCode: string): Promise<CreatedSession> {
    return this.call('POST', '/sessions', { uploadCode });
  }

  /** The session's state and counts with its first page of files (at most 1,000): cheap to poll. */
  getSessionSummary(sessionId: string, cursor?: string): Promise<SessionState> {
    const query = cursor ? `?cursor=${encodeURIComponent(cursor)}` : '';
    return this.call('GET', `/sessions/${encodeURIComponent(sessionId)}${query}`);
  }

  /** The session's state with every file, its pages fetched in turn (resuming needs them all). */
  async getSession(sessionId: string): Promise<SessionState> {
    const first = await this.getSessionSummary(sessionId);
    const files = [...first.files];
    for (let cursor = first.nextCursor; cursor; ) {
      const page = await this.getSessionSummary(sessionId, cursor);
      files.push(...page.files);
      cursor = page.nextCursor;
    }
    const { nextCursor: _last, ...state } = first;
    return { ...state, files };
  }

  requestUploads(sessionId: string, files: UploadRequestFile[]): Promise<{ uploads: UploadGrant[] }> {
    return this.call('POST', `/sessions/${encodeURIComponent(sessionId)}/uploads`, { files });
  }

  removeFile(sessionId: string, fileId: string): Promise<unknown> {
    return this.call('DELETE', `/sessions/${encodeURIComponent(sessionId)}/files/${encodeURIComponent(fileId)}`);
  }

  /** Presigned URLs for parts of a multipart upload (at most MAX_PARTS_PER_REQUEST a call). */
  signParts(sessionId: string, fileId: string, parts: { partNumber: number; size: number; sha256: string }[]): Promise<{ parts: PartGrant[] }> {
    return this.call('POST', `${fileRoute(sessionId, fileId)}/parts`, { parts });
  }

  /** The parts S3 holds for a multipart upload: what a resumed upload need not send again. */
  listParts(sessionId: string, fileId: string): Promise<{ parts: HeldPart[] }> {
    return this.call('GET', `${fileRoute(sessionId, fileId)}/parts`);
  }

  finishUpload(sessionId: string, fileId: string, parts: { partNumber: number; etag: string }[]): Promise<{ fileId: string; status: string }> {
    return this.call('POST', `${fileRoute(sessionId, fileId)}/finish`, { parts });
  }

  /** The file's grant again: a fresh presigned PUT, or its multipart upload. */
  renewUpload(sessionId: string, fileId: string): Promise<Omit<UploadGrant, 'clientId'>> {
    return this.call('POST', `${fileRoute(sessionId, fileId)}/upload-url`);
  }

  complete(sessionId: string, body: CompleteRequest): Promise<SessionState> {
    return this.call('POST', `/sessions/${encodeURIComponent(sessionId)}/complete`, body);
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let response: Response;
    try {
      response = await this.fetchFn(this.baseUrl.replace(/\/$/, '') + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new ApiError(0, 'NETWORK', error instanceof Error ? error.message : 'network error');
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      json = {};
    }
    if (!response.ok) {
      const err = (json as { error?: { code?: string; message?: string; details?: ApiError['details'] } }).error;
      throw new ApiError(response.status, err?.code ?? `HTTP_${response.status}`, err?.message ?? response.statusText, err?.details);
    }
    return json as T;
  }
}
