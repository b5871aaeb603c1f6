/** Publishing each session's final event exactly once, even when callers race or crash. */
export interface EventOutbox {
  /**
   * Claims the right to publish the session's final event: 'claimed' for exactly one caller until the
   * event is marked published, the claim is released, or it is older than `staleBefore` (then taken over);
   * 'busy' while another caller's claim is newer; 'done' when the event went out already (or the session is gone).
   */
  claimEventPublication(sessionId: string, at: string, staleBefore: string): Promise<SessionEventClaim>;
  releaseEventClaim(sessionId: string): Promise<void>;
  markEventPublished(sessionId: string, at: string): Promise<void>;
}

export type SessionEventClaim = 'claimed' | 'busy' | 'done';
