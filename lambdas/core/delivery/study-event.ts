/**
 * A study's final delivery event (UploadStudyDelivered or UploadStudyDeliveryFailed) and its count,
 * published once per recorded final state, the way publishOnce (session-rejection.ts) does it for a
 * session's final event. The state is recorded first with its event pending; whoever finds it
 * pending (the run that recorded it, a retry of the same message, the next run after a crash)
 * claims it, publishes, counts, and marks it published. A failed publish gives the claim back.
 */
import type { StudyDeliveryEvent } from '../events';
import type { StudyDelivery } from '../model';
import type { Clock, EventPublisher, Metrics, StudyEventOutbox } from '../ports';
import { EVENT_CLAIM_TIMEOUT_MS } from '../session-rejection';

export interface StudyEventDeps {
  studyEvents: StudyEventOutbox;
  events: EventPublisher;
  metrics: Metrics;
  clock: Clock;
}

/** Another run holds the claim on the study's pending event: the caller's message must come back for it. */
export class StudyEventBusyError extends Error {
  override readonly name = 'StudyEventBusyError';
}

/** What the event says besides the recorded state: the session's identity, and the study's reference (never its UID). */
export interface StudyEventContext {
  sessionId: string;
  institutionId: string;
  manifestKey?: string;
  studyRef: string;
}

/** The event of a final state, rebuilt from the record alone, so a later run sends what the first would have. */
export function studyDeliveryEvent(delivery: StudyDelivery, context: StudyEventContext): StudyDeliveryEvent | undefined {
  const base = {
    sessionId: context.sessionId,
    institutionId: context.institutionId,
    ...(context.manifestKey ? { manifestKey: context.manifestKey } : {}),
    studyRef: context.studyRef,
    target: delivery.target,
    at: delivery.updatedAt,
  };
  if (delivery.state === 'FAILED') return { type: 'UploadStudyDeliveryFailed', ...base, reason: delivery.reason ?? '', retryable: delivery.retryable ?? false };
  if (delivery.state !== 'DELIVERED') return undefined;
  // An import's end names its last job; a DICOMweb delivery has none.
  return { type: 'UploadStudyDelivered', ...base, instances: delivery.instances ?? 0, ...(delivery.jobId ? { jobId: delivery.jobId } : {}) };
}

/**
 * Publishes and counts the recorded final state's event unless it went out already ('done') or
 * another run holds its claim ('busy': the caller's message must come back, in case that run died;
 * after EVENT_CLAIM_TIMEOUT_MS its claim is taken over). A failed publish throws.
 */
export async function publishStudyEventOnce(deps: StudyEventDeps, studyInstanceUid: string, delivery: StudyDelivery, context: StudyEventContext): Promise<'published' | 'busy' | 'done'> {
  const event = studyDeliveryEvent(delivery, context);
  if (!event) return 'done';
  const now = deps.clock.now();
  const staleBefore = new Date(now.getTime() - EVENT_CLAIM_TIMEOUT_MS).toISOString();
  const { sessionId } = context;
  const claim = await deps.studyEvents.claimStudyEvent(sessionId, studyInstanceUid, delivery.updatedAt, now.toISOString(), staleBefore);
  if (claim !== 'claimed') return claim;
  try {
    await deps.events.publish(event);
  } catch (error) {
    await deps.studyEvents.releaseStudyEventClaim(sessionId, studyInstanceUid, delivery.updatedAt).catch(() => undefined);
    throw error;
  }
  deps.metrics.count(event.type === 'UploadStudyDelivered' ? 'StudiesDelivered' : 'StudiesDeliveryFailed');
  await deps.studyEvents.markStudyEventPublished(sessionId, studyInstanceUid, delivery.updatedAt);
  return 'published';
}
