/** Runs a session's delivery again later: how a failed asynchronous import (HealthImaging) is started again. */
export interface DeliveryRetries {
  /** Asks for another delivery run of the session after `delaySeconds` (at most 900). */
  retryLater(sessionId: string, delaySeconds: number): Promise<void>;
}
