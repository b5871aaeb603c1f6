/** Streams an uploaded object from an offset to its end, in chunks, without holding it in memory. */
export interface ObjectStreamer {
  stream(key: string, start: number): AsyncIterable<Uint8Array>;
}
