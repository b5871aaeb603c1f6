import type { DeliveryState } from '../model';

/** How far a session's delivery got, for the hospital's code list. */
export interface DeliveryProgress {
  /** One entry per study of the session: its delivery state, or undefined while no run has claimed it. */
  studyStates(sessionId: string): Promise<(DeliveryState | undefined)[]>;
}
