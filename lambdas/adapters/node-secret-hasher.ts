/** SHA-256 hashing and constant-time comparison from node:crypto (SecretHasher port). */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { SecretHasher } from '../core/ports';

export class Sha256SecretHasher implements SecretHasher {
  hash(secret: string): string {
    return createHash('sha256').update(secret, 'utf8').digest('hex');
  }

  matches(secret: string, expectedHash: string): boolean {
    const actual = Buffer.from(this.hash(secret), 'hex');
    const expected = Buffer.from(/^[0-9a-f]{64}$/.test(expectedHash) ? expectedHash : '', 'hex');
    // timingSafeEqual needs equal lengths; a malformed stored hash simply never matches.
    return expected.length === actual.length && timingSafeEqual(actual, expected);
  }
}
