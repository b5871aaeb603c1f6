/**
 * How the transfer layer rides out a network drop: which failures are worth another try, how long
 * to wait before it (exponential, jittered, capped), and, while the browser says it is offline, no
 * try at all until it is back. A drop of a minute or two costs nothing but the time.
 */
import { ApiError } from './api';

export interface RetryPolicy {
  /** Tries of one request, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  /** No single wait is longer: a connection that came back is used within this much. */
  maxDelayMs: number;
}

/** About two and a half minutes of waiting in all before a request is given up (0.5 s doubling, capped at 30 s). */
export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 9, baseDelayMs: 500, maxDelayMs: 30_000 };

/** No answer, a timeout, throttling or a server fault: the same request may well succeed later. */
export function isTransientStatus(status: number | undefined): boolean {
  return status === undefined || status === 0 || status === 408 || status === 429 || status >= 500;
}

/** An API call that failed on the way (no answer) or on a fault of the server, not on its verdict. */
export function isTransientApiError(error: unknown): boolean {
  return error instanceof ApiError && isTransientStatus(error.status);
}

export function backoffMs(attempt: number, policy: RetryPolicy): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1)) * (0.75 + Math.random() / 2);
}

/** Resolves at once while the browser is online (or cannot tell), else when it comes back online. */
export function untilOnline(signal: AbortSignal): Promise<void> {
  const nav = (globalThis as { navigator?: { onLine?: boolean } }).navigator;
  if (nav?.onLine !== false || typeof addEventListener !== 'function') return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => (removeEventListener('online', done), signal.removeEventListener('abort', done), resolve());
    addEventListener('online', done);
    signal.addEventListener('abort', done);
  });
}

/** Calls the API, trying a transient failure again after `pause(attempt)`; anything else is the caller's. */
export async function retryingApi<T>(call: () => Promise<T>, pause: (attempt: number) => Promise<void>, maxAttempts: number): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!isTransientApiError(error) || attempt >= maxAttempts) throw error;
      await pause(attempt);
    }
  }
}
