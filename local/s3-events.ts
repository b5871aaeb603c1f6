/**
 * Local mode's stand-in for "S3 ObjectCreated → SQS → inspector Lambda": normalizes s3rver's event
 * records into what real S3 sends, and feeds them to the real inspector handler as SQS batches,
 * with the same partial-failure contract (batchItemFailures are redelivered, a bounded number of
 * times, then dead-lettered).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Context, S3Event, S3EventRecord, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { S3ObjectEvent, S3RequestOrigin } from './emulators';
import { LOCAL_REGION } from './emulators';
import { lambdaContext } from './http-adapter';

/**
 * Encodes an object key the way S3 event notifications do (form URL encoding: space as `+`,
 * `/` kept). The inspector decodes it; s3rver sends the raw key, which would hide decoding bugs.
 */
export function encodeS3EventKey(key: string): string {
  return encodeURIComponent(key)
    .replace(/%2F/g, '/')
    .replace(/%20/g, '+')
    .replace(/[!'()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The object-created records the stack subscribes to (lib/: ObjectCreated on prefix `sessions/`). */
export function isSubscribed(record: S3ObjectEvent): boolean {
  return record.eventName.startsWith('ObjectCreated:') && record.s3.object.key.startsWith('sessions/');
}

/** Turns one s3rver record into the record real S3 would send for the same request. */
export function normalizeS3Record(raw: S3ObjectEvent, origin: S3RequestOrigin, region = LOCAL_REGION): S3EventRecord {
  const bucket = raw.s3.bucket.name;
  const eventName = origin.multipartUploadId ? 'ObjectCreated:CompleteMultipartUpload' : raw.eventName;
  const eTag = raw.s3.object.eTag?.replace(/"/g, '');
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: region,
    eventTime: typeof raw.eventTime === 'string' ? raw.eventTime : new Date().toISOString(),
    eventName: eventName as S3EventRecord['eventName'],
    userIdentity: { principalId: 'AWS:LOCAL' },
    requestParameters: { sourceIPAddress: '127.0.0.1' },
    responseElements: { 'x-amz-request-id': randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase(), 'x-amz-id-2': 'local' },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'UploadsToInspection',
      bucket: { name: bucket, ownerIdentity: { principalId: 'LOCAL' }, arn: `arn:aws:s3:::${bucket}` },
      object: {
        key: encodeS3EventKey(raw.s3.object.key),
        size: raw.s3.object.size,
        ...(eTag ? { eTag } : {}),
        sequencer: raw.s3.object.sequencer ?? Date.now().toString(16).toUpperCase(),
      },
    },
  } as S3EventRecord;
}

/** A synthetic ObjectCreated record for an object found on disk (start-up reconciliation). */
export function objectCreatedRecord(bucket: string, key: string, size: number, eTag?: string): S3EventRecord {
  return normalizeS3Record(
    { eventName: 'ObjectCreated:Put', s3: { bucket: { name: bucket }, object: { key, size, ...(eTag ? { eTag } : {}) } } },
    { method: 'PUT' },
  );
}

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>;

export interface DeadLetter {
  messageId: string;
  receiveCount: number;
  body: string;
  error?: string;
}

export interface SqsFeederOptions {
  handler: SqsHandler;
  /** Lambda's SQS batch size. */
  batchSize?: number;
  /** How long a partial batch waits for more messages (the event source's batching window). */
  maxBatchingWindowMs?: number;
  /** Batches in flight at once (Lambda scales SQS pollers the same way). */
  concurrency?: number;
  /** Deliveries before a message goes to the dead-letter sink, as the queue's redrive policy. */
  maxReceiveCount?: number;
  /** Delay before a failed message is visible again (the visibility timeout, shortened locally). */
  retryDelayMs?: (receiveCount: number) => number;
  queueArn?: string;
  onDeadLetter?: (letter: DeadLetter) => void;
  onBatchError?: (error: unknown) => void;
}

interface Message {
  messageId: string;
  body: string;
  receiveCount: number;
  sentAt: number;
  firstReceivedAt?: number;
}

/**
 * An in-process queue with SQS semantics for one consumer: batches by size or time, delivers
 * each S3 record as one message body `{"Records":[…]}` (as S3 → SQS does), redelivers the ids a
 * batch reports in batchItemFailures (or the whole batch if the handler throws).
 */
export class SqsEventFeeder {
  private readonly queue: Message[] = [];
  private readonly delayed = new Set<{ timer: NodeJS.Timeout; message: Message }>();
  private inFlight = 0;
  private windowTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Set by stop(): nothing more is delivered, and failed messages are dropped instead of retried. */
  private stopped = false;
  private idleWaiters: (() => void)[] = [];
  private readonly batchSize: number;
  private readonly windowMs: number;
  private readonly concurrency: number;
  private readonly maxReceiveCount: number;
  private readonly retryDelayMs: (n: number) => number;
  private readonly queueArn: string;
  /** Counters for logs and tests. */
  readonly stats = { sent: 0, batches: 0, succeeded: 0, retried: 0, deadLettered: 0 };

  constructor(private readonly opts: SqsFeederOptions) {
    this.batchSize = opts.batchSize ?? 10;
    this.windowMs = opts.maxBatchingWindowMs ?? 50;
    this.concurrency = opts.concurrency ?? 4;
    this.maxReceiveCount = opts.maxReceiveCount ?? 5;
    this.retryDelayMs = opts.retryDelayMs ?? ((n) => Math.min(30_000, 500 * 2 ** (n - 1)));
    this.queueArn = opts.queueArn ?? `arn:aws:sqs:${LOCAL_REGION}:000000000000:local-inspection`;
  }

  /** Enqueues S3 records, one SQS message each. Ignored once closed (the events are recovered at next start). */
  sendS3Records(records: S3EventRecord[]): void {
    if (this.closed) return;
    for (const record of records) {
      const event: S3Event = { Records: [record] };
      this.queue.push({ messageId: randomUUID(), body: JSON.stringify(event), receiveCount: 0, sentAt: Date.now() });
      this.stats.sent++;
    }
    this.pump();
  }

  /** Resolves when nothing is queued, delayed for retry, or in flight. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Stops taking new events and drains: queued messages and pending retries are delivered now
   * (retries without their delay, still bounded by maxReceiveCount), in-flight batches finish.
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const entry of this.delayed) {
      clearTimeout(entry.timer);
      this.queue.push(entry.message);
    }
    this.delayed.clear();
    this.pump(true);
    await this.idle();
  }

  /**
   * Stops now, for a prompt shutdown: queued messages and pending retries are dropped, in-flight batches get up to
   * `graceMs` to finish. Returns how many messages were dropped. Nothing is lost: local mode re-announces every
   * uploaded object still awaiting its verdict at its next start (provision.ts), and the inspector is idempotent.
   */
  async stop(graceMs: number): Promise<number> {
    this.closed = true;
    this.stopped = true;
    for (const entry of this.delayed) clearTimeout(entry.timer);
    const dropped = this.queue.length + this.delayed.size;
    this.queue.length = 0;
    this.delayed.clear();
    if (this.windowTimer) clearTimeout(this.windowTimer);
    this.windowTimer = undefined;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.idle(), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    return dropped;
  }

  private isIdle(): boolean {
    return this.queue.length === 0 && this.delayed.size === 0 && this.inFlight === 0;
  }

  private notifyIfIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    waiters.forEach((w) => w());
  }

  private pump(flush = this.closed): void {
    while (!this.stopped && this.inFlight < this.concurrency && this.queue.length > 0) {
      if (this.queue.length < this.batchSize && !flush) {
        // A partial batch waits for the window, as the event source mapping does.
        this.windowTimer ??= setTimeout(() => {
          this.windowTimer = undefined;
          this.pump(true);
        }, this.windowMs);
        return;
      }
      const batch = this.queue.splice(0, this.batchSize);
      void this.deliver(batch);
    }
    if (this.queue.length === 0 && this.windowTimer) {
      clearTimeout(this.windowTimer);
      this.windowTimer = undefined;
    }
    this.notifyIfIdle();
  }

  private async deliver(batch: Message[]): Promise<void> {
    this.inFlight++;
    this.stats.batches++;
    const now = Date.now();
    for (const m of batch) {
      m.receiveCount++;
      m.firstReceivedAt ??= now;
    }
    const event: SQSEvent = { Records: batch.map((m) => this.toSqsRecord(m)) };
    let failedIds: Set<string>;
    let error: string | undefined;
    try {
      const response = await this.opts.handler(event, lambdaContext('inspector', randomUUID(), 60_000));
      failedIds = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    } catch (e) {
      this.opts.onBatchError?.(e);
      // The name only: a message could quote object bytes or header values.
      error = e instanceof Error ? e.name : typeof e;
      failedIds = new Set(batch.map((m) => m.messageId));
    }
    for (const m of batch) {
      if (!failedIds.has(m.messageId)) {
        this.stats.succeeded++;
        continue;
      }
      if (m.receiveCount >= this.maxReceiveCount) {
        this.stats.deadLettered++;
        this.opts.onDeadLetter?.({ messageId: m.messageId, receiveCount: m.receiveCount, body: m.body, ...(error ? { error } : {}) });
        continue;
      }
      this.stats.retried++;
      this.retryLater(m);
    }
    this.inFlight--;
    this.pump();
  }

  private retryLater(message: Message): void {
    if (this.stopped) return; // re-announced at the next start
    if (this.closed) {
      this.queue.push(message);
      return;
    }
    const entry = {
      message,
      timer: setTimeout(() => {
        this.delayed.delete(entry);
        this.queue.push(message);
        this.pump(true);
      }, this.retryDelayMs(message.receiveCount)),
    };
    this.delayed.add(entry);
  }

  private toSqsRecord(m: Message): SQSRecord {
    return {
      messageId: m.messageId,
      receiptHandle: `local-${m.messageId}-${m.receiveCount}`,
      body: m.body,
      attributes: {
        ApproximateReceiveCount: String(m.receiveCount),
        SentTimestamp: String(m.sentAt),
        SenderId: 'AIDAS3LOCAL',
        ApproximateFirstReceiveTimestamp: String(m.firstReceivedAt ?? Date.now()),
      },
      messageAttributes: {},
      md5OfBody: createHash('md5').update(m.body).digest('hex'),
      eventSource: 'aws:sqs',
      eventSourceARN: this.queueArn,
      awsRegion: LOCAL_REGION,
    };
  }
}
