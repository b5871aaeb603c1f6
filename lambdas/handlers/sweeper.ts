/**
 * The sweeper. Two EventBridge rules invoke it (lib/sweeper.ts):
 *  - the schedule: expires abandoned sessions, deletes their objects, and tags the files of any
 *    accepted session still awaiting its retention tag;
 *  - UploadSessionAccepted on the institution's bus: tags that one session's files right away.
 */
import { isId } from '../core/limits';
import type { Sweep, SweepResult } from '../core/sweep-expired';
import type { Observability } from '../runtime/observability';

export interface SweeperDeps {
  sweep: Sweep;
  observability: Observability;
}

/** What the sweeper reads of its invocation: an EventBridge event (scheduled, or a session event). */
export interface SweeperEvent {
  'detail-type'?: string;
  detail?: unknown;
}

/** The accepted session's id, when the event is an UploadSessionAccepted event that names one. */
function acceptedSessionOf(event: SweeperEvent | undefined): string | undefined {
  if (event?.['detail-type'] !== 'UploadSessionAccepted') return undefined;
  const sessionId = (event.detail as { sessionId?: unknown } | undefined)?.sessionId;
  return isId(sessionId) ? sessionId : undefined;
}

export function createSweeperHandler(deps: SweeperDeps) {
  return async function sweeper(event?: SweeperEvent): Promise<SweepResult> {
    try {
      const accepted = acceptedSessionOf(event);
      // Anything else (the schedule, or an event without a usable id) gets the full sweep.
      return await (accepted ? deps.sweep.sweepAccepted(accepted) : deps.sweep.sweepAll());
    } finally {
      deps.observability.flush();
    }
  };
}
