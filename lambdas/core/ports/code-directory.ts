import type { SessionStatus, UploadCodeRecord } from '../model';

/** A code as the hospital sees it in its list: the code's record and what became of its session. */
export interface CodeDirectoryEntry extends UploadCodeRecord {
  revokedAt?: string;
  session?: { sessionId: string; status: SessionStatus; expiresAt: string; revokedAt?: string };
}

/** The institution's issued codes, oldest first, without scanning the table. */
export interface CodeDirectory {
  list(institutionId: string): Promise<CodeDirectoryEntry[]>;
}
