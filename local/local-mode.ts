/**
 * Local mode: the whole product on one machine, with the same handlers and adapters as AWS. One
 * HTTP server serves the portal at `/`, `/config.json`, and the HTTP API under `/api`; DynamoDB
 * Local and s3rver keep their data under DATA_DIR; S3 events reach the real inspector as SQS batches.
 */
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { Logger } from '@aws-lambda-powertools/logger';
import { SECURITY_HEADERS } from '../lambdas/core/security-headers';
import type { Observability } from '../lambdas/runtime/observability';
import { startDynamoLocal, type RunningEmulator, type S3ObjectEvent, type S3RequestOrigin } from './emulators';
import { createApiAdapter } from './http-adapter';
import { startS3rverThread } from './s3rver-thread';
import { createPortalServer, ensurePortalBuilt } from './portal';
import { ensureTable, findLostObjectEvents } from './provision';
import { isSubscribed, normalizeS3Record, SqsEventFeeder } from './s3-events';
import type { LocalSettings } from './settings';
import { buildLocalApp, type LocalApp } from './wiring';

export const API_PREFIX = '/api';

/**
 * What stopping waits for requests, inspections and sweeps under way, in all; the emulators then stop in about a
 * second. Work cut short is picked up at the next start: uploads are re-announced, retention tagging re-swept.
 */
const STOP_DRAIN_MS = 2500;

/** Waits for `work`, or until `deadline` (epoch ms), whichever comes first. */
async function within(deadline: number, work: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))));
  await Promise.race([work.then(() => undefined, () => undefined), late]);
  clearTimeout(timer);
}

/** What `npm run codes` and tests read from `<DATA_DIR>/local.json` (mode 0600: it holds the admin token). */
export interface LocalModeInfo {
  portalUrl: string;
  apiUrl: string;
  adminToken: string;
  s3Endpoint: string;
  bucketName: string;
  institutionId: string;
  pid: number;
}

export interface LocalMode extends LocalModeInfo {
  /** A fresh upload code issued at start. */
  uploadCode: string;
  /** Stops accepting requests, drains inspection, stops the emulators. Idempotent. */
  stop(): Promise<void>;
}

export const tableNameFor = (institutionId: string) => `upload-portal-${institutionId}`;
export const bucketNameFor = (institutionId: string) => `upload-portal-${institutionId}-uploads`;

/** The admin token survives restarts (scripts keep working); only its hash reaches the API. */
function loadOrCreateAdminToken(dataDir: string): string {
  const file = join(dataDir, 'local.json');
  if (existsSync(file)) {
    try {
      const token = (JSON.parse(readFileSync(file, 'utf8')) as Partial<LocalModeInfo>).adminToken;
      if (typeof token === 'string' && /^[A-Za-z0-9_-]{32,}$/.test(token)) return token;
    } catch {
      // unreadable: issue a new one below
    }
  }
  return randomBytes(32).toString('base64url');
}

/** Written to a temporary file and renamed, so a reader never sees half of it. */
function writeLocalInfo(dataDir: string, info: LocalModeInfo): void {
  const file = join(dataDir, 'local.json');
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temp, 0o600);
  renameSync(temp, file);
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

/** Name and stack only: an error's message could quote request bodies or header values (PHI). */
function describeError(error: unknown): { errorName: string; stack?: string } {
  const e = error as Error | undefined;
  return { errorName: e?.name ?? typeof error, ...(e?.stack ? { stack: e.stack.split('\n').slice(1, 6).join('\n') } : {}) };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

/** A start-up problem the user can fix; printed without a stack. */
export class LocalModeError extends Error {
  override name = 'LocalModeError';
}

/**
 * One local mode per data folder: two DynamoDB Local processes on one database file would corrupt
 * it. The lock file holds the owner's pid; a lock whose process is gone is taken over.
 */
function lockDataDir(dataDir: string): () => void {
  const lock = join(dataDir, 'local.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx', mode: 0o600 });
      return () => rmSync(lock, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(readFileSync(lock, 'utf8'));
      let alive = false;
      try {
        process.kill(owner, 0);
        alive = owner !== process.pid;
      } catch {
        alive = false;
      }
      if (alive) throw new LocalModeError(`Local mode is already running from ${dataDir} (process ${owner}). Stop it first, or set DATA_DIR to another folder.`);
      rmSync(lock, { force: true });
    }
  }
  throw new LocalModeError(`Cannot lock ${dataDir}: remove ${lock} if no local mode is running.`);
}

/** `app` is the handlers' observability; `logger` is local mode's own voice. */
export async function startLocalMode(settings: LocalSettings, output: { app: Observability; logger: Logger }): Promise<LocalMode> {
  mkdirSync(settings.dataDir, { recursive: true, mode: 0o700 });
  const unlock = lockDataDir(settings.dataDir);
  try {
    return await startHoldingLock(settings, output, unlock);
  } catch (error) {
    unlock();
    throw error;
  }
}

/** Starts everything; the returned stop() releases the data folder's lock last. */
async function startHoldingLock(settings: LocalSettings, output: { app: Observability; logger: Logger }, unlock: () => void): Promise<LocalMode> {
  const { logger } = output;
  const { institution, dataDir } = settings;
  const adminToken = loadOrCreateAdminToken(dataDir);
  const tableName = tableNameFor(institution.id);
  const bucketName = bucketNameFor(institution.id);

  // ── One HTTP server, bound first: the bucket's CORS needs the real port. ──
  let handleRequest: ((req: IncomingMessage, res: ServerResponse) => Promise<void>) | undefined;
  let inFlight = 0;
  let drained: (() => void) | undefined;
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    if (!handleRequest) return sendJson(res, 503, { error: { code: 'INTERNAL', message: 'Local mode is starting; try again in a moment.' } });
    inFlight++;
    res.once('close', () => {
      if (--inFlight === 0) drained?.();
    });
    handleRequest(req, res).catch((error: unknown) => {
      logger.error('Local request failed', describeError(error));
      if (!res.headersSent) sendJson(res, 500, { error: { code: 'INTERNAL', message: 'Internal error' } });
      else res.destroy();
    });
  };
  const servers = [createServer({ keepAliveTimeout: 5000 }, onRequest)];
  const port = await listen(servers[0]!, settings.port, '127.0.0.1').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'EADDRINUSE') throw new LocalModeError(`Port ${settings.port} is in use. Set PORT to another port (PORT=0 picks a free one).`);
    throw error;
  });
  // `localhost` may resolve to ::1 first; answer there too when the machine has IPv6 loopback.
  const v6 = createServer({ keepAliveTimeout: 5000 }, onRequest);
  await listen(v6, port, '::1').then(
    () => servers.push(v6),
    () => undefined,
  );
  const portalUrl = `http://localhost:${port}`;
  const apiUrl = `${portalUrl}${API_PREFIX}`;
  const portalOrigins = [`http://localhost:${port}`, `http://127.0.0.1:${port}`];

  const closeServers = () =>
    Promise.all(
      servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (!s.listening) return resolve();
            s.close(() => resolve());
            s.closeIdleConnections();
          }),
      ),
    );

  // ── Emulators. Events that arrive before the inspector is wired wait in `early`. ──
  let feeder: SqsEventFeeder | undefined;
  const early: { raw: S3ObjectEvent; origin: S3RequestOrigin }[] = [];
  const onS3Event = (raw: S3ObjectEvent, origin: S3RequestOrigin) => {
    if (!isSubscribed(raw)) return;
    if (feeder) feeder.sendS3Records([normalizeS3Record(raw, origin)]);
    else early.push({ raw, origin });
  };
  const [dynamoResult, s3Result] = await Promise.allSettled([
    startDynamoLocal({ ...(settings.dynamoPort !== undefined ? { port: settings.dynamoPort } : {}), dataDir: join(dataDir, 'dynamodb') }),
    startS3rverThread({
      ...(settings.s3Port !== undefined ? { port: settings.s3Port } : {}),
      dataDir: join(dataDir, 's3'),
      buckets: [{ name: bucketName, corsOrigins: portalOrigins }],
      onEvent: onS3Event,
    }),
  ]);
  if (dynamoResult.status === 'rejected' || s3Result.status === 'rejected') {
    await Promise.all([dynamoResult, s3Result].map((r) => (r.status === 'fulfilled' ? r.value.stop() : undefined)));
    await closeServers();
    throw dynamoResult.status === 'rejected' ? dynamoResult.reason : (s3Result as PromiseRejectedResult).reason;
  }
  const dynamo: RunningEmulator = dynamoResult.value;
  const s3rver: RunningEmulator = s3Result.value;
  if (s3rver.incompleteObjectsRemoved) {
    logger.warn('Removed partial objects of uploads cut off by the last stop; those files are still declared and can be uploaded again', { objects: s3rver.incompleteObjectsRemoved });
  }

  let app: LocalApp | undefined;
  let sweepTimer: NodeJS.Timeout | undefined;
  let sweeping: Promise<void> | undefined;
  let stopping: Promise<void> | undefined;

  const stop = () =>
    (stopping ??= (async () => {
      handleRequest = undefined;
      // Everything below shares one budget, so Ctrl-C ends local mode within seconds whatever is queued.
      const deadline = Date.now() + STOP_DRAIN_MS;
      const requestsDone = inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => (drained = resolve));
      const closed = closeServers();
      await within(deadline, requestsDone);
      servers.forEach((s) => s.closeAllConnections());
      await closed;
      if (sweepTimer) clearInterval(sweepTimer);
      if (feeder) {
        const dropped = await feeder.stop(Math.max(0, deadline - Date.now()));
        // Their objects are re-announced at the next start (findLostObjectEvents), so no upload waits forever.
        logger.info('Inspection stopped', { ...feeder.stats, leftForNextStart: dropped });
      }
      // Retention tagging resumes on the next scheduled sweep (applyRetention), and a delivery cut off is resumed at
      // the next start, so neither need finish now.
      // A completion cut short stays queued on disk and runs again at the next start.
      app?.stopCompleter();
      await within(deadline, Promise.all([sweeping, app?.sweeperIdle(), app?.deliveryIdle(), app?.completerIdle()]));
      if (app) {
        const usage = app.usage();
        logger.info('DynamoDB calls by the handlers', Object.fromEntries(Object.entries(usage.dynamo).map(([op, u]) => [op, u.calls])));
        // For bench:cost: what this run's handlers asked of AWS, in requests and capacity units.
        writeFileSync(join(dataDir, 'usage.json'), `${JSON.stringify(usage, null, 2)}
`, { mode: 0o600 });
      }
      await s3rver.stop();
      await dynamo.stop();
      app?.destroy();
      unlock();
    })());

  try {
    app = buildLocalApp({
      dynamoEndpoint: dynamo.endpoint,
      s3Endpoint: s3rver.endpoint,
      tableName,
      bucketName,
      institution,
      adminTokenHash: createHash('sha256').update(adminToken).digest('hex'),
      eventsFile: join(dataDir, 'events.jsonl'),
      completionsDir: join(dataDir, 'completions'),
      observability: output.app,
    });
    const localApp = app;
    await ensureTable(localApp.dynamoClient, tableName);
    const deadLetters = join(dataDir, 'dead-letters.jsonl');
    feeder = new SqsEventFeeder({
      handler: localApp.inspector,
      batchSize: 10,
      // Fuller batches (up to 10) read their files and session in one call; the window adds at most
      // 0.1 s before the last files of an upload are inspected (AWS waits up to 1 s, lib/inspection.ts).
      maxBatchingWindowMs: 100,
      concurrency: settings.inspectionConcurrency,
      maxReceiveCount: 5,
      onBatchError: (error) => logger.error('Inspector batch failed; its messages will be redelivered', describeError(error)),
      // Object keys carry no patient data, so the message body may be kept for an operator.
      onDeadLetter: (letter) => {
        logger.error('Inspection gave up on a message after repeated failures', { messageId: letter.messageId, receiveCount: letter.receiveCount, file: deadLetters });
        appendFileSync(deadLetters, `${JSON.stringify({ ...letter, at: new Date().toISOString() })}\n`, { mode: 0o600 });
      },
    });
    for (const { raw, origin } of early.splice(0)) feeder.sendS3Records([normalizeS3Record(raw, origin)]);
    const lost = await findLostObjectEvents({ dynamo: localApp.dynamoClient, s3: localApp.s3Client, tableName, bucketName });
    if (lost.length) {
      logger.info('Re-announcing uploads that arrived while inspection was not running', { files: lost.length });
      feeder.sendS3Records(lost);
    }

    const build = await ensurePortalBuilt(settings.root, (line) => logger.info(line));
    if (build.status === 'absent') logger.warn('The portal is not built; serving a placeholder page', { reason: build.reason });
    const api = createApiAdapter({
      handlers: localApp.apiHandlers,
      onHandlerError: (error, route) => logger.error('Handler threw', { route: route.id, ...describeError(error) }),
    });
    const portal = createPortalServer({
      root: settings.root,
      build,
      // Presigned PUTs go to the S3 emulator, on its own port.
      connectSources: [s3rver.endpoint],
      apiUrlFor: (req) => {
        // The portal calls the API on the origin it was loaded from (localhost or 127.0.0.1).
        const host = req.headers.host ?? '';
        return /^(localhost|127\.0\.0\.1|\[::1\]):\d+$/.test(host) ? `http://${host}${API_PREFIX}` : apiUrl;
      },
    });
    handleRequest = async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://local');
      if (url.pathname === API_PREFIX || url.pathname.startsWith(`${API_PREFIX}/`)) {
        await api(req, res, url.pathname.slice(API_PREFIX.length) || '/', url.search.slice(1));
      } else {
        portal(req, res, url.pathname);
      }
    };

    const info: LocalModeInfo = { portalUrl, apiUrl, adminToken, s3Endpoint: s3rver.endpoint, bucketName, institutionId: institution.id, pid: process.pid };
    const uploadCode = await issueUploadCode(info, { reference: 'npm start' });
    writeLocalInfo(dataDir, info);

    const completions = localApp.resumeCompletions();
    if (completions) logger.info('Resuming completions cut off by the last stop', { sessions: completions });
    void localApp.resumeDeliveries().catch((error: unknown) => logger.error('Resuming deliveries failed', describeError(error)));
    sweepTimer = setInterval(() => {
      if (sweeping) return;
      sweeping = localApp
        .sweep()
        .catch((error: unknown) => logger.error('Sweep failed', describeError(error)))
        .finally(() => (sweeping = undefined));
    }, settings.sweepIntervalMs);
    return { ...info, uploadCode, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Issues a code through the API's own admin route, exactly as `npm run codes -- create` does. */
export async function issueUploadCode(
  info: Pick<LocalModeInfo, 'apiUrl' | 'adminToken'>,
  body: { maxSessionBytes?: number; validDays?: number; reference?: string } = {},
): Promise<string> {
  const response = await fetch(`${info.apiUrl}/admin/upload-codes`, {
    method: 'POST',
    headers: { authorization: `Bearer ${info.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status !== 201 && response.status !== 200) throw new Error(`Issuing an upload code failed: HTTP ${response.status} ${text}`);
  const code = (JSON.parse(text) as { code?: unknown }).code;
  if (typeof code !== 'string') throw new Error(`Issuing an upload code returned no code: ${text}`);
  return code;
}
