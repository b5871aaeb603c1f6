/**
 * Local mode's S3 → SQS → inspector stand-in: s3rver's real event records (from real SDK uploads)
 * come out as real S3 would send them, and the feeder keeps SQS's batch and redrive contract.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { S3Event, S3EventRecord, SQSEvent } from 'aws-lambda';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startS3rver, type RunningEmulator, type S3ObjectEvent, type S3RequestOrigin } from '../../local/emulators';
import { encodeS3EventKey, isSubscribed, normalizeS3Record, SqsEventFeeder } from '../../local/s3-events';

const BUCKET = 'events-test';
let dir: string;
let s3rver: RunningEmulator;
let s3: S3Client;
const seen: { raw: S3ObjectEvent; origin: S3RequestOrigin }[] = [];

async function nextEvent(key: string): Promise<{ raw: S3ObjectEvent; origin: S3RequestOrigin }> {
  for (let i = 0; i < 100; i++) {
    const hit = seen.find((e) => e.raw.s3.object.key === key);
    if (hit) return hit;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no s3rver event for ${key}`);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'local-events-'));
  s3rver = await startS3rver({
    dataDir: dir,
    buckets: [{ name: BUCKET, corsOrigins: ['http://localhost:5173'] }],
    onEvent: (raw, origin) => seen.push({ raw, origin }),
  });
  s3 = new S3Client({
    endpoint: s3rver.endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
});

afterAll(async () => {
  s3?.destroy();
  await s3rver?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('normalizeS3Record', () => {
  it('URL-encodes the key as S3 does (space as +, slash kept) and fixes the bucket ARN', async () => {
    const key = 'sessions/s1/files/a b+c(1)';
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: Buffer.from('hello') }));
    const { raw, origin } = await nextEvent(key);
    expect(raw.s3.object.key).toBe(key); // s3rver sends it raw: the reason this adapter exists
    const record = normalizeS3Record(raw, origin);
    expect(record.s3.object.key).toBe('sessions/s1/files/a+b%2Bc%281%29');
    expect(decodeURIComponent(record.s3.object.key.replace(/\+/g, ' '))).toBe(key);
    expect(record.eventName).toBe('ObjectCreated:Put');
    expect(record.eventSource).toBe('aws:s3');
    expect(record.s3.bucket.arn).toBe(`arn:aws:s3:::${BUCKET}`);
    expect(record.s3.object.size).toBe(5);
    expect(record.s3.object.eTag).toMatch(/^[0-9a-f]{32}$/);
  });

  it('reports multipart completion as ObjectCreated:CompleteMultipartUpload, not Post', async () => {
    const key = 'sessions/s1/files/multipart';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
    const part1 = Buffer.alloc(5 * 1024 * 1024, 1);
    const part2 = Buffer.from('tail');
    const p1 = await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: 1, Body: part1 }));
    const p2 = await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: 2, Body: part2 }));
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.ETag }] },
      }),
    );
    const { raw, origin } = await nextEvent(key);
    expect(raw.eventName).toBe('ObjectCreated:Post');
    expect(origin.multipartUploadId).toBe(UploadId);
    const record = normalizeS3Record(raw, origin);
    expect(record.eventName).toBe('ObjectCreated:CompleteMultipartUpload');
    expect(record.s3.object.size).toBe(part1.length + part2.length);
  });

  it('subscribes only to object creation under sessions/', () => {
    const base = { s3: { bucket: { name: BUCKET }, object: { key: 'sessions/x/files/y', size: 1 } } };
    expect(isSubscribed({ ...base, eventName: 'ObjectCreated:Put' })).toBe(true);
    expect(isSubscribed({ ...base, eventName: 'ObjectRemoved:Delete' })).toBe(false);
    expect(isSubscribed({ ...base, eventName: 'ObjectCreated:Put', s3: { ...base.s3, object: { key: 'other/y', size: 1 } } })).toBe(false);
    expect(encodeS3EventKey('sessions/a/files/b')).toBe('sessions/a/files/b');
  });
});

function recordFor(key: string): S3EventRecord {
  return normalizeS3Record({ eventName: 'ObjectCreated:Put', s3: { bucket: { name: BUCKET }, object: { key, size: 1 } } }, { method: 'PUT' });
}

const keyOf = (body: string) => (JSON.parse(body) as S3Event).Records[0]!.s3.object.key;

describe('SqsEventFeeder', () => {
  it('delivers SQS-shaped batches of at most batchSize, one S3 record per message', async () => {
    const batches: SQSEvent[] = [];
    const feeder = new SqsEventFeeder({ handler: async (e) => void batches.push(e), batchSize: 10, maxBatchingWindowMs: 20 });
    feeder.sendS3Records(Array.from({ length: 25 }, (_, i) => recordFor(`sessions/s/files/f${i}`)));
    await feeder.idle();
    expect(batches.map((b) => b.Records.length).sort((a, b) => b - a)).toEqual([10, 10, 5]);
    const first = batches[0]!.Records[0]!;
    expect(first.eventSource).toBe('aws:sqs');
    expect(first.attributes.ApproximateReceiveCount).toBe('1');
    expect(keyOf(first.body)).toMatch(/^sessions\/s\/files\/f\d+$/);
    const keys = batches.flatMap((b) => b.Records.map((r) => keyOf(r.body)));
    expect(new Set(keys).size).toBe(25);
    expect(feeder.stats).toMatchObject({ sent: 25, succeeded: 25, retried: 0, deadLettered: 0 });
  });

  it('redelivers batchItemFailures until they succeed, and dead-letters after maxReceiveCount', async () => {
    const receiveCounts = new Map<string, number[]>();
    const dead: string[] = [];
    const feeder = new SqsEventFeeder({
      maxBatchingWindowMs: 5,
      maxReceiveCount: 3,
      retryDelayMs: () => 10,
      onDeadLetter: (l) => dead.push(keyOf(l.body)),
      handler: async (event) => {
        const failures = [];
        for (const r of event.Records) {
          const key = keyOf(r.body);
          receiveCounts.set(key, [...(receiveCounts.get(key) ?? []), Number(r.attributes.ApproximateReceiveCount)]);
          // "flaky" succeeds on its second delivery, "poison" never does.
          if (key.endsWith('poison') || (key.endsWith('flaky') && r.attributes.ApproximateReceiveCount === '1')) {
            failures.push({ itemIdentifier: r.messageId });
          }
        }
        return { batchItemFailures: failures };
      },
    });
    feeder.sendS3Records([recordFor('sessions/s/files/ok'), recordFor('sessions/s/files/flaky'), recordFor('sessions/s/files/poison')]);
    await feeder.idle();
    expect(receiveCounts.get('sessions/s/files/ok')).toEqual([1]);
    expect(receiveCounts.get('sessions/s/files/flaky')).toEqual([1, 2]);
    expect(receiveCounts.get('sessions/s/files/poison')).toEqual([1, 2, 3]);
    expect(dead).toEqual(['sessions/s/files/poison']);
  });

  it('treats a thrown handler as a failed batch, and close() drains pending retries', async () => {
    let calls = 0;
    const feeder = new SqsEventFeeder({
      maxBatchingWindowMs: 5,
      retryDelayMs: () => 60_000, // close() must not wait for this
      handler: async () => {
        calls++;
        if (calls === 1) throw new Error('transient');
      },
      onBatchError: () => undefined,
    });
    feeder.sendS3Records([recordFor('sessions/s/files/a')]);
    while (calls === 0) await new Promise((r) => setTimeout(r, 5));
    const started = Date.now();
    await feeder.close();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(calls).toBe(2);
    expect(feeder.stats).toMatchObject({ retried: 1, succeeded: 1 });
    feeder.sendS3Records([recordFor('sessions/s/files/late')]);
    expect(feeder.stats.sent).toBe(1);
  });
});

describe('interrupted uploads', () => {
  it('leave no object behind, before and after a restart, as an S3 PUT is all or nothing', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'local-partial-'));
    const bucket = 'partial-test';
    const start = () => startS3rver({ dataDir: folder, buckets: [{ name: bucket, corsOrigins: ['http://localhost:5173'] }] });
    let server = await start();
    const client = new S3Client({ endpoint: server.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
    const onDisk = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? onDisk(join(dir, e.name)) : [join(dir, e.name)]));
    try {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'sessions/s/files/complete', Body: Buffer.from('whole') }));
      // Half of a declared 1 MiB body, then the connection drops (a stop, a closed laptop lid).
      const url = new URL(await getSignedUrl(client, new PutObjectCommand({ Bucket: bucket, Key: 'sessions/s/files/cut', ContentLength: 1024 * 1024 }), { expiresIn: 60 }));
      await new Promise<void>((resolve) => {
        const req = request(url, { method: 'PUT', headers: { 'content-length': String(1024 * 1024) } });
        req.on('error', () => resolve());
        req.write(Buffer.alloc(512 * 1024, 7), () => setTimeout(() => {
          req.destroy();
          resolve();
        }, 200));
      });
      // The gate holds a body until it is whole: s3rver never saw this one.
      await expect(client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'sessions/s/files/cut' }))).rejects.toMatchObject({ name: 'NotFound' });
      await server.stop();
      expect(onDisk(folder).some((f) => f.includes('cut._S3rver'))).toBe(false);
      // A stop can still cut the gate's hand-over to s3rver, which then leaves a body without metadata.
      mkdirSync(join(folder, bucket, 'sessions', 's', 'files'), { recursive: true });
      writeFileSync(join(folder, bucket, 'sessions', 's', 'files', 'cut._S3rver_object'), Buffer.alloc(1000, 7));

      server = await start();
      expect(server.incompleteObjectsRemoved).toBe(1);
      expect(onDisk(folder).some((f) => f.includes('cut._S3rver'))).toBe(false);
      const restarted = new S3Client({ endpoint: server.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
      await expect(restarted.send(new HeadObjectCommand({ Bucket: bucket, Key: 'sessions/s/files/cut' }))).rejects.toMatchObject({ name: 'NotFound' });
      expect((await restarted.send(new HeadObjectCommand({ Bucket: bucket, Key: 'sessions/s/files/complete' }))).ContentLength).toBe(5);
      restarted.destroy();
    } finally {
      client.destroy();
      await server.stop();
      if (existsSync(folder)) rmSync(folder, { recursive: true, force: true });
    }
  });
});
