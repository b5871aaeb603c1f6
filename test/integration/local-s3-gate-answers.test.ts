/**
 * Every request through local mode's S3 gate (local/s3-gate) gets an answer, within seconds: many
 * concurrent presigned PUTs with If-None-Match races and tagging in between, downloads the client
 * abandons halfway, an oversized multipart completion. Each request has its own deadline, so a
 * request the gate never answers fails the test instead of hanging it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { CreateMultipartUploadCommand, CompleteMultipartUploadCommand, GetObjectCommand, PutObjectCommand, PutObjectTaggingCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createTestBucket, type TestBucket } from './helpers/emulators';

let bucket: TestBucket;
beforeAll(async () => {
  bucket = await createTestBucket('s3-gate-answers');
});
// Bounded: on a gate that stopped answering, dropping the bucket would wait for the hook timeout.
afterAll(() => bucket?.drop(), 20_000);

/** A small file that takes longer than this is stuck, not slow. */
const ANSWER_WITHIN_MS = 10_000;

async function presignPut(key: string, body: Buffer): Promise<{ url: string; headers: Record<string, string> }> {
  const checksum = createHash('sha256').update(body).digest('base64');
  const headers = { 'content-length': String(body.length), 'content-type': 'application/dicom', 'if-none-match': '*', 'x-amz-checksum-sha256': checksum };
  const url = await getSignedUrl(
    bucket.s3,
    new PutObjectCommand({ Bucket: bucket.bucketName, Key: key, ContentLength: body.length, ContentType: 'application/dicom', IfNoneMatch: '*', ChecksumSHA256: checksum }),
    { expiresIn: 300, signableHeaders: new Set(Object.keys(headers)), unhoistableHeaders: new Set(['x-amz-checksum-sha256']) },
  );
  return { url, headers };
}

/** The status of a raw request, or 'no answer' when none came within the deadline, or the socket error. */
function send(url: string, method: string, headers: Record<string, string>, body?: Buffer): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request(url, { method, headers, timeout: ANSWER_WITHIN_MS }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode!));
      res.once('error', (error) => resolve(`answer cut: ${error.message}`));
    });
    req.once('timeout', () => {
      req.destroy();
      resolve('no answer');
    });
    req.once('error', (error) => resolve(`error: ${(error as NodeJS.ErrnoException).code ?? error.message}`));
    req.end(body);
  });
}

async function inParallel(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    for (let i = next++; i < count; i = next++) await task(i);
  }));
}

describe('the S3 gate answers', () => {
  it('every one of many concurrent presigned PUTs, with same-key races and tagging in between', async () => {
    const FILES = 200;
    const outcomes: (number | string)[] = [];
    await inParallel(FILES, 32, async (i) => {
      const key = `answers/put-${i}`;
      const body = Buffer.alloc(600 + (i % 7), i & 0xff);
      const signed = await presignPut(key, body);
      // Every fourth file is sent twice at once, as a retry racing its first attempt would.
      const attempts = i % 4 === 0 ? [send(signed.url, 'PUT', signed.headers, body), send(signed.url, 'PUT', signed.headers, body)] : [send(signed.url, 'PUT', signed.headers, body)];
      const statuses = await Promise.all(attempts);
      outcomes.push(statuses.length === 2 ? statuses.map(String).sort().join('+') : statuses[0]!);
      await bucket.s3.send(new PutObjectTaggingCommand({ Bucket: bucket.bucketName, Key: key, Tagging: { TagSet: [{ Key: 'upload-state', Value: 'accepted' }] } }));
    });
    const tally: Record<string, number> = {};
    for (const outcome of outcomes) tally[String(outcome)] = (tally[String(outcome)] ?? 0) + 1;
    expect(tally).toEqual({ '200': FILES * 0.75, '200+412': FILES * 0.25 });
  }, 60_000);

  it('after many downloads abandoned halfway', async () => {
    const key = 'answers/large';
    const large = Buffer.alloc(16 * 1024 * 1024, 7);
    await bucket.s3.send(new PutObjectCommand({ Bucket: bucket.bucketName, Key: key, Body: large }));
    const url = await getSignedUrl(bucket.s3, new GetObjectCommand({ Bucket: bucket.bucketName, Key: key }), { expiresIn: 300 });
    // More than the gate keeps connections to s3rver: each abandoned download must give its connection back.
    const ABANDONED = 70;
    const abandoned: string[] = [];
    await inParallel(ABANDONED, 8, () =>
      new Promise<void>((resolve) => {
        const done = (outcome: string) => {
          abandoned.push(outcome);
          req.destroy();
          resolve();
        };
        const req = request(url, { timeout: ANSWER_WITHIN_MS }, (res) => res.once('data', () => done('abandoned')));
        req.once('timeout', () => done('no answer'));
        req.once('error', (error) => done(`error: ${(error as NodeJS.ErrnoException).code ?? error.message}`));
        req.end();
      }),
    );
    expect(abandoned).toEqual(Array(ABANDONED).fill('abandoned'));
    const statuses = await Promise.all(
      Array.from({ length: 16 }, async (_, i) => {
        const body = Buffer.alloc(512, i);
        const signed = await presignPut(`answers/after-abandoned-${i}`, body);
        return send(signed.url, 'PUT', signed.headers, body);
      }),
    );
    expect(statuses).toEqual(Array(16).fill(200));
  }, 60_000);

  it('an oversized multipart completion with 400, not a reset', async () => {
    const key = 'answers/multipart';
    const { UploadId } = await bucket.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket.bucketName, Key: key }));
    const url = await getSignedUrl(
      bucket.s3,
      new CompleteMultipartUploadCommand({ Bucket: bucket.bucketName, Key: key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"x"' }] } }),
      // The URL is signed for a small body; the length is left unsigned so the oversized one reaches the size check.
      { expiresIn: 300, unsignableHeaders: new Set(['content-length']) },
    );
    const oversized = Buffer.from(`<CompleteMultipartUpload>${'<Part><PartNumber>1</PartNumber><ETag>x</ETag></Part>'.repeat(40_000)}</CompleteMultipartUpload>`);
    expect(oversized.length).toBeGreaterThan(1024 * 1024);
    expect(await send(url, 'POST', { 'content-length': String(oversized.length) }, oversized)).toBe(400);
  }, 60_000);
});
