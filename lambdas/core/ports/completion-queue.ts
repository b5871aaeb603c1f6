/** Handing a locked completion to the worker that finishes it outside the HTTP request. */
import type { CompleteSessionRequest } from '../complete-session';

/** One session's completion: the request as the uploader sent it, and the lock it runs under. */
export interface CompletionJob {
  sessionId: string;
  /** The lock's completingSince: a job whose lock was released or taken over meanwhile does nothing. */
  lockedAt: string;
  request: CompleteSessionRequest;
}

export interface CompletionQueue {
  /** Accepted durably (retried, dead-lettered) once this resolves. */
  enqueue(job: CompletionJob): Promise<void>;
}
