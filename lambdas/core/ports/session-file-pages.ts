import type { FileRecord } from '../model';

/** What a page shows of each file: the declaration and its status, not the header the inspector read. */
export type FileSummary = Pick<FileRecord, 'fileId' | 'clientId' | 'name' | 'kind' | 'size' | 'studyInstanceUid' | 'status' | 'reason' | 'createdAt' | 'sha256'>;

/** One page of a session's files, REMOVED ones included, and where the next page starts. */
export interface FilesPage {
  files: FileSummary[];
  nextCursor?: string;
}

/** The session's files a page at a time, in a stable order (GET /sessions/{id}). */
export interface SessionFilePages {
  loadFilesPage(sessionId: string, page: { cursor?: string; limit: number }): Promise<FilesPage>;
}
