/**
 * The emulators hold PHI, so nothing they run may listen beyond this machine: the listening sockets
 * of DynamoDB Local and the S3 emulator (the ones the test run started, exactly as local mode starts
 * them) are read from the kernel's tables, and a connection to each non-loopback address is refused.
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { describe, expect, inject, it } from 'vitest';

const LISTEN = '0A';

/** The local addresses listening on `port`, as the kernel reports them (IPv4 and IPv6 tables). */
function listeners(port: number): string[] {
  const found: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (!local || state !== LISTEN) continue;
      const [address, hexPort] = local.split(':');
      if (Number.parseInt(hexPort!, 16) === port) found.push(address!);
    }
  }
  return found;
}

/** 127.0.0.0/8, ::1, or 127.x mapped into IPv6, in /proc's byte order. */
function isLoopback(hex: string): boolean {
  if (hex.length === 8) return hex.endsWith('7F');
  return hex === '00000000000000000000000001000000' || (hex.startsWith('0000000000000000FFFF0000') && hex.endsWith('7F'));
}

function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 2000 });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}

const external = Object.values(networkInterfaces())
  .flat()
  .filter((a) => a && !a.internal && a.family === 'IPv4')
  .map((a) => a!.address);

describe('emulators listen on loopback only', () => {
  const { dynamoEndpoint, s3Endpoint } = inject('emulators');
  for (const [name, endpoint] of [
    ['DynamoDB Local', dynamoEndpoint],
    ['the S3 emulator', s3Endpoint],
  ] as const) {
    it(`${name}: every listening socket is loopback, and other addresses refuse the connection`, async () => {
      const port = Number(new URL(endpoint).port);
      const sockets = listeners(port);
      expect(sockets.length, `nothing listens on ${port}`).toBeGreaterThan(0);
      expect(sockets.filter((s) => !isLoopback(s)), `non-loopback listeners on ${port}`).toEqual([]);
      expect(await connects('127.0.0.1', port)).toBe(true);
      expect(external.length, 'this machine has no non-loopback IPv4 address to try').toBeGreaterThan(0);
      for (const address of external) expect(await connects(address, port), address).toBe(false);
    });
  }
});
