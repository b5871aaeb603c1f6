/**
 * Rejecting a session, shared by the inspector and the completion: record the reasons once, delete
 * every object of the session, and tell the hospital's systems (reason codes only).
 */
import type { PortalEvent } from './events';
import type { MessageCode } from './messages';
import type { RejectionReason, SessionRecord } from './model';
import type { EventOutbox, EventPublisher, Log, Metrics, ObjectRemover, SessionRejections } from './ports';

export interface RejectionDeps {
  rejections: SessionRejections;
  outbox: EventOutbox;
  remover: ObjectRemover;
  publisher: EventPublisher;
  metrics: Metrics;
  log: Log;
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
): Promise<SessionRecord | undefined> {
  const { transitioned, session } = await deps.rejections.rejectSession(sessionId, reasons, reasonKey, at);
  if (!session || session.status !== 'REJECTED') {
    // Too late to reject (already accepted or expired); the caller decides what that means.
    return session;
  }
  const deleted = await deps.remover.deleteSessionObjects(sessionId);
  const codes = reasonCodes(session.rejection ?? reasons);
  if (transitioned) {
    for (const code of codes) deps.metrics.countWithReason('SessionsRejected', code);
    deps.log.info('session rejected', { sessionId, reasonCodes: codes, objectsDeleted: deleted });
  }
  if (!session.eventPublishedAt) {
    await publishOnce(deps, sessionId, at, { type: 'UploadSessionRejected', sessionId, institutionId: session.institutionId, reasonCodes: codes, rejectedAt: at });
  }
  return session;
}

/** A claim older than this belongs to a caller that crashed; longer than any Lambda run. */
export const EVENT_CLAIM_TIMEOUT_MS = 5 * 60_000;

/**
 * Publishes the session's final event once: concurrent callers (two bad files in one batch, two
 * repeated completions) race for a claim, the winner publishes and marks it. A failed publish
 * gives the claim back, so the redelivered message (or the next completion call) tries again.
 */
export async function publishOnce(deps: Pick<RejectionDeps, 'outbox' | 'publisher'>, sessionId: string, at: string, event: PortalEvent): Promise<void> {
  const staleBefore = new Date(Date.parse(at) - EVENT_CLAIM_TIMEOUT_MS).toISOString();
  if (!(await deps.outbox.claimEventPublication(sessionId, at, staleBefore))) return;
  try {
    await deps.publisher.publish(event);
  } catch (error) {
    await deps.outbox.releaseEventClaim(sessionId).catch(() => undefined);
    throw error;
  }
  await deps.outbox.markEventPublished(sessionId, at);
}

/**
 * Each reason once per (code, file): the inspector and a completion racing on the same bad file
 * may both append it, each under its own idempotency key.
 */
export function uniqueReasons(reasons: readonly RejectionReason[]): RejectionReason[] {
  const seen = new Set<string>();
  return reasons.filter((r) => {
    const key = `${r.code}\u0000${r.fileId ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The distinct reason codes, in order of first appearance. */
export function reasonCodes(reasons: readonly RejectionReason[]): MessageCode[] {
  return [...new Set(reasons.map((r) => r.code))];
}
