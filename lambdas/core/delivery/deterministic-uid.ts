import { createHash } from 'node:crypto';

/**
 * A UID under the 2.25 root (PS3.5 B.2: a 128-bit number in decimal) derived from `parts`: the same
 * file delivered again gets the same SOP Instance UID, so a PACS stores it once, not twice.
 */
export function deterministicUid(...parts: string[]): string {
  const digest = createHash('sha256').update(['upload-portal', ...parts].join('\u0000')).digest();
  // The first 128 bits, as UUID-derived UIDs use; the leading bit cleared keeps the number below 2^127.
  digest[0] = digest[0]! & 0x7f;
  return `2.25.${BigInt(`0x${digest.subarray(0, 16).toString('hex')}`).toString(10)}`;
}
