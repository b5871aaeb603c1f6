/**
 * The sweep (scheduled, and run for one session when it is accepted):
 *  - an OPEN session past its expiry becomes EXPIRED and its uploaded objects are deleted. Its
 *    reservations no longer matter (no upload or completion is possible once it is not OPEN), and
 *    DynamoDB TTL removes its items later;
 *  - an ACCEPTED session whose files still await their retention tag gets it (core/apply-retention.ts).
 */
import type { ApplyRetention } from './apply-retention';
import type { SessionRecord } from './model';
import type { Clock, Log, Metrics, ObjectRemover, SessionStore, SweepQueue } from './ports';

export interface SweepExpiredDeps {
  sessions: Pick<SessionStore, 'get'>;
  sweepQueue: SweepQueue;
  remover: ObjectRemover;
  applyRetention: ApplyRetention;
  metrics: Metrics;
  log: Log;
  clock: Clock;
}

export interface SweepResult {
  expired: number;
  objectsDeleted: number;
  /** Accepted sessions whose files were tagged for retention in this run. */
  retentionApplied: number;
  objectsTagged: number;
  failed: number;
}

export function makeSweepExpired(deps: SweepExpiredDeps) {
  /** The sweep's work on one session; a failure is counted, logged, and left for the next sweep. */
  async function sweepSession(session: SessionRecord, now: string, result: SweepResult): Promise<void> {
    try {
      if (session.status === 'ACCEPTED') {
        const tagged = await deps.applyRetention(session);
        if (tagged !== null) {
          result.retentionApplied++;
          result.objectsTagged += tagged;
        }
        return;
      }
      if (session.status === 'OPEN') {
        // Conditional: a session completed or rejected meanwhile is left alone.
        if (!(await deps.sweepQueue.markExpired(session.sessionId, now))) return;
        result.expired++;
      }
      if (session.status !== 'OPEN' && session.status !== 'EXPIRED') return;
      // An EXPIRED one here is one whose clean-up failed in an earlier sweep.
      result.objectsDeleted += await deps.remover.deleteSessionObjects(session.sessionId);
      await deps.sweepQueue.markObjectsDeleted(session.sessionId, now);
    } catch (error) {
      // One failing session must not stop the sweep; the bucket lifecycle is the backstop.
      result.failed++;
      deps.log.error('sweeping a session failed', { sessionId: session.sessionId, status: session.status, error: (error as Error)?.name });
    }
  }

  function finish(result: SweepResult): SweepResult {
    if (result.expired > 0) deps.metrics.count('SessionsExpired', result.expired);
    deps.log.info('sessions swept', { ...result });
    return result;
  }

  const empty = (): SweepResult => ({ expired: 0, objectsDeleted: 0, retentionApplied: 0, objectsTagged: 0, failed: 0 });

  return {
    /** The scheduled sweep over every session that needs it. */
    async sweepAll(): Promise<SweepResult> {
      const now = deps.clock.now().toISOString();
      const result = empty();
      for (const session of await deps.sweepQueue.findSessionsToSweep(now)) await sweepSession(session, now, result);
      return finish(result);
    },
    /** One session, as soon as it was accepted (its UploadSessionAccepted event); nothing when not due. */
    async sweepAccepted(sessionId: string): Promise<SweepResult> {
      const result = empty();
      const session = await deps.sessions.get(sessionId);
      // Only the retention step: an event never expires or deletes anything.
      if (session?.status === 'ACCEPTED') await sweepSession(session, deps.clock.now().toISOString(), result);
      return finish(result);
    },
  };
}

export type Sweep = ReturnType<typeof makeSweepExpired>;
