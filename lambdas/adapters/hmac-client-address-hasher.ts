/**
 * Client addresses as an HMAC-SHA-256 under the institution's secret key (ClientAddressHasher port):
 * IPv4 has only 2^32 addresses, so a plain hash could be reversed by trying them all.
 */
import { createHmac } from 'node:crypto';
import type { ClientAddressHasher } from '../core/ports';

export class HmacClientAddressHasher implements ClientAddressHasher {
  private key: Promise<string> | undefined;

  /** `loadKey` runs once (e.g. a Secrets Manager read); a failed load is tried again next time. */
  constructor(private readonly loadKey: () => Promise<string>) {}

  async hash(address: string): Promise<string> {
    this.key ??= this.loadKey().catch((error: unknown) => {
      this.key = undefined;
      throw error;
    });
    return createHmac('sha256', await this.key).update(address, 'utf8').digest('hex').slice(0, 32);
  }
}
