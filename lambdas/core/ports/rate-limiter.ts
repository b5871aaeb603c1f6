/** Counts failures per key in fixed windows (failed code redemptions per client address). */
export interface RateLimiter {
  /** Seconds until `key` may try again; 0 when it is not blocked. */
  blockedFor(key: string, now: Date): Promise<number>;
  recordFailure(key: string, now: Date): Promise<void>;
}
