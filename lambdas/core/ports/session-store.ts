/** The session item with its studies and files (the one DynamoDB table in AWS). */
import type { FileRecord, SessionRecord, SessionState, SessionTotals, StudyRecord } from '../model';

export interface SessionStore {
  /**
   * Creates the session and claims the code for it in one atomic step. 'code-taken' when the code
   * was claimed, revoked or expired meanwhile (the caller re-reads the code and decides).
   */
  createWithCode(session: SessionRecord, claim: { codeHash: string; now: Date }, ttlEpochSeconds: number): Promise<'created' | 'code-taken'>;
  get(sessionId: string): Promise<SessionRecord | undefined>;
  getFile(sessionId: string, fileId: string): Promise<FileRecord | undefined>;
  /** Every file item of a session, REMOVED ones included. */
  listFiles(sessionId: string): Promise<FileRecord[]>;
  listStudies(sessionId: string): Promise<StudyRecord[]>;
  /** The session with all its studies and files (REMOVED files included). */
  loadState(sessionId: string): Promise<SessionState | undefined>;
  /**
   * The session and its study totals only, no file items: what an upload request needs, at a cost
   * that does not grow with the number of files declared.
   */
  loadTotals(sessionId: string): Promise<SessionTotals | undefined>;
  /** Replaces the token hash while the session is OPEN; false when it is not OPEN (or gone). */
  replaceToken(sessionId: string, tokenHash: string): Promise<boolean>;
}
