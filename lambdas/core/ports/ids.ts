/** Unguessable, URL-safe identifiers (session and file ids; they appear in object keys). */
export interface Ids {
  newId(): string;
}

/** Cryptographically secure random bytes (codes and session tokens are built from them). */
export interface RandomSource {
  bytes(length: number): Uint8Array;
}
