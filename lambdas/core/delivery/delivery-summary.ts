import type { DeliveryState } from '../model';
import type { DeliveryProgress } from '../ports';

/** A session's delivery in the hospital's code list: how many of its studies are where. */
export interface SessionDeliverySummary {
  studies: number;
  delivered: number;
  failed: number;
  /** Claimed, submitted (HealthImaging) or not yet claimed by a run. */
  pending: number;
}

export function summarizeDeliveries(states: readonly (DeliveryState | undefined)[]): SessionDeliverySummary {
  const count = (state: DeliveryState) => states.filter((s) => s === state).length;
  const delivered = count('DELIVERED');
  const failed = count('FAILED');
  return { studies: states.length, delivered, failed, pending: states.length - delivered - failed };
}

/** "delivered 2/2", "delivered 1/2, failed 1", "pending": what a person reads in the list. */
export function deliverySummaryText(summary: SessionDeliverySummary): string {
  const parts: string[] = [];
  if (summary.delivered > 0 || (summary.failed === 0 && summary.pending === 0)) parts.push(`delivered ${summary.delivered}/${summary.studies}`);
  if (summary.failed > 0) parts.push(`failed ${summary.failed}`);
  if (summary.pending > 0) parts.push(summary.pending === summary.studies ? 'pending' : `pending ${summary.pending}`);
  return parts.join(', ');
}

/** Sessions asked at once: the list answers well within API Gateway's 29 s for thousands of codes. */
const SESSIONS_AT_ONCE = 16;

/** Each session's summary, a bounded number of queries in flight. */
export async function deliverySummaries(progress: DeliveryProgress, sessionIds: readonly string[]): Promise<Map<string, SessionDeliverySummary>> {
  const out = new Map<string, SessionDeliverySummary>();
  let next = 0;
  const worker = async () => {
    while (next < sessionIds.length) {
      const sessionId = sessionIds[next++]!;
      out.set(sessionId, summarizeDeliveries(await progress.studyStates(sessionId)));
    }
  };
  await Promise.all(Array.from({ length: Math.min(SESSIONS_AT_ONCE, sessionIds.length) }, worker));
  return out;
}
