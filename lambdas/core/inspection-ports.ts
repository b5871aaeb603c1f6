/**
 * Ports of the inspection half: what the inspector, the completion and the sweep need from the
 * outside world. Adapters in lambdas/adapters implement them (S3, DynamoDB, EventBridge); local
 * mode and tests pass other implementations. No AWS imports here.
 */
import type { FileKind, FileStatus, HeaderSummary, Limits, RejectionReason, SessionStatus, AttachmentType } from './model';
import type { MessageCode } from './messages';

/** Reads uploaded objects without downloading them whole. */
export interface ObjectReader {
  /** Real size and ETag (quotes stripped) of an object, or null when it does not exist (any more). */
  head(key: string): Promise<{ size: number; etag?: string } | null>;
  /**
   * The object's first `length` bytes (fewer when it is shorter) with its real size and ETag, in one
   * read; null when it does not exist (any more). Spares the inspector a separate head().
   */
  readStart(key: string, length: number): Promise<ObjectStart | null>;
  /** Bytes [start, endExclusive) of an object; fewer only when the object is shorter. */
  readRange(key: string, start: number, endExclusive: number): Promise<Uint8Array>;
}

export interface ObjectStart {
  size: number;
  etag?: string;
  /** Bytes [0, min(length, size)). */
  bytes: Uint8Array;
}

/** Deletes uploaded objects: a stray one, or every object of a session. */
export interface SessionCleaner {
  deleteObject(key: string): Promise<void>;
  /** Deletes every object under sessions/{sessionId}/ (files and manifest); returns how many. */
  deleteSessionObjects(sessionId: string): Promise<number>;
}

/**
 * Marks accepted objects so the bucket lifecycle keeps them for the retention period instead of
 * expiring them as pending (see core/retention.ts).
 */
export interface RetentionMarker {
  markAccepted(keys: readonly string[]): Promise<void>;
}

/** Writes the manifest of an accepted session to sessions/{id}/manifest.json. */
export interface ManifestWriter {
  write(sessionId: string, manifest: unknown): Promise<{ key: string }>;
}

export interface UploadSessionAcceptedEvent {
  type: 'UploadSessionAccepted';
  sessionId: string;
  institutionId: string;
  manifestKey: string;
  studies: number;
  dicomFiles: number;
  attachments: number;
  bytes: number;
  completedAt: string;
}

/** Carries reason codes only: never a file name, never header data. */
export interface UploadSessionRejectedEvent {
  type: 'UploadSessionRejected';
  sessionId: string;
  institutionId: string;
  reasonCodes: MessageCode[];
  rejectedAt: string;
}

export type PortalEvent = UploadSessionAcceptedEvent | UploadSessionRejectedEvent;

/** The events' source: one per institution, so a shared bus and IAM conditions can tell them apart. */
export function eventSourceFor(institutionId: string): string {
  return `upload-portal.${institutionId}`;
}

/** Tells the hospital's systems about sessions (EventBridge in AWS; recorded in local mode). */
export interface EventPublisher {
  publish(event: PortalEvent): Promise<void>;
}

export type InspectionMetricName =
  | 'FilesInspected'
  | 'InspectionBytesRead'
  | 'SessionsAccepted'
  | 'SessionsRejected'
  | 'SessionsExpired'
  | 'BytesAccepted'
  | 'UnknownObjects';

/** Business metrics. The only dimension ever used is a reason code: no PHI, no ids. */
export interface InspectionMetrics {
  add(name: InspectionMetricName, value: number, unit: 'Count' | 'Bytes', reason?: MessageCode): void;
}

/** The structured logger's shape (Powertools' Logger fits). Never pass PHI or file names. */
export interface InspectionLog {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

export interface SessionRecord {
  sessionId: string;
  institutionId: string;
  status: SessionStatus;
  limits: Limits;
  reservedBytes: number;
  receivedBytes: number;
  codeReference?: string;
  createdAt: string;
  expiresAt: string;
  completedAt?: string;
  completingSince?: string;
  rejection?: RejectionReason[];
  contact?: { email?: string; phone?: string };
  manifestKey?: string;
  acceptedBytes?: number;
  /** Set once the session's final event (accepted or rejected) was published. */
  eventPublishedAt?: string;
  /** ACCEPTED, and its files still await the `accepted` retention tag (core/apply-retention.ts). */
  retentionDueSince?: string;
}

export interface FileRecord {
  sessionId: string;
  fileId: string;
  /** The uploader's file name: PHI-adjacent, only for the manifest, never logged. */
  name: string;
  kind: FileKind;
  size: number;
  studyInstanceUid: string;
  sopInstanceUid?: string;
  attachmentType?: AttachmentType;
  contentType?: string;
  objectKey: string;
  status: FileStatus;
  reason?: RejectionReason;
  header?: HeaderSummary;
  detectedType?: string;
  inspectionBytesRead?: number;
  etag?: string;
  createdAt: string;
  inspectedAt?: string;
}

export interface StudyRecord {
  studyInstanceUid: string;
  comment?: string;
}

export interface Verdict {
  status: 'VERIFIED' | 'REJECTED';
  /** The object's real size; added to the session's receivedBytes with the verdict. */
  size: number;
  etag?: string;
  reason?: RejectionReason;
  header?: HeaderSummary;
  detectedType?: string;
  inspectionBytesRead: number;
  inspectedAt: string;
}

export interface AcceptedState {
  completedAt: string;
  manifestKey: string;
  acceptedBytes: number;
  contact?: { email?: string; phone?: string };
  comments: Record<string, string>;
}

/** The session and file state the inspection half reads and writes (the one DynamoDB table in AWS). */
export interface VerdictStore {
  getSession(sessionId: string): Promise<SessionRecord | null>;
  getFile(sessionId: string, fileId: string): Promise<FileRecord | null>;
  /** Every file item of a session, REMOVED ones included. */
  listFiles(sessionId: string): Promise<FileRecord[]>;
  listStudies(sessionId: string): Promise<StudyRecord[]>;
  /**
   * Records a verdict once: the file moves from RESERVED/RECEIVED to VERIFIED/REJECTED and the
   * session's receivedBytes grows by the real size, in one transaction. 'already' when the file
   * was inspected (or removed) before: nothing changed.
   */
  recordVerdict(sessionId: string, fileId: string, verdict: Verdict): Promise<'recorded' | 'already'>;
  /**
   * Rejects the session (OPEN or COMPLETING → REJECTED) or adds reasons to an already rejected
   * one. Each key in `reasonKeys` is added once, so a retry adds nothing. Returns whether this
   * call moved the session to REJECTED and the state after it.
   */
  rejectSession(
    sessionId: string,
    reasons: RejectionReason[],
    reasonKey: string,
    at: string,
  ): Promise<{ transitioned: boolean; session: SessionRecord | null }>;
  /**
   * Takes the completion lock: OPEN → COMPLETING, or a COMPLETING lock older than `staleBefore`.
   * False when the session is in any other state.
   */
  lockForCompletion(sessionId: string, at: string, staleBefore: string): Promise<boolean>;
  /** Gives the lock back (COMPLETING → OPEN) when completion cannot go on yet. */
  releaseCompletionLock(sessionId: string): Promise<void>;
  /**
   * COMPLETING → ACCEPTED with the stored result and the per-study comments, due for retention
   * tagging (retentionDueSince = completedAt); false if the lock was lost.
   */
  markAccepted(sessionId: string, state: AcceptedState): Promise<boolean>;
  /**
   * Claims the right to publish the session's final event: true for exactly one caller until the
   * event is marked published, or until a claim older than `staleBefore` is taken over.
   */
  claimEventPublication(sessionId: string, at: string, staleBefore: string): Promise<boolean>;
  releaseEventClaim(sessionId: string): Promise<void>;
  markEventPublished(sessionId: string, at: string): Promise<void>;
  /**
   * What the sweep has to do: sessions still OPEN whose expiresAt is before `now`, EXPIRED ones
   * whose objects were not deleted yet, and ACCEPTED ones whose files await their retention tag.
   */
  findSessionsToSweep(now: string): Promise<SessionRecord[]>;
  /** The accepted session's files carry their retention tag: clears retentionDueSince. */
  markRetentionApplied(sessionId: string, at: string): Promise<void>;
  /** OPEN → EXPIRED, only if still OPEN and past its expiry. */
  markExpired(sessionId: string, now: string): Promise<boolean>;
  markObjectsDeleted(sessionId: string, at: string): Promise<void>;
}
