/**
 * Ports of the HTTP API's use cases: capabilities the core needs from the outside world. Adapters in
 * lambdas/adapters implement them (DynamoDB, S3, node:crypto); the use cases never import adapters.
 */
import type { AttachmentType, FileKind, FileStatus, Limits, RejectionReason, SessionStatus } from './model';

/** The current time; injected so tests and benches control it. */
export interface Clock {
  now(): Date;
}

/** Unguessable, URL-safe identifiers (session and file ids; they appear in object keys). */
export interface Ids {
  newId(): string;
}

/** Cryptographically secure random bytes (codes and session tokens are built from them). */
export interface RandomSource {
  bytes(length: number): Uint8Array;
}

/** One-way hashing of secrets (codes, tokens, client addresses) and constant-time comparison. */
export interface SecretHasher {
  /** Lowercase hex SHA-256 of the UTF-8 text. */
  hash(secret: string): string;
  /** True when hash(secret) equals `expectedHash`, compared in constant time. */
  matches(secret: string, expectedHash: string): boolean;
}

/** An upload code as stored: only its hash, never the code itself. */
export interface UploadCodeRecord {
  codeHash: string;
  institutionId: string;
  createdAt: string;
  expiresAt: string;
  maxSessionBytes?: number;
  reference?: string;
  revoked: boolean;
  /** Set once the code was redeemed: the session it opened (and resumes while OPEN). */
  sessionId?: string;
}

export interface CodeStore {
  /** Stores a new code; a hash collision (never expected with ≥80 bits) throws. */
  create(code: UploadCodeRecord, ttlEpochSeconds: number): Promise<void>;
  get(codeHash: string): Promise<UploadCodeRecord | undefined>;
  /**
   * Marks the code revoked and, when its session is still OPEN, ends that session (EXPIRED), so a
   * code sent to the wrong person stops working everywhere. False when no such code exists.
   */
  revoke(codeHash: string, now: Date): Promise<boolean>;
}

export interface SessionRecord {
  sessionId: string;
  institutionId: string;
  tokenHash: string;
  codeHash: string;
  codeReference?: string;
  status: SessionStatus;
  limits: Limits;
  reservedBytes: number;
  receivedBytes: number;
  dicomCount: number;
  attachmentCount: number;
  version: number;
  createdAt: string;
  expiresAt: string;
  completedAt?: string;
  rejection?: RejectionReason[];
}

/** A file declared in an upload request (the table's file item without its keys). */
export interface DeclaredFile {
  sessionId: string;
  fileId: string;
  clientId: string;
  /** The uploader's file name: PHI-adjacent, never logged, never in a key. */
  name: string;
  kind: FileKind;
  size: number;
  studyInstanceUid: string;
  sopInstanceUid?: string;
  contentType?: string;
  attachmentType?: AttachmentType;
  objectKey: string;
  status: FileStatus;
  reason?: RejectionReason;
  createdAt: string;
  receivedAt?: string;
}

export interface StudyRecord {
  studyInstanceUid: string;
  bytes: number;
  dicomCount: number;
  attachmentCount: number;
  comment?: string;
}

/** Everything stored about one session: the session item plus its studies and files. */
export interface SessionState {
  session: SessionRecord;
  studies: StudyRecord[];
  files: DeclaredFile[];
}

/** The session item plus its study items (per-study bytes and counts of the files not removed). */
export interface SessionTotals {
  session: SessionRecord;
  studies: StudyRecord[];
}

export interface SessionStore {
  /**
   * Creates the session and claims the code for it in one atomic step. 'code-taken' when the code
   * was claimed, revoked or expired meanwhile (the caller re-reads the code and decides).
   */
  createWithCode(session: SessionRecord, claim: { codeHash: string; now: Date }, ttlEpochSeconds: number): Promise<'created' | 'code-taken'>;
  get(sessionId: string): Promise<SessionRecord | undefined>;
  getFile(sessionId: string, fileId: string): Promise<DeclaredFile | undefined>;
  /** The session with all its studies and files (REMOVED files included). */
  loadState(sessionId: string): Promise<SessionState | undefined>;
  /**
   * The session and its study totals only, no file items: what an upload request needs, at a cost
   * that does not grow with the number of files declared. Optional; without it loadState is used.
   */
  loadTotals?(sessionId: string): Promise<SessionTotals | undefined>;
  /** Replaces the token hash while the session is OPEN; false when it is not OPEN (or gone). */
  replaceToken(sessionId: string, tokenHash: string): Promise<boolean>;
}

/** What one upload request adds to a study. */
export interface StudyIncrement {
  studyInstanceUid: string;
  bytes: number;
  dicomFiles: number;
  attachments: number;
}

export interface Reservation {
  sessionId: string;
  /** The new file items (status RESERVED). */
  files: DeclaredFile[];
  studies: StudyIncrement[];
  bytes: number;
  dicomFiles: number;
  attachments: number;
  /** The limits the store enforces atomically (the session's stored limits). */
  limits: Pick<Limits, 'maxSessionBytes' | 'maxStudyBytes' | 'maxAttachmentsPerStudy'>;
  now: Date;
  ttlEpochSeconds: number;
}

/**
 * Why a reservation was refused by the store's atomic guard. 'session' covers a session that is no
 * longer OPEN or would exceed its byte limit; 'conflict' is a concurrent write (worth retrying).
 */
export type ReservationRefusal = 'session' | 'study' | 'duplicate-sop' | 'file-exists' | 'conflict';

export interface ReservationStore {
  /**
   * Reserves bytes, counts, file items and SOP Instance UIDs all at once or not at all; the store
   * guarantees no limit is ever overshot, whatever runs concurrently.
   */
  reserve(reservation: Reservation): Promise<{ ok: true } | { ok: false; refusal: ReservationRefusal }>;
  /**
   * Marks the file REMOVED and gives back its bytes and counts, exactly once: the file must still be
   * in `file.status` and the session OPEN. 'stale' when either changed meanwhile (re-read and retry).
   */
  release(file: DeclaredFile, now: Date): Promise<'released' | 'stale'>;
}

export interface UploadSigner {
  /** A presigned PUT for exactly `key` and `contentLength` bytes (and the content type, when given). */
  signPut(request: { key: string; contentLength: number; contentType?: string; expiresInSeconds: number }): Promise<{
    url: string;
    /** Headers the uploader must send with the PUT (beyond Content-Length, which browsers set). */
    headers: Record<string, string>;
  }>;
}

export interface ObjectRemover {
  /** Deletes the object if it exists; a missing object is not an error. */
  remove(key: string): Promise<void>;
}

/** Counts failures per key in fixed windows (failed code redemptions per client address). */
export interface RateLimiter {
  /** Seconds until `key` may try again; 0 when it is not blocked. */
  blockedFor(key: string, now: Date): Promise<number>;
  recordFailure(key: string, now: Date): Promise<void>;
}
