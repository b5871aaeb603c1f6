/**
 * POST /sessions/{id}/complete at any size: the request checks what the session's counters and study totals can
 * tell (consent, expiry, every file verified, the named studies, something to upload), takes the completion lock
 * and hands the work to a worker (CompletionQueue), then answers 202 COMPLETING. Nothing in it grows with the
 * files. The worker (`finishCompletion`) reads the files, re-checks every rule, writes the manifest and decides;
 * GET /sessions/{id} shows the outcome. A session not fully verified keeps the synchronous answers: 409 with the
 * files in flight, or REJECTED for a rejected file.
 */
import { AppError, BadRequestError, ConflictError, RuleViolationError } from './errors';
import { message } from './messages';
import type { SessionRecord } from './model';
import type { CompletionJob, CompletionQueue, SessionStore } from './ports';
import {
  beginCompletion,
  completeLocked,
  isLockFresh,
  storedResult,
  type CompleteSessionDeps,
  type CompleteSessionRequest,
  type CompletionResult,
} from './complete-session';

/** The answer while the worker runs. */
export interface CompletionStarted {
  sessionId: string;
  status: 'COMPLETING';
}

export interface RequestCompletionDeps extends CompleteSessionDeps {
  sessions: CompleteSessionDeps['sessions'] & Pick<SessionStore, 'listStudies'>;
  queue: CompletionQueue;
}

export function makeRequestCompletion(deps: RequestCompletionDeps) {
  return async function requestCompletion(sessionId: string, request: CompleteSessionRequest): Promise<CompletionResult | CompletionStarted> {
    const current = await deps.sessions.get(sessionId);
    // A repeated POST while the worker runs: the same answer, no second job.
    if (current && isLockFresh(current, deps.clock.now(), deps.lockTimeoutMs)) return { sessionId, status: 'COMPLETING' };
    const begun = await beginCompletion(deps, sessionId, request, (session) => checkStudies(deps, session, request));
    if ('result' in begun) return begun.result;
    try {
      await deps.queue.enqueue({ sessionId, lockedAt: begun.lockedAt, request });
    } catch (error) {
      await deps.completion.releaseCompletionLock(sessionId).catch(() => undefined);
      throw error;
    }
    return { sessionId, status: 'COMPLETING' };
  };
}

/** The request against the study items (one query, a handful of items): what completeLocked checks from the files. */
async function checkStudies(deps: RequestCompletionDeps, session: SessionRecord, request: CompleteSessionRequest): Promise<void> {
  const studies = (await deps.sessions.listStudies(session.sessionId)).filter((s) => s.dicomCount + s.attachmentCount > 0);
  if (!studies.some((s) => s.dicomCount > 0)) throw new RuleViolationError([{ code: 'NOTHING_TO_UPLOAD', message: message('NOTHING_TO_UPLOAD') }]);
  const known = new Set(studies.map((s) => s.studyInstanceUid));
  const unknown = request.studies.filter((s) => !known.has(s.studyInstanceUid)).map((s) => s.studyInstanceUid);
  if (unknown.length > 0) throw new BadRequestError('A study in the request is not part of this upload.', { unknownStudies: unknown });
}

/**
 * The worker's part: finishes the job's completion, once, however often the job is delivered. A job whose lock
 * is gone (released, taken over, or the session decided) only reports the stored result. A failure that a retry
 * cannot mend (the session's state refuses it) gives the lock back so the uploader can complete again; any other
 * failure keeps the lock and is thrown, for the queue to retry and finally dead-letter.
 */
export function makeFinishCompletion(deps: CompleteSessionDeps) {
  return async function finishCompletion(job: CompletionJob): Promise<CompletionResult | null> {
    const session = await deps.sessions.get(job.sessionId);
    if (!session) return null;
    if (session.status !== 'COMPLETING' || session.completingSince !== job.lockedAt) {
      // A refused state (expired) only reports nothing; a failed publish of the final event is thrown, so Lambda retries it.
      return storedResult(deps, session).catch((error: unknown) => {
        if (error instanceof AppError) return null;
        throw error;
      });
    }
    try {
      return await completeLocked(deps, session, job.request, job.lockedAt);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      // The lock was lost to another completion: that one answers.
      if (error instanceof ConflictError && error.code === 'COMPLETION_IN_PROGRESS') return null;
      await deps.completion.releaseCompletionLock(job.sessionId);
      deps.log.warn('completion refused after the request was accepted', { sessionId: job.sessionId, code: error.code });
      return null;
    }
  };
}

export type RequestCompletion = ReturnType<typeof makeRequestCompletion>;
export type FinishCompletion = ReturnType<typeof makeFinishCompletion>;
