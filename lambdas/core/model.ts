/** Domain types shared by the API, the inspector, local mode and the portal. No AWS imports. */
import type { MultipartTransfer } from './transfers';
import type { HeaderFields } from './dicom/types';
import type { StudyHeader } from './study-header';
import { ID_PATTERN_SOURCE } from './limits';
import type { MessageCode } from './messages';

export type AttachmentType = 'pdf' | 'jpeg' | 'png';
export type FileKind = 'dicom' | 'attachment';

export interface Limits {
  maxSessionBytes: number;
  maxStudyBytes: number;
  maxDicomFilesAtOnce: number;
  maxAttachmentsPerStudy: number;
  maxAttachmentBytes: number;
  allowedAttachmentTypes: AttachmentType[];
  /** Files of at least this size travel as multipart uploads (absent on sessions opened before it existed: the default). */
  multipartThresholdBytes?: number;
}

export type SessionStatus = 'OPEN' | 'COMPLETING' | 'ACCEPTED' | 'REJECTED' | 'EXPIRED';

/**
 * A declared file's lifecycle: RESERVED (URL issued) → RECEIVED (object seen) → VERIFIED | REJECTED.
 * REMOVED when the uploader deleted it (its reservation released once).
 */
export type FileStatus = 'RESERVED' | 'RECEIVED' | 'VERIFIED' | 'REJECTED' | 'REMOVED';

/** What the inspector read from a DICOM header, kept for the manifest. PHI: never log it. */
export type HeaderSummary = Omit<HeaderFields, 'mediaStorageSopClassUid' | 'specificCharacterSet'>;

/** A rule broken, with its code and its exact, formatted message. */
export interface Violation {
  code: MessageCode;
  message: string;
  /** Client ids or file ids the violation is about, when it is about particular files. */
  files?: string[];
  studyInstanceUid?: string;
  details?: Record<string, unknown>;
  /** The placeholders' values, so the message can be rendered in another language. */
  params?: readonly unknown[] | Record<string, unknown>;
}

/** A reason a session was rejected, per offending file when there is one. */
export interface RejectionReason {
  code: MessageCode;
  message: string;
  fileId?: string;
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

export interface ContactDetails {
  email?: string;
  phone?: string;
}

/** The session item: its state, limits, reservations, and the outcome once decided. */
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
  /** When the session became REJECTED (its event says so, whoever publishes it). */
  rejectedAt?: string;
  /** When the completion lock was taken (status COMPLETING). */
  completingSince?: string;
  rejection?: RejectionReason[];
  contact?: ContactDetails;
  manifestKey?: string;
  acceptedBytes?: number;
  /** Set once the session's final event (accepted or rejected) was published. */
  eventPublishedAt?: string;
  /** ACCEPTED, and its files still await the `accepted` retention tag (core/apply-retention.ts). */
  retentionDueSince?: string;
  /** Files judged so far, kept by the verdicts (absent is 0): GET's counts read them, not the files. */
  verifiedCount?: number;
  rejectedCount?: number;
  /** Set when the hospital revoked the code while this session was OPEN (the session then EXPIRED). */
  revokedAt?: string;
}

/** Per-study totals of the files not removed, and the uploader's comment once completed. */
export interface StudyRecord {
  studyInstanceUid: string;
  bytes: number;
  dicomCount: number;
  attachmentCount: number;
  comment?: string;
  /** Kept by the verdicts like the session's counters (absent is 0): GET shows them without reading the files. */
  receivedBytes?: number;
  verifiedCount?: number;
  rejectedCount?: number;
  /** The header fields of its first verified files (core/study-header.ts); absent on studies judged before they were kept. */
  header?: StudyHeader;
  /** After acceptance: its delivery to the hospital (core/deliver-accepted-session.ts). */
  delivery?: StudyDelivery;
}

export type DeliveryState = 'PENDING' | 'SUBMITTED' | 'DELIVERED' | 'FAILED';

/** One import job of a study (HealthImaging): its chunk of the study's files and how it ended. */
export interface ImportJobState {
  /** 0-based; chunk k always holds the same files, so it keeps its staging prefix and client token. */
  chunk: number;
  /** Absent when the job could not be started. */
  jobId?: string;
  state: 'SUBMITTED' | 'DELIVERED' | 'FAILED';
  /** Jobs started for this chunk (a retry adds one). */
  attempts: number;
  instances?: number;
  reason?: string;
  retryable?: boolean;
}

/** A study's delivery as everyone sees it: GET /sessions/{id}, the portal, the events. */
export interface StudyDelivery {
  state: DeliveryState;
  target: 'dicomweb' | 'healthimaging';
  updatedAt: string;
  /** How many deliveries of this study were started (a retry adds one). */
  attempts: number;
  instances?: number;
  /** Asynchronous targets: the job whose result is read back later (the first still running). */
  jobId?: string;
  /** HealthImaging: one entry per import job the study needs (its quotas bound a job's files and bytes). */
  jobs?: ImportJobState[];
  /** FAILED: why, in words without patient data; retryable when a later attempt may succeed. */
  reason?: string;
  retryable?: boolean;
  /** Read only: this final state's event is not marked published yet (StudyEventOutbox); never stored in the delivery. */
  eventPending?: boolean;
}

/** A declared file: what the upload request said, and the inspector's verdict once it has one. */
export interface FileRecord {
  sessionId: string;
  fileId: string;
  clientId: string;
  /** The uploader's file name: PHI-adjacent, only for the manifest, never logged, never in a key. */
  name: string;
  kind: FileKind;
  size: number;
  studyInstanceUid: string;
  sopInstanceUid?: string;
  contentType?: string;
  attachmentType?: AttachmentType;
  /** Base64 SHA-256 the uploader declared; every write of the object is signed with it (absent on older files). */
  sha256?: string;
  /** Set once a multipart upload was started for the file. */
  multipart?: MultipartTransfer;
  objectKey: string;
  status: FileStatus;
  reason?: RejectionReason;
  createdAt: string;
  receivedAt?: string;
  header?: HeaderSummary;
  detectedType?: string;
  inspectionBytesRead?: number;
  etag?: string;
  inspectedAt?: string;
  /** GuardDuty's scan result for the object, when the institution scans uploads (core/malware-scan.ts). */
  malwareScan?: string;
}

/** Everything stored about one session: the session item plus its studies and files. */
export interface SessionState {
  session: SessionRecord;
  studies: StudyRecord[];
  files: FileRecord[];
}

/** The session item plus its study items: what an upload request needs, without the files. */
export interface SessionTotals {
  session: SessionRecord;
  studies: StudyRecord[];
}

/** The inspector's verdict on one file. */
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

/** What an accepted session stores with its new status. */
export interface AcceptedState {
  completedAt: string;
  manifestKey: string;
  acceptedBytes: number;
  contact?: ContactDetails;
  comments: Record<string, string>;
}

/** The object key of a declared file. No file name or patient data goes into it. */
export function objectKeyFor(sessionId: string, fileId: string): string {
  return `sessions/${sessionId}/files/${fileId}`;
}

export function manifestKeyFor(sessionId: string): string {
  return `sessions/${sessionId}/manifest.json`;
}

const OBJECT_KEY = new RegExp(`^sessions/(${ID_PATTERN_SOURCE})/files/(${ID_PATTERN_SOURCE})$`);
const MANIFEST_KEY = new RegExp(`^sessions/${ID_PATTERN_SOURCE}/manifest\\.json$`);

export function isManifestKey(key: string): boolean {
  return MANIFEST_KEY.test(key);
}

/** Parses `sessions/{sessionId}/files/{fileId}` (already URL-decoded); anything else is null. */
export function parseObjectKey(key: string): { sessionId: string; fileId: string } | null {
  const match = OBJECT_KEY.exec(key);
  return match ? { sessionId: match[1]!, fileId: match[2]! } : null;
}
