/**
 * Sends one file as a multipart upload: asks S3 (through the API) which parts it already holds, signs
 * the missing ones in batches, PUTs a few in parallel within the overall transfer limit, retries a
 * failed part with backoff, re-signs a part whose URL expired, and finishes with every part's ETag.
 * A dropped connection or a reload costs only the parts that were in flight.
 */
import { MAX_PARTS_PER_REQUEST, partSizeOf } from '../../lambdas/core/transfers';
import { ApiError, type ApiClient, type PartGrant, type UploadGrant } from './api';

/** One PUT to a presigned URL; resolves with the status and the ETag S3 answered, rejects on network errors. */
export type PutBody = (
  target: { url: string; headers: Record<string, string> },
  body: Blob,
  onProgress: (sentBytes: number) => void,
  signal: AbortSignal,
) => Promise<{ status: number; etag?: string }>;

export interface MultipartDeps {
  sessionId: string;
  api: Pick<ApiClient, 'signParts' | 'listParts' | 'finishUpload'>;
  put: PutBody;
  signal: AbortSignal;
  /** Parts of this file in parallel, beyond the one its lane always has: each one a borrowed slot. */
  borrowSlot: () => boolean;
  releaseSlot: () => void;
  maxAttempts: number;
  backoff: (attempt: number) => Promise<void>;
  now: () => number;
  expiryMarginMs: number;
  onProgress: (sentBytes: number) => void;
  /** Base64 SHA-256 of a part whose hash was not computed with the file's. */
  hash: (part: Blob) => Promise<string>;
}

/** Base64 SHA-256 of each part, computed while the file was hashed; undefined parts are hashed when signed. */
export type PartHashes = readonly string[] | undefined;

export class PartFailedError extends Error {
  constructor(
    readonly partNumber: number,
    readonly status?: number,
  ) {
    super(`part ${partNumber} was not accepted${status === undefined ? '' : ` (HTTP ${status})`}`);
    this.name = 'PartFailedError';
  }
}

interface Plan {
  fileId: string;
  size: number;
  partSize: number;
  partCount: number;
}

export async function sendMultipart(grant: UploadGrant, body: Blob, hashes: PartHashes, deps: MultipartDeps): Promise<void> {
  const plan: Plan = { fileId: grant.fileId, size: body.size, partSize: grant.partSize!, partCount: grant.partCount! };
  const usable = hashes && hashes.length === plan.partCount ? hashes : undefined;
  const etags = new Map<number, string>();
  let heldBytes = 0;
  for (const part of (await deps.api.listParts(deps.sessionId, plan.fileId)).parts) {
    if (part.size !== partSizeOf(plan, plan.size, part.partNumber)) continue;
    etags.set(part.partNumber, part.etag);
    heldBytes += part.size;
  }
  const missing = Array.from({ length: plan.partCount }, (_, i) => i + 1).filter((n) => !etags.has(n));
  const inFlight = new Map<number, number>();
  const report = () => deps.onProgress(heldBytes + [...inFlight.values()].reduce((a, b) => a + b, 0));
  report();

  const signer = new PartSigner(plan, body, usable, deps);
  const sendPart = async (partNumber: number) => {
    const bytes = body.slice((partNumber - 1) * plan.partSize, (partNumber - 1) * plan.partSize + partSizeOf(plan, plan.size, partNumber));
    const etag = await putPart(partNumber, bytes, signer, deps, (sent) => (inFlight.set(partNumber, sent), report()));
    inFlight.delete(partNumber);
    etags.set(partNumber, etag);
    heldBytes += bytes.size;
    report();
  };
  await runParts(missing, sendPart, deps);
  const parts = [...etags.entries()].sort(([a], [b]) => a - b).map(([partNumber, etag]) => ({ partNumber, etag }));
  try {
    await deps.api.finishUpload(deps.sessionId, plan.fileId, parts);
  } catch (error) {
    // An earlier finish completed the upload and only its answer was lost (a drop): the file is there.
    if (!(error instanceof ApiError && error.code === 'FILE_ALREADY_RECEIVED')) throw error;
  }
}

/** Runs the lane's own part and, while slots can be borrowed, more parts beside it. */
async function runParts(queue: number[], send: (partNumber: number) => Promise<void>, deps: MultipartDeps): Promise<void> {
  let failure: unknown;
  const worker = async (borrowed: boolean): Promise<void> => {
    try {
      for (let next = queue.shift(); next !== undefined && failure === undefined; next = queue.shift()) await send(next);
    } catch (error) {
      failure ??= error;
    } finally {
      if (borrowed) deps.releaseSlot();
    }
  };
  const workers = [worker(false)];
  while (queue.length > 0 && failure === undefined && deps.borrowSlot()) workers.push(worker(true));
  await Promise.all(workers);
  if (failure !== undefined) throw failure;
}

async function putPart(partNumber: number, bytes: Blob, signer: PartSigner, deps: MultipartDeps, onProgress: (sent: number) => void): Promise<string> {
  let target = await signer.urlFor(partNumber);
  for (let attempt = 1; ; attempt++) {
    if (Date.parse(target.expiresAt) - deps.now() < deps.expiryMarginMs) target = await signer.resign(partNumber);
    let status: number | undefined;
    let etag: string | undefined;
    try {
      ({ status, etag } = await deps.put(target, bytes, onProgress, deps.signal));
    } catch (error) {
      if (deps.signal.aborted) throw error;
    }
    if (status !== undefined && status >= 200 && status < 300 && etag) return etag;
    onProgress(0);
    const expired = status === 403;
    const transient = status === undefined || status === 0 || status === 408 || status === 429 || status >= 500;
    if ((!expired && !transient) || attempt >= deps.maxAttempts) throw new PartFailedError(partNumber, status);
    if (expired) target = await signer.resign(partNumber);
    else await deps.backoff(attempt);
  }
}

/** Signs part URLs a batch at a time (≤ MAX_PARTS_PER_REQUEST, in part order), one request at a time. */
class PartSigner {
  private readonly urls = new Map<number, PartGrant>();
  private signing: Promise<void> = Promise.resolve();

  constructor(
    private readonly plan: Plan,
    private readonly body: Blob,
    private readonly hashes: PartHashes,
    private readonly deps: MultipartDeps,
  ) {}

  async urlFor(partNumber: number): Promise<PartGrant> {
    const ready = this.urls.get(partNumber);
    if (ready) return ready;
    await this.queue(async () => {
      if (this.urls.has(partNumber)) return;
      const batch: number[] = [];
      for (let n = partNumber; n <= this.plan.partCount && batch.length < MAX_PARTS_PER_REQUEST; n++) if (!this.urls.has(n)) batch.push(n);
      await this.sign(batch);
    });
    return this.urls.get(partNumber)!;
  }

  async resign(partNumber: number): Promise<PartGrant> {
    await this.queue(() => this.sign([partNumber]));
    return this.urls.get(partNumber)!;
  }

  private queue(work: () => Promise<void>): Promise<void> {
    const next = this.signing.then(work);
    this.signing = next.catch(() => undefined);
    return next;
  }

  private async sign(partNumbers: number[]): Promise<void> {
    const parts = [];
    for (const partNumber of partNumbers) {
      const start = (partNumber - 1) * this.plan.partSize;
      const size = partSizeOf(this.plan, this.plan.size, partNumber);
      const sha256 = this.hashes?.[partNumber - 1] ?? (await this.deps.hash(this.body.slice(start, start + size)));
      parts.push({ partNumber, size, sha256 });
    }
    const { parts: signed } = await this.deps.api.signParts(this.deps.sessionId, this.plan.fileId, parts);
    for (const part of signed) this.urls.set(part.partNumber, part);
  }
}
