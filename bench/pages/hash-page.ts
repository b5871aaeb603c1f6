/**
 * The hash bench's page: the portal's hash worker (web/src/hash-worker.ts through hasher.ts, as the
 * uploader calls it) and the bare hash-wasm worker hash the same bodies; each run reports MB/s.
 */
import { makeWorkerHasher, type Hasher } from '../../web/src/hasher';
import { workerFrom } from './worker-from';

const hashers: Record<string, Hasher> = {
  portal: makeWorkerHasher(await workerFrom('/bench/hash-worker.js')),
  bare: makeWorkerHasher(await workerFrom('/bench/bare-hash-worker.js')),
  /** Ceilings (ceiling-worker.ts): the read alone, and hash-wasm alone over bytes in memory. */
  read: makeWorkerHasher(await workerFrom('/bench/ceiling-worker.js', '#read')),
  compute: makeWorkerHasher(await workerFrom('/bench/ceiling-worker.js', '#compute')),
};

async function timed(name: string, bodies: Blob[], withParts: boolean): Promise<{ mbPerSecond: number; sha256: string; parts: number }> {
  const hasher = hashers[name]!;
  const started = performance.now();
  let last = { sha256: '', parts: 0 };
  for (const body of bodies) {
    const hashes = await hasher(body, { withParts });
    last = { sha256: hashes.sha256, parts: hashes.parts?.length ?? 0 };
  }
  const bytes = bodies.reduce((sum, b) => sum + b.size, 0);
  return { mbPerSecond: bytes / 1e6 / ((performance.now() - started) / 1000), ...last };
}

const smallFiles: Blob[] = [];
Object.assign(window, {
  /** The picked file (input #files), hashed by `name` with or without its parts. */
  hashPicked: (name: string, withParts: boolean) => timed(name, [(document.getElementById('files') as HTMLInputElement).files![0]!], withParts),
  /** `count` distinct bodies of `bytes` each (random, made once), hashed one after another. */
  hashSmall: (name: string, count: number, bytes: number) => {
    while (smallFiles.length < count) smallFiles.push(new Blob([crypto.getRandomValues(new Uint8Array(Math.min(bytes, 65536))), new Uint8Array(bytes - Math.min(bytes, 65536)).fill(smallFiles.length)]));
    return timed(name, smallFiles.slice(0, count), true);
  },
});
document.title = 'ready';
