/**
 * Local mode's S3 enforces what S3 enforces for presigned requests (local/s3-gate): signature,
 * expiry, every signed header, the body's length and SHA-256, If-None-Match, no anonymous access;
 * the SDK clients, multipart uploads, ranged GETs and CORS preflights keep working.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  ListPartsCommand,
  PutBucketCorsCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createTestBucket, emulators, type TestBucket } from './helpers/emulators';

let bucket: TestBucket;
const ORIGIN = 'http://localhost:5173';

beforeAll(async () => {
  bucket = await createTestBucket('s3-gate');
  await bucket.s3.send(
    new PutBucketCorsCommand({
      Bucket: bucket.bucketName,
      CORSConfiguration: { CORSRules: [{ AllowedOrigins: [ORIGIN], AllowedMethods: ['PUT', 'GET'], AllowedHeaders: ['*'], ExposeHeaders: ['ETag'] }] },
    }),
  );
});
afterAll(() => bucket?.drop());

const sha256 = (body: Buffer) => createHash('sha256').update(body).digest('base64');

/** A presigned PUT as the API signs it: length, checksum, no overwrite, content type. */
async function presignPut(key: string, body: Buffer, opts: { expiresIn?: number; contentType?: string } = {}): Promise<{ url: string; headers: Record<string, string> }> {
  const headers = { 'content-length': String(body.length), 'content-type': opts.contentType ?? 'application/dicom', 'if-none-match': '*', 'x-amz-checksum-sha256': sha256(body) };
  const url = await getSignedUrl(
    bucket.s3,
    new PutObjectCommand({ Bucket: bucket.bucketName, Key: key, ContentLength: body.length, ContentType: headers['content-type'], IfNoneMatch: '*', ChecksumSHA256: headers['x-amz-checksum-sha256'] }),
    { expiresIn: opts.expiresIn ?? 300, signableHeaders: new Set(Object.keys(headers)), unhoistableHeaders: new Set(['x-amz-checksum-sha256']) },
  );
  return { url, headers };
}

/** A raw HTTP request (fetch would fix Content-Length for us). */
function send(url: string, method: string, headers: Record<string, string>, body?: Buffer): Promise<{ status: number; text: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, text: Buffer.concat(chunks).toString(), headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function stored(key: string): Promise<Buffer | undefined> {
  try {
    const out = await bucket.s3.send(new GetObjectCommand({ Bucket: bucket.bucketName, Key: key }));
    return Buffer.from(await out.Body!.transformToByteArray());
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
    throw error;
  }
}

const body = (fill: number, size = 4096) => Buffer.alloc(size, fill);

describe('presigned PUT', () => {
  it('stores the body that matches every signed header', async () => {
    const signed = await presignPut('gate/ok', body(1));
    expect((await send(signed.url, 'PUT', signed.headers, body(1))).status).toBe(200);
    expect(await stored('gate/ok')).toEqual(body(1));
  });

  it('refuses a corrupted body of the same length (400 BadDigest) and stores nothing', async () => {
    const signed = await presignPut('gate/corrupt', body(1));
    const corrupted = body(1);
    corrupted[100] = corrupted[100]! ^ 0x01;
    const answer = await send(signed.url, 'PUT', signed.headers, corrupted);
    expect(answer.status).toBe(400);
    expect(answer.text).toContain('BadDigest');
    expect(await bucket.objectSize('gate/corrupt')).toBeUndefined();
  });

  it('refuses to replace an object (412) with the same URL and another body of the same size, and changes nothing', async () => {
    const first = body(1);
    const signed = await presignPut('gate/once', first);
    expect((await send(signed.url, 'PUT', signed.headers, first)).status).toBe(200);
    // The attacker holds the same URL; a body with the same checksum header is the only one the URL admits…
    const again = await send(signed.url, 'PUT', signed.headers, first);
    expect(again.status).toBe(412);
    // … and a URL of their own for the same key and another body is refused just the same.
    const other = body(2);
    const theirs = await presignPut('gate/once', other);
    expect((await send(theirs.url, 'PUT', theirs.headers, other)).status).toBe(412);
    expect(await stored('gate/once')).toEqual(first);
  });

  it('lets only one of two racing PUTs to the same key win', async () => {
    const [a, b] = [body(3), body(4)];
    const [sa, sb] = await Promise.all([presignPut('gate/race', a), presignPut('gate/race', b)]);
    const statuses = (await Promise.all([send(sa.url, 'PUT', sa.headers, a), send(sb.url, 'PUT', sb.headers, b)])).map((r) => r.status).sort();
    expect(statuses).toEqual([200, 412]);
  });

  it('refuses an unsigned PUT (403) and stores nothing', async () => {
    const answer = await send(`${emulators().s3Endpoint}/${bucket.bucketName}/gate/unsigned`, 'PUT', { 'content-length': '4096' }, body(1));
    expect(answer.status).toBe(403);
    expect(await bucket.objectSize('gate/unsigned')).toBeUndefined();
  });

  it('refuses a URL whose path was changed to another key (403)', async () => {
    const signed = await presignPut('gate/mine', body(1));
    const url = new URL(signed.url);
    url.pathname = url.pathname.replace('/gate/mine', '/gate/theirs');
    expect((await send(url.toString(), 'PUT', signed.headers, body(1))).status).toBe(403);
    expect(await bucket.objectSize('gate/theirs')).toBeUndefined();
  });

  it('refuses a changed Content-Length (403), longer or shorter', async () => {
    const signed = await presignPut('gate/length', body(1));
    const longer = body(1, 4097);
    expect((await send(signed.url, 'PUT', { ...signed.headers, 'content-length': '4097' }, longer)).status).toBe(403);
    const shorter = body(1, 4095);
    expect((await send(signed.url, 'PUT', { ...signed.headers, 'content-length': '4095' }, shorter)).status).toBe(403);
    expect(await bucket.objectSize('gate/length')).toBeUndefined();
  });

  it('refuses a changed or missing signed header: Content-Type, checksum, If-None-Match (403)', async () => {
    const signed = await presignPut('gate/headers', body(1));
    expect((await send(signed.url, 'PUT', { ...signed.headers, 'content-type': 'text/html' }, body(1))).status).toBe(403);
    const { 'if-none-match': _dropped, ...withoutCondition } = signed.headers;
    expect((await send(signed.url, 'PUT', withoutCondition, body(1))).status).toBe(403);
    const { 'x-amz-checksum-sha256': _checksum, ...withoutChecksum } = signed.headers;
    expect((await send(signed.url, 'PUT', withoutChecksum, body(1))).status).toBe(403);
    expect(await bucket.objectSize('gate/headers')).toBeUndefined();
  });

  it('refuses an expired URL (403) and a tampered signature (403)', async () => {
    const signed = await presignPut('gate/expired', body(1), { expiresIn: 1 });
    await new Promise((r) => setTimeout(r, 2100));
    const expired = await send(signed.url, 'PUT', signed.headers, body(1));
    expect(expired.status).toBe(403);
    expect(expired.text).toContain('Request has expired');
    const fresh = await presignPut('gate/tampered', body(1));
    const tampered = fresh.url.replace(/X-Amz-Signature=([0-9a-f])/, (_, c: string) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`);
    expect((await send(tampered, 'PUT', fresh.headers, body(1))).status).toBe(403);
    expect(await bucket.objectSize('gate/expired')).toBeUndefined();
    expect(await bucket.objectSize('gate/tampered')).toBeUndefined();
  });

  it('answers its refusals with CORS headers for an allowed origin, so the portal can read them', async () => {
    const signed = await presignPut('gate/cors', body(1));
    const answer = await send(signed.url, 'PUT', { ...signed.headers, origin: ORIGIN, 'content-type': 'text/plain' }, body(1));
    expect(answer.status).toBe(403);
    expect(answer.headers['access-control-allow-origin']).toBe(ORIGIN);
  });
});

describe('object tags', () => {
  it('tags an object at once and leaves its bytes alone (the sweeper tags 20,000 files this way)', async () => {
    await bucket.s3.send(new PutObjectCommand({ Bucket: bucket.bucketName, Key: 'gate/tagged', Body: body(7) }));
    const started = performance.now();
    await Promise.all(
      [1, 2, 3].map(() => bucket.s3.send(new PutObjectTaggingCommand({ Bucket: bucket.bucketName, Key: 'gate/tagged', Tagging: { TagSet: [{ Key: 'upload-state', Value: 'accepted' }] } }))),
    );
    // A tagging request is no object write: nothing waits for the object to reach the tag document's size.
    expect(performance.now() - started).toBeLessThan(3000);
    const tags = await bucket.s3.send(new GetObjectTaggingCommand({ Bucket: bucket.bucketName, Key: 'gate/tagged' }));
    expect(tags.TagSet).toEqual([{ Key: 'upload-state', Value: 'accepted' }]);
    const object = await bucket.s3.send(new GetObjectCommand({ Bucket: bucket.bucketName, Key: 'gate/tagged' }));
    expect(Buffer.from(await object.Body!.transformToByteArray()).equals(body(7))).toBe(true);
  });
});

describe('reads', () => {
  it('refuses anonymous GET and listing (403); signed ranged GET and a presigned GET work', async () => {
    const signed = await presignPut('gate/read', body(9));
    expect((await send(signed.url, 'PUT', signed.headers, body(9))).status).toBe(200);
    const base = `${emulators().s3Endpoint}/${bucket.bucketName}`;
    expect((await send(`${base}/gate/read`, 'GET', {})).status).toBe(403);
    expect((await send(`${base}?list-type=2`, 'GET', {})).status).toBe(403);
    expect((await send(`${emulators().s3Endpoint}/`, 'GET', {})).status).toBe(403);
    const ranged = await bucket.s3.send(new GetObjectCommand({ Bucket: bucket.bucketName, Key: 'gate/read', Range: 'bytes=0-9' }));
    expect(ranged.ContentLength).toBe(10);
    const url = await getSignedUrl(bucket.s3, new GetObjectCommand({ Bucket: bucket.bucketName, Key: 'gate/read' }), { expiresIn: 60 });
    expect((await send(url, 'GET', {})).text).toBe(body(9).toString());
  });

  it('answers a CORS preflight for an allowed origin', async () => {
    const answer = await send(`${emulators().s3Endpoint}/${bucket.bucketName}/gate/x`, 'OPTIONS', {
      origin: ORIGIN,
      'access-control-request-method': 'PUT',
      'access-control-request-headers': 'content-type,if-none-match,x-amz-checksum-sha256',
    });
    expect(answer.status).toBe(200);
    // s3rver answers an allowed preflight with `*`, S3 with the origin: either lets the browser go on.
    expect(answer.headers['access-control-allow-origin']).toMatch(/^(\*|http:\/\/localhost:5173)$/);
    const elsewhere = await send(`${emulators().s3Endpoint}/${bucket.bucketName}/gate/x`, 'OPTIONS', { origin: 'https://evil.example', 'access-control-request-method': 'PUT' });
    expect(elsewhere.status).toBe(403);
  });
});

describe('multipart', () => {
  const PART = 5 * 1024 * 1024;

  async function presignPart(key: string, uploadId: string, partNumber: number, part: Buffer) {
    const headers = { 'content-length': String(part.length), 'x-amz-checksum-sha256': sha256(part) };
    const url = await getSignedUrl(
      bucket.s3,
      new UploadPartCommand({ Bucket: bucket.bucketName, Key: key, UploadId: uploadId, PartNumber: partNumber, ContentLength: part.length, ChecksumSHA256: headers['x-amz-checksum-sha256'] }),
      { expiresIn: 300, signableHeaders: new Set(Object.keys(headers)), unhoistableHeaders: new Set(['x-amz-checksum-sha256']) },
    );
    return { url, headers };
  }

  it('presigned parts with checksums, ListParts, completion with If-None-Match (412 once the key exists)', async () => {
    const key = 'gate/multi';
    const parts = [body(1, PART), body(2, 1000)];
    const { UploadId } = await bucket.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket.bucketName, Key: key, ChecksumAlgorithm: 'SHA256' }));
    const bad = await presignPart(key, UploadId!, 1, parts[0]!);
    const corrupted = Buffer.from(parts[0]!);
    corrupted[0] = corrupted[0]! ^ 1;
    expect((await send(bad.url, 'PUT', bad.headers, corrupted)).status).toBe(400);
    for (const [i, part] of parts.entries()) {
      const signed = await presignPart(key, UploadId!, i + 1, part);
      expect((await send(signed.url, 'PUT', signed.headers, part)).status).toBe(200);
    }
    const listed = await bucket.s3.send(new ListPartsCommand({ Bucket: bucket.bucketName, Key: key, UploadId }));
    expect(listed.Parts!.map((p) => [p.PartNumber, p.Size, p.ChecksumSHA256])).toEqual([
      [1, PART, sha256(parts[0]!)],
      [2, 1000, sha256(parts[1]!)],
    ]);
    const complete = (uploadId: string, named = listed.Parts!) =>
      bucket.s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket.bucketName,
          Key: key,
          UploadId: uploadId,
          IfNoneMatch: '*',
          MultipartUpload: { Parts: named.map((p) => ({ PartNumber: p.PartNumber, ETag: p.ETag, ChecksumSHA256: p.ChecksumSHA256 })) },
        }),
      );
    await expect(complete(UploadId!, [{ ...listed.Parts![0]!, ETag: '"0000"' }, listed.Parts![1]!])).rejects.toMatchObject({ name: 'InvalidPart' });
    await complete(UploadId!);
    expect(sha256((await stored(key))!)).toBe(sha256(Buffer.concat(parts)));

    // A second upload to the same key cannot replace it.
    const second = await bucket.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket.bucketName, Key: key, ChecksumAlgorithm: 'SHA256' }));
    const signed = await presignPart(key, second.UploadId!, 1, parts[1]!);
    expect((await send(signed.url, 'PUT', signed.headers, parts[1]!)).status).toBe(200);
    const held = await bucket.s3.send(new ListPartsCommand({ Bucket: bucket.bucketName, Key: key, UploadId: second.UploadId }));
    await expect(complete(second.UploadId!, held.Parts!)).rejects.toMatchObject({ $metadata: { httpStatusCode: 412 } });
    expect(sha256((await stored(key))!)).toBe(sha256(Buffer.concat(parts)));
    await bucket.s3.send(new AbortMultipartUploadCommand({ Bucket: bucket.bucketName, Key: key, UploadId: second.UploadId }));
    await expect(bucket.s3.send(new ListPartsCommand({ Bucket: bucket.bucketName, Key: key, UploadId: second.UploadId }))).rejects.toMatchObject({ name: 'NoSuchUpload' });
  });
});
