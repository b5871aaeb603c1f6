/** The completion lock (status COMPLETING) and the accepted outcome it leads to. */
import type { AcceptedState } from '../model';

export interface CompletionLock {
  /**
   * Takes the completion lock: OPEN → COMPLETING, or a COMPLETING lock older than `staleBefore`.
   * False when the session is in any other state.
   */
  lockForCompletion(sessionId: string, at: string, staleBefore: string): Promise<boolean>;
  /** Gives the lock back (COMPLETING → OPEN) when completion cannot go on yet. */
  releaseCompletionLock(sessionId: string): Promise<void>;
  /**
   * COMPLETING → ACCEPTED with the stored result and the per-study comments, due for retention
   * tagging (retentionDueSince = completedAt); false if the lock was lost.
   */
  markAccepted(sessionId: string, state: AcceptedState): Promise<boolean>;
}
