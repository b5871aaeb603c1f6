/**
 * Rejecting a session, shared by the inspector and the completion: record the reasons once, delete
 * every object of the session, and tell the hospital's systems (reason codes only).
 */
import type { EventPublisher, InspectionLog, InspectionMetrics, SessionCleaner, SessionRecord, VerdictStore } from './inspection-ports';
import type { MessageCode } from './messages';
import type { RejectionReason } from './model';

export interface RejectionDeps {
  store: VerdictStore;
  cleaner: SessionCleaner;
  publisher: EventPublisher;
  metrics: InspectionMetrics;
  log: InspectionLog;
}

/**
 * Rejects the session with `reasons` (idempotent per `reasonKey`, e.g. the offending file's id),
 * then deletes its objects and publishes UploadSessionRejected once. Safe to call again after a
 * crash at any step: each step either happened or is redone. Returns the session as stored after.
 */
export async function rejectSession(
  deps: RejectionDeps,
  sessionId: string,
  reasons: RejectionReason[],
  reasonKey: string,
  at: string,
): Promise<SessionRecord | null> {
  const { transitioned, session } = await deps.store.rejectSession(sessionId, reasons, reasonKey, at);
  if (!session || session.status !== 'REJECTED') {
    // Too late to reject (already accepted or expired); the caller decides what that means.
    return session;
  }
  const deleted = await deps.cleaner.deleteSessionObjects(sessionId);
  const codes = reasonCodes(session.rejection ?? reasons);
  if (transitioned) {
    for (const code of codes) deps.metrics.add('SessionsRejected', 1, 'Count', code);
    deps.log.info('session rejected', { sessionId, reasonCodes: codes, objectsDeleted: deleted });
  }
  if (!session.eventPublishedAt) {
    await deps.publisher.publish({ type: 'UploadSessionRejected', sessionId, institutionId: session.institutionId, reasonCodes: codes, rejectedAt: at });
    await deps.store.markEventPublished(sessionId, at);
  }
  return session;
}

/** The distinct reason codes, in order of first appearance. */
export function reasonCodes(reasons: readonly RejectionReason[]): MessageCode[] {
  return [...new Set(reasons.map((r) => r.code))];
}
