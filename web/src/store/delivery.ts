/**
 * Watching an accepted session's delivery from the result page: GET /sessions/{id} (the summary, not
 * the file pages) with a growing pause, until every study is DELIVERED or FAILED, or a time limit.
 */
import type { SessionState } from '../api';
import { forgetSession, rememberSession } from './session';
import * as s from './state';

/** The first pause, its growth per poll and its cap: fast while a small study lands, then gentle on the API. */
export const DELIVERY_POLL = { firstDelayMs: 1_000, factor: 1.5, maxDelayMs: 30_000, giveUpAfterMs: 15 * 60_000 } as const;

type Studies = SessionState['studies'];

/** What the page says about delivery as a whole: nothing (no delivery configured), pending, done, or left to the hospital. */
export type DeliverySummary = 'none' | 'pending' | 'done' | 'followUp';

export function deliverySummary(studies: Studies): DeliverySummary {
  const states = (studies ?? []).map((x) => x.delivery?.state);
  if (states.length === 0 || states.every((x) => x === undefined)) return 'none';
  if (states.some((x) => x === 'PENDING' || x === 'SUBMITTED' || x === undefined)) return 'pending';
  return states.every((x) => x === 'DELIVERED') ? 'done' : 'followUp';
}

export function pollDelay(poll: number): number {
  return Math.min(DELIVERY_POLL.maxDelayMs, Math.round(DELIVERY_POLL.firstDelayMs * DELIVERY_POLL.factor ** poll));
}

export interface DeliveryWatch {
  getSummary: () => Promise<SessionState>;
  onStudies: (studies: Studies) => void;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  /** Set by the caller to stop (the page left the result screen). */
  stopped?: () => boolean;
}

/**
 * Polls until the delivery settles (or there is none to wait for), the time limit passes, or the
 * caller stops it. A failed poll (network, 5xx) is only a longer pause. Returns the last summary.
 */
export async function watchDelivery(watch: DeliveryWatch, initial: Studies): Promise<DeliverySummary> {
  const sleep = watch.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = watch.now ?? Date.now;
  const deadline = now() + DELIVERY_POLL.giveUpAfterMs;
  let summary = deliverySummary(initial);
  // The answer to POST …/complete may predate the delivery view: one look tells whether there is a delivery to wait for.
  let unknown = summary === 'none';
  for (let poll = 0; (summary === 'pending' || unknown) && now() < deadline && !watch.stopped?.(); poll++) {
    await sleep(pollDelay(poll));
    if (watch.stopped?.()) break;
    try {
      const view = await watch.getSummary();
      unknown = false;
      if (view.studies?.length) {
        watch.onStudies(view.studies);
        summary = deliverySummary(view.studies);
      }
    } catch {
      // The next poll asks again; the page keeps the last state it knew.
    }
  }
  return summary;
}

/**
 * Starts watching the result on screen; returns the function that stops it. While the delivery runs
 * the tab keeps its session, so coming back to the tab (or reloading it) shows the result and watches on.
 */
export function watchResultDelivery(): () => void {
  let stopped = false;
  const result = s.result.value;
  const sessionId = result?.sessionId ?? s.session.value?.sessionId;
  if (!result || result.status !== 'ACCEPTED' || !sessionId) return () => {};
  if (deliverySummary(result.studies) !== 'done' && deliverySummary(result.studies) !== 'followUp') rememberSession();
  void watchDelivery(
    {
      getSummary: () => s.apiClient().getSessionSummary(sessionId),
      onStudies: (studies) => {
        const current = s.result.value;
        if (current) s.result.value = { ...current, studies };
      },
      stopped: () => stopped,
    },
    result.studies,
  ).then((summary) => {
    if (summary !== 'pending' && !stopped) forgetSession();
  });
  return () => {
    stopped = true;
  };
}
