/** Publishing each session's final event exactly once, even when callers race or crash. */
export interface EventOutbox {
  /**
   * Claims the right to publish the session's final event: true for exactly one caller until the
   * event is marked published, or until a claim older than `staleBefore` is taken over.
   */
  claimEventPublication(sessionId: string, at: string, staleBefore: string): Promise<boolean>;
  releaseEventClaim(sessionId: string): Promise<void>;
  markEventPublished(sessionId: string, at: string): Promise<void>;
}
