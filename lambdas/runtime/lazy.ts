/**
 * The one lazy-init helper: builds a value on first use and keeps it for the container's life.
 * Entry files and the composition root build nothing at import, so local mode and tests can import
 * the factories without an AWS environment.
 */
export function once<T>(build: () => T): () => T {
  let value: T | undefined;
  let built = false;
  return () => {
    if (!built) {
      value = build();
      built = true;
    }
    return value as T;
  };
}

/** A Lambda `handler` whose implementation is built on the first invocation (cold start). */
export function lazyHandler<E, R>(build: () => (event: E) => Promise<R>): (event: E) => Promise<R> {
  const get = once(build);
  return (event) => get()(event);
}
