/**
 * The scheduled sweep of abandoned sessions: an OPEN session past its expiry becomes EXPIRED and
 * its uploaded objects are deleted. Its reservations no longer matter (no upload or completion is
 * possible once it is not OPEN), and DynamoDB TTL removes its items later.
 */
import type { InspectionLog, InspectionMetrics, SessionCleaner, VerdictStore } from './inspection-ports';

export interface SweepExpiredDeps {
  store: VerdictStore;
  cleaner: SessionCleaner;
  metrics: InspectionMetrics;
  log: InspectionLog;
  now: () => Date;
}

export interface SweepResult {
  expired: number;
  objectsDeleted: number;
  failed: number;
}

export function makeSweepExpired(deps: SweepExpiredDeps) {
  return async function sweepExpired(): Promise<SweepResult> {
    const now = deps.now().toISOString();
    const candidates = await deps.store.findSessionsToExpire(now);
    const result: SweepResult = { expired: 0, objectsDeleted: 0, failed: 0 };
    for (const session of candidates) {
      try {
        if (session.status === 'OPEN') {
          // Conditional: a session completed or rejected meanwhile is left alone.
          if (!(await deps.store.markExpired(session.sessionId, now))) continue;
          result.expired++;
        }
        // An EXPIRED one here is one whose clean-up failed in an earlier sweep.
        result.objectsDeleted += await deps.cleaner.deleteSessionObjects(session.sessionId);
        await deps.store.markObjectsDeleted(session.sessionId, now);
      } catch (error) {
        // One failing session must not stop the sweep; the bucket lifecycle is the backstop.
        result.failed++;
        deps.log.error('expiring a session failed', { sessionId: session.sessionId, error: (error as Error)?.name });
      }
    }
    if (result.expired > 0) deps.metrics.add('SessionsExpired', result.expired, 'Count');
    deps.log.info('expired sessions swept', { ...result });
    return result;
  };
}
