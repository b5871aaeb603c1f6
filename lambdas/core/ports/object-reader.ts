/** Reads uploaded objects without downloading them whole. */
export interface ObjectReader {
  /** Real size and ETag (quotes stripped) of an object, or null when it does not exist (any more). */
  head(key: string): Promise<{ size: number; etag?: string } | null>;
  /**
   * The object's first `length` bytes (fewer when it is shorter) with its real size and ETag, in one
   * read; null when it does not exist (any more). Spares the inspector a separate head().
   */
  readStart(key: string, length: number): Promise<ObjectStart | null>;
  /** Bytes [start, endExclusive) of an object; fewer only when the object is shorter. */
  readRange(key: string, start: number, endExclusive: number): Promise<Uint8Array>;
}

export interface ObjectStart {
  size: number;
  etag?: string;
  /** Bytes [0, min(length, size)). */
  bytes: Uint8Array;
}
