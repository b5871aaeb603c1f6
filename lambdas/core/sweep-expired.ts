/**
 * The sweep (scheduled, and run for one session when it is accepted):
 *  - an OPEN session past its expiry becomes EXPIRED and its uploaded objects are deleted. Its
 *    reservations no longer matter (no upload or completion is possible once it is not OPEN), and
 *    DynamoDB TTL removes its items later;
 *  - an ACCEPTED session whose files still await their retention tag gets it (core/apply-retention.ts);
 *  - a decided session whose final event is still unpublished a claim's timeout after the decision gets it
 *    published: the run that decided it died, and not every trigger comes back (an HTTP request, the completer's
 *    two quick retries). At most FINAL_EVENTS_PER_SWEEP per pass; the rest in the next.
 */
import type { ApplyRetention } from './apply-retention';
import { publishFinalEvent, type FinalEventDeps } from './complete-session';
import type { SessionRecord } from './model';
import type { Clock, SessionStore, SweepQueue } from './ports';
import { EVENT_CLAIM_TIMEOUT_MS, SessionEventBusyError } from './session-rejection';

/** Each may list a session of 20,000 files: a few seconds apiece, well inside the sweeper's 5 minutes. */
export const FINAL_EVENTS_PER_SWEEP = 25;

export interface SweepExpiredDeps extends FinalEventDeps {
  sessions: Pick<SessionStore, 'get' | 'listFiles'>;
  sweepQueue: SweepQueue;
  applyRetention: ApplyRetention;
  clock: Clock;
}

export interface SweepResult {
  expired: number;
  objectsDeleted: number;
  /** Accepted sessions whose files were tagged for retention in this run. */
  retentionApplied: number;
  objectsTagged: number;
  /** Final events a dead run left unpublished, published by this run. */
  eventsPublished: number;
  failed: number;
}

/** Decided, its event unpublished, and decided longer ago than a claim lasts (else its own run may still publish it). */
function owesFinalEvent(session: SessionRecord, staleBefore: string): boolean {
  if (session.eventPublishedAt || (session.status !== 'ACCEPTED' && session.status !== 'REJECTED')) return false;
  const decidedAt = session.status === 'ACCEPTED' ? session.completedAt : session.rejectedAt;
  return !decidedAt || decidedAt < staleBefore;
}

export function makeSweepExpired(deps: SweepExpiredDeps) {
  /** The sweep's work on one session; a failure is counted, logged, and left for the next sweep. */
  async function sweepSession(session: SessionRecord, now: string, result: SweepResult, budget = { events: 0 }): Promise<void> {
    try {
      if (budget.events > 0 && owesFinalEvent(session, new Date(Date.parse(now) - EVENT_CLAIM_TIMEOUT_MS).toISOString())) {
        budget.events--;
        await publishLeftOver(session, now, result);
      }
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

  /** A claim another run took since (fresh, so alive) is left to it; the next sweep looks again. */
  async function publishLeftOver(session: SessionRecord, now: string, result: SweepResult): Promise<void> {
    try {
      if ((await publishFinalEvent(deps, session, now)) !== 'published') return;
    } catch (error) {
      if (error instanceof SessionEventBusyError) return;
      throw error;
    }
    result.eventsPublished++;
    deps.log.warn('final event published by the sweep: the run that decided the session did not', { sessionId: session.sessionId, status: session.status });
  }

  function finish(result: SweepResult): SweepResult {
    if (result.expired > 0) deps.metrics.count('SessionsExpired', result.expired);
    deps.log.info('sessions swept', { ...result });
    return result;
  }

  const empty = (): SweepResult => ({ expired: 0, objectsDeleted: 0, retentionApplied: 0, objectsTagged: 0, eventsPublished: 0, failed: 0 });

  return {
    /** The scheduled sweep over every session that needs it. */
    async sweepAll(): Promise<SweepResult> {
      const now = deps.clock.now().toISOString();
      const result = empty();
      const budget = { events: FINAL_EVENTS_PER_SWEEP };
      for (const session of await deps.sweepQueue.findSessionsToSweep(now)) await sweepSession(session, now, result, budget);
      return finish(result);
    },
    /** One session, as soon as it was accepted (its UploadSessionAccepted event); nothing when not due. */
    async sweepAccepted(sessionId: string): Promise<SweepResult> {
      const result = empty();
      const session = await deps.sessions.get(sessionId);
      // Only the retention step: an event never expires or deletes anything, and this one was published.
      if (session?.status === 'ACCEPTED') await sweepSession(session, deps.clock.now().toISOString(), result);
      return finish(result);
    },
  };
}

export type Sweep = ReturnType<typeof makeSweepExpired>;
