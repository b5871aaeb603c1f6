/** Rejecting a session, once per reason key. */
import type { RejectionReason, SessionRecord } from '../model';

export interface SessionRejections {
  /**
   * Rejects the session (OPEN or COMPLETING → REJECTED) or adds reasons to an already rejected
   * one. Each `reasonKey` is added once, so a retry adds nothing. Returns whether this call moved
   * the session to REJECTED and the state after it.
   */
  rejectSession(
    sessionId: string,
    reasons: RejectionReason[],
    reasonKey: string,
    at: string,
  ): Promise<{ transitioned: boolean; session: SessionRecord | undefined }>;
}
