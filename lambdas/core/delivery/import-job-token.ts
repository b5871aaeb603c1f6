/**
 * The clientToken and jobName of a StartDICOMImportJob request. AWS HealthImaging's API reference
 * allows each 1 to 64 characters: clientToken of [A-Za-z0-9._-], jobName of [A-Za-z0-9._/#-].
 * The readable token `{sessionId}-{studyRef}[-j{chunk}][-{attempt}]` fits with the 22-character
 * session ids the portal issues, but not with every id the system accepts (up to 64 characters).
 * A readable token that does not fit in 63 characters becomes the SHA-256 (64 hex digits) of the
 * same four values instead: as deterministic, distinct per (session, study, chunk, attempt), and
 * never equal to a readable token, which is always shorter.
 */
import { hex, sha256 } from './sha256';

/** HealthImaging's limit for both fields. */
export const IMPORT_TOKEN_MAX_LENGTH = 64;
/** Characters both fields allow (clientToken's set, the narrower one). */
export const IMPORT_TOKEN_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

export interface ImportJobIdentity {
  sessionId: string;
  /** The study's hash (study-ref.ts): 16 hex digits. */
  studyRef: string;
  chunk: number;
  /** The chunk's import attempt, from 1. */
  attempt: number;
}

/**
 * The same token for the same chunk and attempt: a repeated run gets the job that already runs. A
 * new attempt needs a new token, else HealthImaging answers with the failed job. Chunk 0's first
 * attempt keeps the study's plain token, as before studies were split.
 */
export async function importJobToken({ sessionId, studyRef, chunk, attempt }: ImportJobIdentity): Promise<string> {
  const readable = `${sessionId}-${studyRef}${chunk > 0 ? `-j${chunk}` : ''}${attempt > 1 ? `-${attempt}` : ''}`;
  if (readable.length < IMPORT_TOKEN_MAX_LENGTH && IMPORT_TOKEN_PATTERN.test(readable)) return readable;
  // "/" never occurs in a session id or a study ref, so the hashed text names its four values unambiguously.
  return hex(await sha256(`${sessionId}/${studyRef}/${chunk}/${attempt}`));
}
