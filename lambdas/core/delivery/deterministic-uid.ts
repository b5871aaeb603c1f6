import { hex, sha256 } from './sha256';

/**
 * A UID under the 2.25 root (PS3.5 B.2: a 128-bit number in decimal) derived from `parts`: the same
 * file delivered again gets the same SOP Instance UID, so a PACS stores it once, not twice.
 */
export async function deterministicUid(...parts: string[]): Promise<string> {
  const digest = await sha256(['upload-portal', ...parts].join('\u0000'));
  // The first 128 bits, as UUID-derived UIDs use; the leading bit cleared keeps the number below 2^127.
  digest[0] = digest[0]! & 0x7f;
  return `2.25.${BigInt(`0x${hex(digest.subarray(0, 16))}`).toString(10)}`;
}
