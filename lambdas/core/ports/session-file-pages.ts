import type { FileRecord } from '../model';

/** One page of a session's files, REMOVED ones included, and where the next page starts. */
export interface FilesPage {
  files: FileRecord[];
  nextCursor?: string;
}

/** The session's files a page at a time, in a stable order (GET /sessions/{id}). */
export interface SessionFilePages {
  loadFilesPage(sessionId: string, page: { cursor?: string; limit: number }): Promise<FilesPage>;
}
