/**
 * DeliveryTarget over DICOMweb STOW-RS: the study's instances go to <url>/studies/{StudyInstanceUID}
 * in requests bounded in bytes and instances, each body streamed (a 2 GB image never sits in
 * memory). The store response is read per instance; only what failed for a reason worth retrying
 * is sent again, with exponential backoff. Instances keep their SOP Instance UIDs, so a PACS that
 * already holds one does not store it twice.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { DeliverableInstance, StudyInstances } from '../core/delivery/study-instances';
import { UndeliverableError } from '../core/delivery/undeliverable-error';
import type { DeliveryTarget, StudyDeliveryOutcome, StudyDeliveryRequest } from '../core/ports/delivery-target';
import { isRetryableFailure, multipartBody, readStowResponse } from './dicomweb-stow';

export type DicomwebCredentials = { type: 'basic'; username: string; password: string } | { type: 'bearer'; token: string };

/**
 * Measured against Orthanc 1.10 (bench/delivery.bench.ts): it buffers a whole request before storing
 * it, so one request's bytes are its memory; 64 MiB and 100 instances per request reach full speed.
 */
export const STOW_LIMITS = { maxBytesPerRequest: 64 * 1024 * 1024, maxInstancesPerRequest: 100 };

export interface DicomwebDeliveryTargetOptions {
  /** The DICOMweb root, e.g. http://127.0.0.1:8042/dicom-web. */
  url: string;
  credentials?: DicomwebCredentials;
  studyInstances: StudyInstances;
  maxBytesPerRequest?: number;
  maxInstancesPerRequest?: number;
  /** Attempts per request before the study fails as retryable (the queue retries it later). */
  attempts?: number;
  baseDelayMs?: number;
  requestTimeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

type BatchResult = { ok: true } | { ok: false; outcome: Extract<StudyDeliveryOutcome, { state: 'FAILED' }> };

interface Attempt {
  retry: DeliverableInstance[];
  refused?: { count: number; code?: number; status?: number };
  problem?: string;
}

const httpAgent = new HttpAgent({ keepAlive: true });
const httpsAgent = new HttpsAgent({ keepAlive: true });

export class DicomwebDeliveryTarget implements DeliveryTarget {
  readonly type = 'dicomweb' as const;
  private readonly root: string;
  private readonly limits: { bytes: number; instances: number };

  constructor(private readonly options: DicomwebDeliveryTargetOptions) {
    this.root = options.url.replace(/\/+$/, '');
    this.limits = {
      bytes: options.maxBytesPerRequest ?? STOW_LIMITS.maxBytesPerRequest,
      instances: options.maxInstancesPerRequest ?? STOW_LIMITS.maxInstancesPerRequest,
    };
  }

  async deliverStudy(request: StudyDeliveryRequest): Promise<StudyDeliveryOutcome> {
    let delivered = 0;
    let batch: DeliverableInstance[] = [];
    let batchBytes = 0;
    const flush = async (): Promise<BatchResult> => {
      const result = batch.length > 0 ? await this.storeBatch(request.studyInstanceUid, batch) : ({ ok: true } as const);
      if (result.ok) delivered += batch.length;
      batch = [];
      batchBytes = 0;
      return result;
    };
    try {
      for await (const instance of this.options.studyInstances(request)) {
        if (batch.length > 0 && (batch.length >= this.limits.instances || batchBytes + instance.length > this.limits.bytes)) {
          const result = await flush();
          if (!result.ok) return result.outcome;
        }
        batch.push(instance);
        batchBytes += instance.length;
      }
      const result = await flush();
      return result.ok ? { state: 'DELIVERED', instances: delivered } : result.outcome;
    } catch (error) {
      if (error instanceof UndeliverableError) return { state: 'FAILED', reason: error.message, retryable: false };
      // S3 or the network failed while preparing or sending: the queue tries the study again.
      return { state: 'FAILED', reason: `delivery was interrupted (${(error as Error)?.name ?? 'error'})`, retryable: true };
    }
  }

  /** Stores one batch, resending only the instances that failed for a retryable reason. */
  private async storeBatch(studyUid: string, instances: DeliverableInstance[]): Promise<BatchResult> {
    const attempts = this.options.attempts ?? 5;
    let pending = instances;
    let problem = '';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) await (this.options.sleep ?? sleep)(backoff(this.options.baseDelayMs ?? 500, attempt));
      const result = await this.attempt(studyUid, pending);
      if (result.refused) {
        const { count, code, status } = result.refused;
        const why = code !== undefined ? `failure reason 0x${code.toString(16).toUpperCase().padStart(4, '0')}` : `HTTP ${status}`;
        return { ok: false, outcome: { state: 'FAILED', reason: `the PACS refused ${count} instance(s) (${why})`, retryable: false } };
      }
      if (result.retry.length === 0) return { ok: true };
      pending = result.retry;
      problem = result.problem ?? '';
    }
    return { ok: false, outcome: { state: 'FAILED', reason: `the PACS did not store ${pending.length} instance(s) after ${attempts} attempts (${problem})`, retryable: true } };
  }

  private async attempt(studyUid: string, instances: DeliverableInstance[]): Promise<Attempt> {
    let response: { status: number; body: unknown };
    try {
      response = await this.post(`${this.root}/studies/${encodeURIComponent(studyUid)}`, instances);
    } catch (error) {
      return { retry: instances, problem: (error as NodeJS.ErrnoException)?.code ?? (error as Error)?.name ?? 'network error' };
    }
    const { status } = response;
    if (status === 408 || status === 429 || status >= 500) return { retry: instances, problem: `HTTP ${status}` };
    if (status !== 200 && status !== 202 && status !== 409) return { retry: [], refused: { count: instances.length, status } };
    const outcome = readStowResponse(response.body);
    const retry: DeliverableInstance[] = [];
    let refused: Attempt['refused'];
    for (const instance of instances) {
      if (outcome.failed.has(instance.sopInstanceUid)) {
        const code = outcome.failed.get(instance.sopInstanceUid);
        if (isRetryableFailure(code)) retry.push(instance);
        else refused = { count: (refused?.count ?? 0) + 1, code };
      } else if (status !== 200 && !outcome.stored.has(instance.sopInstanceUid)) {
        retry.push(instance);
      }
    }
    if (status === 409 && !refused && retry.length === instances.length && outcome.failed.size === 0) {
      return { retry: [], refused: { count: instances.length, status } };
    }
    return refused ? { retry, refused } : { retry, problem: `${retry.length} instance(s) not stored` };
  }

  private post(url: string, instances: DeliverableInstance[]): Promise<{ status: number; body: unknown }> {
    const body = multipartBody(instances);
    const target = new URL(url);
    const headers: Record<string, string | number> = {
      'Content-Type': body.contentType,
      'Content-Length': body.length,
      Accept: 'application/dicom+json',
    };
    const auth = authorization(this.options.credentials);
    if (auth) headers.Authorization = auth;
    const secure = target.protocol === 'https:';
    return new Promise((resolve, reject) => {
      const req = (secure ? httpsRequest : httpRequest)(target, { method: 'POST', headers, agent: secure ? httpsAgent : httpAgent });
      req.setTimeout(this.options.requestTimeoutMs ?? 300_000, () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
      req.on('response', (res) => readJson(res).then(resolve, reject));
      req.on('error', reject);
      pipeline(Readable.from(body.stream()), req).catch((error) => {
        req.destroy(error);
        reject(error);
      });
    });
  }
}

function authorization(credentials: DicomwebCredentials | undefined): string | undefined {
  if (!credentials) return undefined;
  if (credentials.type === 'bearer') return `Bearer ${credentials.token}`;
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}

/** The response status and its JSON body (null when it has none); a PACS's answer is small, so cap it. */
async function readJson(res: IncomingMessage): Promise<{ status: number; body: unknown }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res) {
    size += (chunk as Buffer).length;
    if (size <= 16 * 1024 * 1024) chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  return { status: res.statusCode ?? 0, body };
}

/** Full jitter: a random wait up to base·2^(attempt−2), so retries of many studies spread out. */
function backoff(baseMs: number, attempt: number): number {
  return Math.round(Math.random() * baseMs * 2 ** (attempt - 2));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
