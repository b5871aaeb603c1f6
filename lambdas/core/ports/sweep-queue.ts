/** What the sweep finds to do, and the marks it leaves on each session. */
import type { SessionRecord } from '../model';

export interface SweepQueue {
  /**
   * Sessions still OPEN whose expiresAt is before `now`, EXPIRED ones whose objects were not
   * deleted yet, ACCEPTED ones whose files await their retention tag, and ACCEPTED or REJECTED ones whose
   * final event is not marked published.
   */
  findSessionsToSweep(now: string): Promise<SessionRecord[]>;
  /** The accepted session's files carry their retention tag: clears retentionDueSince. */
  markRetentionApplied(sessionId: string, at: string): Promise<void>;
  /** OPEN → EXPIRED, only if still OPEN and past its expiry. */
  markExpired(sessionId: string, now: string): Promise<boolean>;
  markObjectsDeleted(sessionId: string, at: string): Promise<void>;
}
