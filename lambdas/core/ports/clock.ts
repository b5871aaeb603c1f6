/** The current time; injected so tests and benches control it. */
export interface Clock {
  now(): Date;
}
