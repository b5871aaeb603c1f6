/** Domain types shared by the API, the inspector, local mode and the portal. No AWS imports. */
import type { HeaderFields } from './dicom/types';
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
}

/** A reason a session was rejected, per offending file when there is one. */
export interface RejectionReason {
  code: MessageCode;
  message: string;
  fileId?: string;
}

/** The object key of a declared file. No file name or patient data goes into it. */
export function objectKeyFor(sessionId: string, fileId: string): string {
  return `sessions/${sessionId}/files/${fileId}`;
}

export function manifestKeyFor(sessionId: string): string {
  return `sessions/${sessionId}/manifest.json`;
}

/** Parses `sessions/{sessionId}/files/{fileId}` (already URL-decoded); anything else is null. */
export function parseObjectKey(key: string): { sessionId: string; fileId: string } | null {
  const match = /^sessions\/([A-Za-z0-9_-]{1,64})\/files\/([A-Za-z0-9_-]{1,64})$/.exec(key);
  return match ? { sessionId: match[1]!, fileId: match[2]! } : null;
}
