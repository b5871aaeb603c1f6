/**
 * The local S3 gate: an HTTP front for s3rver that enforces what S3 enforces and s3rver does not.
 *  - SigV4 signature and expiry on every request (presigned or header-signed); anonymous → 403.
 *  - Bodies are spooled to disk while their SHA-256 is computed, and reach s3rver only when they
 *    match: Content-Length, `x-amz-checksum-sha256`, the header-signed `x-amz-content-sha256`.
 *    A refused body leaves nothing in the bucket.
 *  - `If-None-Match: *` on PutObject and CompleteMultipartUpload → 412 when the key exists, checked
 *    and written under a per-key lock, so two racing writers cannot both win.
 *  - ListParts and AbortMultipartUpload (s3rver lacks them); completion checks its parts.
 * CORS preflights pass to s3rver, which answers them from the bucket's CORS configuration.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { Agent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { completionProblem, listPartsXml, MultipartUploads, parseCompletion, type S3rverStore } from './multipart';
import { SigV4Verifier, type Credentials } from './signature';

export interface GateOptions {
  /** s3rver's own address (loopback, not exposed). */
  upstream: { host: string; port: number };
  store: S3rverStore;
  /** Where bodies wait while they are checked; emptied at start. */
  spoolDir: string;
  credentials: Credentials[];
  now?: () => Date;
}

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const MAX_XML_BODY_BYTES = 1024 * 1024;
/** How long s3rver may stay silent on a request before the gate gives up on it. */
const UPSTREAM_IDLE_MS = 5 * 60_000;
/** Below s3rver's keep-alive timeout (Node's default, 5 s), with room for both timers' slack. */
const UPSTREAM_KEEP_ALIVE_MS = 3_000;
/** Hop-by-hop headers describe s3rver's connection to the gate, not the gate's to its client (RFC 9110 7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade']);

function relayedHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name)));
}

interface Target {
  bucket?: string;
  key?: string;
  query: URLSearchParams;
  path: string;
}

function targetOf(req: IncomingMessage): Target {
  const raw = req.url ?? '/';
  const mark = raw.indexOf('?');
  const path = mark < 0 ? raw : raw.slice(0, mark);
  const query = new URLSearchParams(mark < 0 ? '' : raw.slice(mark + 1));
  const [, bucket, ...rest] = path.split('/');
  // Throws on a malformed escape: answered as S3 does, InvalidURI.
  const key = rest.length ? decodeURIComponent(rest.join('/')) : undefined;
  return { ...(bucket ? { bucket } : {}), ...(key ? { key } : {}), query, path };
}

/** One writer per key between the existence check and s3rver's answer. */
class KeyLocks {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    await previous;
    try {
      return await task();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

export class S3Gate {
  private readonly verifier: SigV4Verifier;
  private readonly uploads: MultipartUploads;
  private readonly locks = new KeyLocks();
  /**
   * Idle sockets to s3rver are closed by the gate before s3rver closes them (its keep-alive timeout
   * is Node's 5 s): a request sent on a socket s3rver is closing at that instant fails (ECONNRESET),
   * which the client would see as a 500.
   */
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64, timeout: UPSTREAM_KEEP_ALIVE_MS });
  private readonly now: () => Date;

  constructor(private readonly opts: GateOptions) {
    rmSync(opts.spoolDir, { recursive: true, force: true });
    mkdirSync(opts.spoolDir, { recursive: true });
    this.verifier = new SigV4Verifier(opts.credentials);
    this.uploads = new MultipartUploads(opts.store);
    this.now = opts.now ?? (() => new Date());
  }

  /** The HTTP request listener. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    let target: Target;
    try {
      target = targetOf(req);
    } catch {
      return void this.refuse(req, res, undefined, new Refusal(400, 'InvalidURI', "Couldn't parse the specified URI."));
    }
    this.route(req, res, target).catch((error: unknown) => {
      if (res.headersSent) return void res.destroy();
      const refusal = error instanceof Refusal ? error : new Refusal(500, 'InternalError', 'We encountered an internal error. Please try again.');
      this.refuse(req, res, target.bucket, refusal).catch(() => res.destroy());
    });
  };

  /**
   * Sends the request on to s3rver with `body` (or the request's own stream) and relays the answer.
   * `settle` runs before a 200 is relayed.
   */
  private forward(
    req: IncomingMessage,
    res: ServerResponse,
    body: { stream: NodeJS.ReadableStream; length?: number } = { stream: req },
    settle?: () => Promise<void>,
  ): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const headers = relayedHeaders(req.headers);
      if (body.length !== undefined) {
        delete headers['transfer-encoding'];
        headers['content-length'] = String(body.length);
      }
      const upstream = httpRequest({ ...this.opts.upstream, agent: this.agent, method: req.method, path: req.url, headers }, (answer) => {
        const status = answer.statusCode ?? 502;
        const relay = () => {
          // The client went away meanwhile: the answer is dropped with its connection, which the agent then forgets.
          if (res.destroyed) return void (answer.destroy(), resolve(status));
          res.writeHead(status, relayedHeaders(answer.headers));
          // Headers go out now, as s3rver sent them: a client may act on them before any body byte.
          res.flushHeaders();
          // pipeline, not pipe: a client that leaves mid-answer settles this too, or a key lock would be held for good.
          pipeline(answer, res).then(() => resolve(status), reject);
        };
        if (status === 200 && settle) settle().then(relay, reject);
        else relay();
      });
      // s3rver silent this long (5 min: it completes a multipart upload of several GB before answering) is stuck: the client gets a 500, the key lock is released.
      upstream.setTimeout(UPSTREAM_IDLE_MS, () => upstream.destroy(new Error('s3rver did not answer')));
      upstream.once('error', reject);
      body.stream.pipe(upstream);
    });
  }

  /**
   * s3rver answers a write when its hash stream ends, before the file is flushed: a GET right after
   * could read it short. S3 reads after writes; so does the gate, waiting for the object's full size.
   */
  private objectComplete(bucket: string, key: string, size: number): () => Promise<void> {
    return async () => {
      const path = this.opts.store.getResourcePath(bucket, key, 'object');
      for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 5))) {
        if ((await stat(path).catch(() => undefined))?.size === size) return;
      }
    };
  }

  /** S3 puts the bucket's CORS headers on its errors too; without them the portal could not read a 412. */
  private async corsHeaders(req: IncomingMessage, bucket: string | undefined): Promise<Record<string, string>> {
    const origin = req.headers.origin;
    if (!origin || !bucket) return {};
    const cors = await this.opts.store.getSubresource(bucket, undefined, 'cors').catch(() => null);
    if (!cors?.matchRule(origin, req.method ?? 'GET')) return {};
    return { 'access-control-allow-origin': origin, 'access-control-expose-headers': 'ETag', vary: 'Origin' };
  }

  private async refuse(req: IncomingMessage, res: ServerResponse, bucket: string | undefined, refusal: Refusal) {
    const xml = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${refusal.code}</Code><Message>${refusal.message}</Message></Error>`;
    const headers: Record<string, string> = { 'content-type': 'application/xml', 'content-length': String(Buffer.byteLength(xml)), ...(await this.corsHeaders(req, bucket)) };
    // The body is read to its end (and dropped) so the client sees the answer, not a reset.
    const send = () => res.writeHead(refusal.status, headers).end(req.method === 'HEAD' ? undefined : xml);
    if (req.readableEnded) send();
    // A body cut off (the client left, or the stream was destroyed) never ends: nobody is waiting for an answer.
    else if (req.destroyed) res.destroy();
    else {
      req.once('end', send);
      req.once('error', () => res.destroy());
      req.resume();
    }
  }

  /** Spools the body while hashing it; the file is the caller's to remove. */
  private async spool(req: IncomingMessage): Promise<{ file: string; length: number; sha256: Buffer }> {
    const file = join(this.opts.spoolDir, randomUUID());
    const hash = createHash('sha256');
    let length = 0;
    req.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      length += chunk.length;
    });
    await pipeline(req, createWriteStream(file));
    return { file, length, sha256: hash.digest() };
  }

  /** Refuses a spooled body that does not match what its headers promise. */
  private checkBody(req: IncomingMessage, target: Target, body: { length: number; sha256: Buffer }) {
    const declaredLength = req.headers['content-length'];
    if (declaredLength === undefined || Number(declaredLength) !== body.length) {
      throw new Refusal(400, 'IncompleteBody', 'You did not provide the number of bytes specified by the Content-Length HTTP header.');
    }
    const checksum = req.headers['x-amz-checksum-sha256'] ?? target.query.get('x-amz-checksum-sha256') ?? undefined;
    if (checksum !== undefined && checksum !== body.sha256.toString('base64')) {
      throw new Refusal(400, 'BadDigest', 'The SHA256 you specified did not match the calculated checksum.');
    }
    const contentSha = req.headers['x-amz-content-sha256'];
    if (typeof contentSha === 'string' && /^[0-9a-f]{64}$/.test(contentSha) && contentSha !== body.sha256.toString('hex')) {
      throw new Refusal(400, 'XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.");
    }
  }

  private async ifNoneMatch(req: IncomingMessage, bucket: string, key: string) {
    const condition = req.headers['if-none-match'];
    if (condition === undefined) return;
    if (condition !== '*') throw new Refusal(501, 'NotImplemented', 'If-None-Match supports only *.');
    if (await this.opts.store.existsObject(bucket, key)) throw new Refusal(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
  }

  /** PutObject and UploadPart: nothing reaches s3rver before the body checks out. */
  private async putBody(req: IncomingMessage, res: ServerResponse, target: Target & { bucket: string; key: string }) {
    const uploadId = target.query.get('uploadId');
    const partNumber = Number(target.query.get('partNumber'));
    if (uploadId !== null && !(await this.uploads.isOpen(target.bucket, target.key, uploadId))) {
      throw new Refusal(404, 'NoSuchUpload', 'The specified upload does not exist.');
    }
    // A write that could never succeed is refused before its body is read, as S3 refuses it (412).
    if (uploadId === null) await this.ifNoneMatch(req, target.bucket, target.key);
    const body = await this.spool(req);
    try {
      this.checkBody(req, target, body);
      const send = (settle?: () => Promise<void>) => this.forward(req, res, { stream: createReadStream(body.file), length: body.length }, settle);
      if (uploadId === null) {
        await this.locks.run(`${target.bucket}/${target.key}`, async () => {
          await this.ifNoneMatch(req, target.bucket, target.key);
          await send(this.objectComplete(target.bucket, target.key, body.length));
        });
      } else if ((await send()) === 200 && req.headers['x-amz-checksum-sha256']) {
        await this.uploads.recordPartChecksum(target.bucket, uploadId, partNumber, body.sha256.toString('base64'));
      }
    } finally {
      await rm(body.file, { force: true });
    }
  }

  private async readSmallBody(req: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let length = 0;
    // Read to its end even when too big: leaving the loop early would destroy the request, and the refusal with it.
    for await (const chunk of req as AsyncIterable<Buffer>) {
      length += chunk.length;
      if (length <= MAX_XML_BODY_BYTES) chunks.push(chunk);
    }
    if (length > MAX_XML_BODY_BYTES) throw new Refusal(400, 'MaxMessageLengthExceeded', 'Your request was too big.');
    return Buffer.concat(chunks);
  }

  private async completeMultipart(req: IncomingMessage, res: ServerResponse, target: Target & { bucket: string; key: string }, uploadId: string) {
    const xml = await this.readSmallBody(req);
    if (!(await this.uploads.isOpen(target.bucket, target.key, uploadId))) throw new Refusal(404, 'NoSuchUpload', 'The specified upload does not exist.');
    const named = parseCompletion(xml.toString('utf8'));
    if (!named) throw new Refusal(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.');
    const held = await this.uploads.list(target.bucket, uploadId);
    const problem = completionProblem(named, held);
    if (problem) throw new Refusal(400, problem.code, problem.message);
    const size = named.reduce((sum, part) => sum + held.find((p) => p.partNumber === part.partNumber)!.size, 0);
    await this.locks.run(`${target.bucket}/${target.key}`, async () => {
      await this.ifNoneMatch(req, target.bucket, target.key);
      await this.forward(req, res, { stream: Readable.from([xml]), length: xml.length }, this.objectComplete(target.bucket, target.key, size));
    });
  }

  private async listParts(res: ServerResponse, target: Target & { bucket: string; key: string }, uploadId: string) {
    if (!(await this.uploads.isOpen(target.bucket, target.key, uploadId))) throw new Refusal(404, 'NoSuchUpload', 'The specified upload does not exist.');
    const marker = Number(target.query.get('part-number-marker') ?? 0) || 0;
    const maxParts = Math.min(1000, Number(target.query.get('max-parts') ?? 1000) || 1000);
    const xml = listPartsXml(target.bucket, target.key, uploadId, await this.uploads.list(target.bucket, uploadId), marker, maxParts);
    res.writeHead(200, { 'content-type': 'application/xml', 'content-length': String(Buffer.byteLength(xml)) }).end(xml);
  }

  private async abortMultipart(res: ServerResponse, target: Target & { bucket: string; key: string }, uploadId: string) {
    if (!(await this.uploads.isOpen(target.bucket, target.key, uploadId))) throw new Refusal(404, 'NoSuchUpload', 'The specified upload does not exist.');
    await this.uploads.abort(target.bucket, uploadId);
    res.writeHead(204).end();
  }

  private async route(req: IncomingMessage, res: ServerResponse, target: Target) {
    if (req.method === 'OPTIONS') return void (await this.forward(req, res));
    const verdict = await this.verifier.verify({ method: req.method ?? 'GET', path: target.path, query: target.query, headers: req.headers }, this.now());
    if (!verdict.ok) throw new Refusal(403, verdict.code, verdict.message);
    const uploadId = target.query.get('uploadId');
    if (target.bucket && target.key) {
      const object = target as Target & { bucket: string; key: string };
      // PutObjectTagging (`?tagging`) writes no object: it goes straight through, not through the write checks.
      if (req.method === 'PUT' && !req.headers['x-amz-copy-source'] && !target.query.has('tagging')) return this.putBody(req, res, object);
      if (req.method === 'POST' && uploadId) return this.completeMultipart(req, res, object, uploadId);
      if (req.method === 'GET' && uploadId) return this.listParts(res, object, uploadId);
      if (req.method === 'DELETE' && uploadId) return this.abortMultipart(res, object, uploadId);
    }
    await this.forward(req, res);
  }
}
