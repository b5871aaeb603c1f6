/** Random ids and bytes from node:crypto (Ids and RandomSource ports). */
import { randomBytes } from 'node:crypto';
import type { Ids, RandomSource } from '../core/ports';

/** 128 random bits, base64url: 22 characters that are safe in object keys and URLs. */
export class NodeIds implements Ids {
  newId(): string {
    return randomBytes(16).toString('base64url');
  }
}

export class NodeRandomSource implements RandomSource {
  bytes(length: number): Uint8Array {
    return new Uint8Array(randomBytes(length));
  }
}
