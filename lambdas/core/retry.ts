/** The one retry loop: bounded attempts with a growing pause, for faults that a moment cures. */

export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Thrown by an attempt that wants another one (e.g. work left over), not by a real failure. */
export class RetryableError extends Error {}

export interface RetryPolicy {
  attempts: number;
  /** The pause after failed attempt n (1-based). */
  delayMs: (attempt: number) => number;
  /** Which errors are worth another attempt; RetryableError always is. */
  retryOn?: (error: unknown) => boolean;
}

/** Runs `attempt` until it succeeds; after the last attempt (or a non-retryable error) the error is thrown. */
export async function withRetries<T>(policy: RetryPolicy, attempt: (n: number) => Promise<T>): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      const retryable = error instanceof RetryableError || (policy.retryOn?.(error) ?? false);
      if (!retryable || n >= policy.attempts) throw error;
      await pause(policy.delayMs(n));
    }
  }
}
