/** One-way hashing of secrets (codes, tokens, client addresses) and constant-time comparison. */
export interface SecretHasher {
  /** Lowercase hex SHA-256 of the UTF-8 text. */
  hash(secret: string): string;
  /** True when hash(secret) equals `expectedHash`, compared in constant time. */
  matches(secret: string, expectedHash: string): boolean;
}
