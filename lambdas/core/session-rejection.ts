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
  await announceRejection(deps, session, at);
  return session;
}

/**
 * Publishes a rejected session's UploadSessionRejected unless it went out already, rebuilt from the stored
 * session so a later run sends what the first would have. Throws SessionEventBusyError while another run holds it.
 */
export async function announceRejection(deps: Pick<RejectionDeps, 'outbox' | 'publisher'>, session: SessionRecord, at: string): Promise<'published' | 'done'> {
  if (session.eventPublishedAt) return 'done';
  const { sessionId, institutionId } = session;
  return publishOnce(deps, sessionId, at, { type: 'UploadSessionRejected', sessionId, institutionId, reasonCodes: reasonCodes(session.rejection ?? []), rejectedAt: session.rejectedAt ?? at });
}

/** A claim older than this belongs to a caller that crashed; longer than any Lambda run. */
export const EVENT_CLAIM_TIMEOUT_MS = 5 * 60_000;

/**
 * Another run holds the claim on the session's final event: the caller must not acknowledge its trigger as
 * done, in case that run died. A queue's message comes back; after EVENT_CLAIM_TIMEOUT_MS the claim is taken
 * over, and the sweep publishes whatever is still unpublished by then (core/sweep-expired.ts).
 */
export class SessionEventBusyError extends Error {
  override readonly name = 'SessionEventBusyError';
}

/**
 * Publishes the session's final event once: concurrent callers (two bad files in one batch, two
 * repeated completions) race for a claim, the winner publishes and marks it; 'done' when it went out
 * already. A claim another run holds throws SessionEventBusyError. A failed publish gives the claim
 * back, so the redelivered message (or the next completion call, or the sweep) tries again.
 */
export async function publishOnce(deps: Pick<RejectionDeps, 'outbox' | 'publisher'>, sessionId: string, at: string, event: PortalEvent): Promise<'published' | 'done'> {
  const staleBefore = new Date(Date.parse(at) - EVENT_CLAIM_TIMEOUT_MS).toISOString();
  const claim = await deps.outbox.claimEventPublication(sessionId, at, staleBefore);
  if (claim === 'busy') throw new SessionEventBusyError('another run holds the session\'s final event');
  if (claim === 'done') return 'done';
  try {
    await deps.publisher.publish(event);
  } catch (error) {
    await deps.outbox.releaseEventClaim(sessionId).catch(() => undefined);
    throw error;
  }
  await deps.outbox.markEventPublished(sessionId, at);
  return 'published';
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
