/**
 * The upload manager: declares files in batches of at most `maxDicomFilesAtOnce` DICOM files,
 * keeps at most that many transfers in flight, retries failed transfers and API calls with backoff
 * (waiting out an offline browser), renews an expired URL (POST …/upload-url), reports progress per
 * study, and can be cancelled. A file declared before (a reload, an earlier attempt) is continued,
 * not declared again. Declared files that did not finish stay declared, so the next attempt resumes
 * them; only a file whose bytes S3 refused is released.
 */
import { MAX_FILES_PER_REQUEST } from '../../lambdas/core/limits';
import { ApiError, type ApiClient, type UploadGrant, type UploadRequestFile } from './api';
import { inlineHasher, type Hasher } from './hasher';
import { PartFailedError, sendMultipart, type PutBody } from './multipart';
import { DEFAULT_RETRY, backoffMs, isTransientStatus, retryingApi, untilOnline, type RetryPolicy } from './transfer-retry';

export interface UploadJob extends Omit<UploadRequestFile, 'sha256'> {
  /** Known already (e.g. from an earlier pass); otherwise the body is hashed before it is declared. */
  sha256?: string;
  /** Each part's SHA-256, when the body was hashed with its parts already. */
  partHashes?: readonly string[];
  /** Declared already (a file of a reloaded session, or of an earlier attempt): its grant is renewed, not declared again. */
  fileId?: string;
  /** The bytes, produced only when the transfer starts (a ZIP entry is inflated then). */
  body: () => Promise<Blob>;
}

/** Sends one body to a presigned URL; resolves with the HTTP status, rejects on network errors. */
export type Transfer = (grant: UploadGrant, body: Blob, onProgress: (sentBytes: number) => void, signal: AbortSignal) => Promise<number>;

export interface UploadProgress {
  totalBytes: number;
  sentBytes: number;
  filesTotal: number;
  filesDone: number;
  studies: { studyInstanceUid: string; totalBytes: number; sentBytes: number }[];
  /** Undefined until there is enough history to estimate. */
  secondsLeft?: number;
}

export interface UploadDeps {
  sessionId: string;
  /** The multipart routes are needed only when a grant says MULTIPART. */
  api: Pick<ApiClient, 'requestUploads' | 'removeFile' | 'renewUpload'> & Partial<Pick<ApiClient, 'signParts' | 'listParts' | 'finishUpload'>>;
  transfer: Transfer;
  /** PUTs one part and reports its ETag (multipart uploads). */
  putPart?: PutBody;
  /** Hashes bodies before they are declared: the hash worker in the browser. */
  hash?: Hasher;
  /** DESIGN.md: at most this many DICOM files per upload request and in flight. */
  maxDicomFilesAtOnce: number;
  /** Tries of one transfer or API call (DEFAULT_RETRY otherwise). */
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** A URL expiring within this margin is replaced before it is used. */
  expiryMarginMs?: number;
  now?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Resolves when the network is back (the browser's `online` event); at once by default outside a browser. */
  online?: (signal: AbortSignal) => Promise<void>;
  onProgress?: (progress: UploadProgress) => void;
}

export class UploadCancelledError extends Error {
  constructor() {
    super('upload cancelled');
    this.name = 'UploadCancelledError';
  }
}

export class UploadFailedError extends Error {
  constructor(
    readonly fileName: string,
    override readonly cause?: unknown,
    /** S3 refused the bytes themselves: trying the same declaration again cannot help. */
    readonly refused = false,
  ) {
    super(`could not upload ${fileName}`);
    this.name = 'UploadFailedError';
  }
}

/** Batches of granted URLs kept ahead of the transfers (see UploadManager.take). */
const GRANTED_AHEAD_BATCHES = 2;


/**
 * Splits the jobs still to declare into upload requests: per study, ≤ max DICOM files each;
 * attachments ride with their study's first request. Jobs declared already need no request.
 */
export function planBatches(jobs: readonly UploadJob[], maxDicomFilesAtOnce: number): UploadJob[][] {
  const byStudy = new Map<string, { dicom: UploadJob[]; attachments: UploadJob[] }>();
  for (const job of jobs) {
    if (job.fileId) continue;
    let s = byStudy.get(job.studyInstanceUid);
    if (!s) byStudy.set(job.studyInstanceUid, (s = { dicom: [], attachments: [] }));
    (job.kind === 'dicom' ? s.dicom : s.attachments).push(job);
  }
  const batches: UploadJob[][] = [];
  for (const { dicom, attachments } of byStudy.values()) {
    const first = batches.length;
    for (let i = 0; i < dicom.length; i += maxDicomFilesAtOnce) batches.push(dicom.slice(i, i + maxDicomFilesAtOnce));
    // Attachments of a study whose DICOM files were declared earlier (a resumed session) go alone;
    // no request carries more than the API's 32 files.
    let rest = attachments;
    if (batches.length > first) {
      const room = Math.max(0, MAX_FILES_PER_REQUEST - batches[first]!.length);
      batches[first]!.push(...rest.slice(0, room));
      rest = rest.slice(room);
    }
    for (let i = 0; i < rest.length; i += MAX_FILES_PER_REQUEST) batches.push(rest.slice(i, i + MAX_FILES_PER_REQUEST));
  }
  return batches;
}

/** Estimates time left from the bytes sent over the last `windowMs`. */
export class RateEstimator {
  private samples: { at: number; sent: number }[] = [];

  constructor(private readonly windowMs = 10_000) {}

  add(at: number, sent: number): void {
    this.samples.push({ at, sent });
    while (this.samples.length > 2 && at - this.samples[0]!.at > this.windowMs) this.samples.shift();
  }

  secondsLeft(remainingBytes: number): number | undefined {
    if (remainingBytes <= 0) return 0;
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last.at - first.at < 1000 || last.sent <= first.sent) return undefined;
    const bytesPerMs = (last.sent - first.sent) / (last.at - first.at);
    return Math.ceil(remainingBytes / bytesPerMs / 1000);
  }
}

const defaultSleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(new UploadCancelledError());
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), reject(new UploadCancelledError())), { once: true });
  });

/** The transfers allowed at once, shared by the lanes and the extra parts of multipart files. */
class Slots {
  used = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  tryAcquire(): boolean {
    if (this.used >= this.limit) return false;
    this.used++;
    return true;
  }

  async acquire(): Promise<void> {
    while (!this.tryAcquire()) await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    this.used--;
    this.waiting.shift()?.();
  }
}

export class UploadManager {
  private readonly controller = new AbortController();
  private readonly batches: UploadJob[][];
  /** Granted files, and files declared before whose grant is renewed when they start. */
  private readonly ready: { job: UploadJob; grant?: UploadGrant }[] = [];
  /** clientId → fileId of files declared and not yet sent. */
  private readonly declared = new Map<string, string>();
  private readonly sent = new Map<string, number>();
  private readonly done = new Set<string>();
  /** clientId → each part's SHA-256, computed in the same read as the file's, for files large enough for parts. */
  private readonly partHashes = new Map<string, readonly string[]>();
  private readonly estimator = new RateEstimator();
  private requesting?: Promise<void>;
  private readonly slots: Slots;
  private peakInFlight = 0;
  private failure?: unknown;
  private cancelled = false;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly retry: RetryPolicy;

  constructor(
    private readonly jobs: readonly UploadJob[],
    private readonly deps: UploadDeps,
  ) {
    this.batches = planBatches(jobs, deps.maxDicomFilesAtOnce);
    this.now = deps.now ?? (() => Date.now());
    this.sleep = deps.sleep ?? defaultSleep;
    this.slots = new Slots(Math.max(1, deps.maxDicomFilesAtOnce));
    this.retry = {
      maxAttempts: deps.maxAttempts ?? DEFAULT_RETRY.maxAttempts,
      baseDelayMs: deps.baseDelayMs ?? DEFAULT_RETRY.baseDelayMs,
      maxDelayMs: deps.maxDelayMs ?? DEFAULT_RETRY.maxDelayMs,
    };
    // Files declared before go first: their reservations are held already, and a part-sent one continues.
    for (const job of jobs) {
      if (!job.fileId) continue;
      this.declared.set(job.clientId, job.fileId);
      if (job.partHashes) this.partHashes.set(job.clientId, job.partHashes);
      this.ready.push({ job });
    }
  }

  /** The most transfers that were ever running at once (the tests hold us to the limit). */
  get maxObservedInFlight(): number {
    return this.peakInFlight;
  }

  /** clientId → fileId of every file that reached the bucket. */
  readonly uploaded = new Map<string, string>();

  /** clientId → fileId of files declared and not sent: still reserved, so the next attempt continues them. */
  get unsent(): ReadonlyMap<string, string> {
    return this.declared;
  }

  async run(): Promise<void> {
    this.report();
    const lanes = Array.from({ length: Math.max(1, this.deps.maxDicomFilesAtOnce) }, () => this.lane());
    const results = await Promise.allSettled(lanes);
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    if (this.failure || failed) throw this.failure ?? failed!.reason;
    if (this.controller.signal.aborted) throw new UploadCancelledError();
  }

  /** Stops every transfer; run() then rejects. What was declared stays declared, for the next attempt. */
  cancel(): void {
    this.cancelled = true;
    this.controller.abort();
  }

  private fail(error: unknown): void {
    if (this.cancelled) return;
    this.failure ??= error;
    this.controller.abort();
  }

  /** Waits before try `attempt + 1`: backoff, then until the browser is online again. */
  private async pause(attempt: number): Promise<void> {
    const signal = this.controller.signal;
    await this.sleep(backoffMs(attempt, this.retry), signal);
    await (this.deps.online ?? untilOnline)(signal);
    if (signal.aborted) throw new UploadCancelledError();
  }

  /** An API call, tried again after a network drop or a server fault. */
  private call<T>(request: () => Promise<T>): Promise<T> {
    return retryingApi(request, (attempt) => this.pause(attempt), this.retry.maxAttempts);
  }

  private async lane(): Promise<void> {
    for (;;) {
      if (this.controller.signal.aborted) return;
      const next = await this.take();
      if (!next) return;
      // A multipart file may hold slots that idle lanes lent it: wait for one to come back.
      await this.slots.acquire();
      this.peakInFlight = Math.max(this.peakInFlight, this.slots.used);
      try {
        await this.send(next.job, next.grant);
      } catch (error) {
        if (error instanceof UploadFailedError && error.refused) await this.release(next.job);
        if (!(error instanceof UploadCancelledError)) this.fail(error);
        return;
      } finally {
        this.slots.release();
      }
    }
  }

  /** The next file to send, requesting the next batch when the ready queue runs dry. */
  private async take(): Promise<{ job: UploadJob; grant?: UploadGrant } | undefined> {
    for (;;) {
      const next = this.ready.shift();
      if (next) {
        // Ask for the next batch as soon as the current one starts, so the upload request runs while
        // it transfers and lanes do not wait on the API. At most one request at a time and about two
        // batches granted ahead, no more: URLs expire (a near-expiry one is renewed in send()).
        if (this.ready.length < GRANTED_AHEAD_BATCHES * Math.max(1, this.deps.maxDicomFilesAtOnce)) void this.requestNext();
        return next;
      }
      if (this.batches.length === 0 && !this.requesting) return undefined;
      await this.requestNext();
      if (this.controller.signal.aborted) return undefined;
    }
  }

  private requestNext(): Promise<void> {
    if (this.requesting) return this.requesting;
    const batch = this.batches.shift();
    if (!batch) return Promise.resolve();
    this.requesting = this.declare(batch)
      .then((grants) => {
        for (const job of batch) this.ready.push({ job, grant: grants.get(job.clientId)! });
      })
      .catch((error: unknown) => this.fail(error))
      .finally(() => (this.requesting = undefined));
    return this.requesting;
  }

  private async declare(batch: readonly UploadJob[]): Promise<Map<string, UploadGrant>> {
    const files: UploadRequestFile[] = [];
    for (const { body, partHashes, fileId: _declared, ...file } of batch) {
      if (file.sha256) {
        if (partHashes) this.partHashes.set(file.clientId, partHashes);
        files.push({ ...file, sha256: file.sha256 });
        continue;
      }
      const hashes = await (this.deps.hash ?? inlineHasher)(await body());
      if (hashes.parts) this.partHashes.set(file.clientId, hashes.parts);
      files.push({ ...file, sha256: hashes.sha256 });
    }
    const { uploads } = await this.call(() => this.deps.api.requestUploads(this.deps.sessionId, files));
    const grants = new Map(uploads.map((g) => [g.clientId, g]));
    for (const job of batch) {
      const grant = grants.get(job.clientId);
      if (!grant) throw new ApiError(502, 'INVALID_RESPONSE', `no upload URL for ${job.name}`);
      this.declared.set(job.clientId, grant.fileId);
    }
    return grants;
  }

  /**
   * A fresh grant for a declared file (POST …/upload-url): a new presigned PUT, or its multipart
   * upload. Undefined when the file arrived meanwhile. A declaration the server no longer has (removed
   * elsewhere) is made again.
   */
  private async renew(job: UploadJob): Promise<UploadGrant | undefined> {
    const fileId = this.declared.get(job.clientId) ?? job.fileId!;
    try {
      return { ...(await this.call(() => this.deps.api.renewUpload(this.deps.sessionId, fileId))), clientId: job.clientId };
    } catch (error) {
      if (error instanceof ApiError && error.code === 'FILE_ALREADY_RECEIVED') return void this.finished(job, fileId);
      if (!(error instanceof ApiError && error.status === 404)) throw error;
      this.declared.delete(job.clientId);
      return (await this.declare([job])).get(job.clientId);
    }
  }

  /** Removes a declaration whose bytes S3 refused, so the next attempt declares the file afresh. */
  private async release(job: UploadJob): Promise<void> {
    const fileId = this.declared.get(job.clientId);
    if (!fileId) return;
    this.declared.delete(job.clientId);
    await this.deps.api.removeFile(this.deps.sessionId, fileId).catch(() => undefined);
  }

  private async send(job: UploadJob, firstGrant?: UploadGrant): Promise<void> {
    const margin = this.deps.expiryMarginMs ?? 15_000;
    const signal = this.controller.signal;
    let grant = firstGrant ?? (await this.renew(job));
    if (!grant) return;
    if (grant.method === 'MULTIPART') return this.sendParts(job, grant);
    if (grant.method !== 'PUT') throw new UploadFailedError(job.name, new Error(`unsupported transfer method ${grant.method}`));
    const body = await job.body();
    for (let attempt = 1; ; attempt++) {
      if (signal.aborted) throw new UploadCancelledError();
      if (Date.parse(grant.expiresAt) - this.now() < margin) grant = (await this.renew(job)) ?? grant;
      if (this.done.has(job.clientId)) return;
      let status: number | undefined;
      let networkError: unknown;
      try {
        status = await this.deps.transfer(grant, body, (bytes) => this.progress(job, bytes), signal);
      } catch (error) {
        if (signal.aborted) throw new UploadCancelledError();
        networkError = error;
      }
      // 412: an object is at this key already. Every URL for it signs the declared SHA-256, so it holds
      // these bytes: an earlier try arrived and only its answer was lost.
      if (status !== undefined && ((status >= 200 && status < 300) || status === 412)) return this.finished(job, grant.fileId);
      this.progress(job, 0);
      // 403 from S3 on a presigned URL means it expired: renew it.
      const expired = status === 403;
      if ((!expired && !isTransientStatus(status)) || attempt >= this.retry.maxAttempts) {
        throw new UploadFailedError(job.name, networkError ?? new Error(`HTTP ${status}`), !expired && !isTransientStatus(status));
      }
      if (expired) grant = (await this.renew(job)) ?? grant;
      else await this.pause(attempt);
      if (this.done.has(job.clientId)) return;
    }
  }

  private finished(job: UploadJob, fileId: string): void {
    this.progress(job, job.size);
    this.declared.delete(job.clientId);
    this.partHashes.delete(job.clientId);
    this.uploaded.set(job.clientId, fileId);
    this.done.add(job.clientId);
    this.report();
  }

  /** A multipart file: its lane sends one part and borrows free transfer slots for more. */
  private async sendParts(job: UploadJob, grant: UploadGrant): Promise<void> {
    const { signParts, listParts, finishUpload } = this.deps.api;
    if (!signParts || !listParts || !finishUpload) throw new UploadFailedError(job.name, new Error('this client cannot send parts'));
    const { sessionId } = this.deps;
    const api = {
      signParts: (...a: Parameters<typeof signParts>) => this.call(() => signParts.apply(this.deps.api, a)),
      listParts: (...a: Parameters<typeof listParts>) => this.call(() => listParts.apply(this.deps.api, a)),
      finishUpload: (...a: Parameters<typeof finishUpload>) => this.call(() => finishUpload.apply(this.deps.api, a)),
    };
    const signal = this.controller.signal;
    try {
      await sendMultipart(grant, await job.body(), this.partHashes.get(job.clientId), {
        sessionId,
        api,
        put: this.deps.putPart ?? xhrPut,
        signal,
        borrowSlot: () => this.slots.tryAcquire() && ((this.peakInFlight = Math.max(this.peakInFlight, this.slots.used)), true),
        releaseSlot: () => this.slots.release(),
        maxAttempts: this.retry.maxAttempts,
        backoff: (attempt) => this.pause(attempt),
        now: this.now,
        expiryMarginMs: this.deps.expiryMarginMs ?? 15_000,
        onProgress: (bytes) => this.progress(job, bytes),
        hash: async (part) => (await (this.deps.hash ?? inlineHasher)(part, { withParts: false })).sha256,
      });
    } catch (error) {
      if (signal.aborted) throw new UploadCancelledError();
      if (error instanceof ApiError) throw error;
      throw new UploadFailedError(job.name, error, error instanceof PartFailedError && error.status !== undefined && !isTransientStatus(error.status) && error.status !== 403);
    }
    this.finished(job, grant.fileId);
  }

  private progress(job: UploadJob, bytes: number): void {
    this.sent.set(job.clientId, Math.min(bytes, job.size));
    this.report();
  }

  private report(): void {
    const studies = new Map<string, { studyInstanceUid: string; totalBytes: number; sentBytes: number }>();
    let totalBytes = 0;
    let sentBytes = 0;
    for (const job of this.jobs) {
      let s = studies.get(job.studyInstanceUid);
      if (!s) studies.set(job.studyInstanceUid, (s = { studyInstanceUid: job.studyInstanceUid, totalBytes: 0, sentBytes: 0 }));
      const sent = this.sent.get(job.clientId) ?? 0;
      s.totalBytes += job.size;
      s.sentBytes += sent;
      totalBytes += job.size;
      sentBytes += sent;
    }
    const now = this.now();
    this.estimator.add(now, sentBytes);
    this.deps.onProgress?.({
      totalBytes,
      sentBytes,
      filesTotal: this.jobs.length,
      filesDone: this.done.size,
      studies: [...studies.values()],
      secondsLeft: this.estimator.secondsLeft(totalBytes - sentBytes),
    });
  }
}

/** Browser PUT with XMLHttpRequest (fetch() still cannot report upload progress); the bucket's CORS exposes ETag. */
export const xhrPut: PutBody = (target, body, onProgress, signal) =>
  new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', target.url);
    for (const [name, value] of Object.entries(target.headers ?? {})) {
      // The browser sets these itself and refuses them from scripts.
      if (!/^(content-length|host)$/i.test(name)) xhr.setRequestHeader(name, value);
    }
    xhr.upload.onprogress = (event) => onProgress(event.loaded);
    xhr.onload = () => resolve({ status: xhr.status, etag: xhr.getResponseHeader('etag') ?? undefined });
    xhr.onerror = () => reject(new Error('network error'));
    xhr.ontimeout = () => reject(new Error('timeout'));
    xhr.onabort = () => reject(new UploadCancelledError());
    signal.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(body);
  });

export const xhrTransfer: Transfer = async (grant, body, onProgress, signal) => (await xhrPut(grant, body, onProgress, signal)).status;
