/**
 * Transfers through the real handlers, DynamoDB Local and the local S3 (which enforces signatures,
 * checksums and If-None-Match like S3): checksummed PUTs, a server-chosen Content-Type, renewal of
 * an upload URL, and multipart uploads (part URLs, the parts S3 holds, completion, abort on removal).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { GetObjectCommand, HeadObjectCommand, ListPartsCommand } from '@aws-sdk/client-s3';
import { objectKeyFor } from '../../lambdas/core/model';
import { PREFERRED_PART_BYTES } from '../../lambdas/core/transfers';
import { testInstitution } from './helpers/emulators';
import { attachmentFile, dicomFile, sha256Of, startApi, testUid, type ApiHarness } from './helpers/api';

const MiB = 1024 * 1024;
let api: ApiHarness;

beforeAll(async () => {
  api = await startApi('transfers', { institution: testInstitution({ limits: { multipartThresholdBytes: 5 * MiB } }) });
});
afterAll(() => api?.close());

/** A raw PUT (fetch would not let a test send a Content-Type other than the one it signs). */
function put(url: string, headers: Record<string, string>, body: Uint8Array): Promise<{ status: number; etag?: string; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'PUT', headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, text, ...(res.headers.etag ? { etag: res.headers.etag } : {}) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function openSession() {
  return api.openSession(await api.issueCode());
}

const route = (sessionId: string, fileId: string, tail: string) => `/sessions/${sessionId}/files/${fileId}/${tail}`;

async function storedBytes(key: string): Promise<Buffer> {
  const out = await api.bucket.s3.send(new GetObjectCommand({ Bucket: api.bucket.bucketName, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

describe('single PUTs', () => {
  it('refuses a malformed sha256 (400) and a file without one (400)', async () => {
    const s = await openSession();
    const study = testUid();
    for (const sha256 of ['abc', 'A'.repeat(44), undefined]) {
      const res = await api.requestUploads(s.sessionId, s.token, [dicomFile(study, 10, { sha256 })]);
      expect(res.status).toBe(400);
      expect(res.body.error.details.issues[0].path).toBe('files.0.sha256');
    }
  });

  it('a corrupted body of the declared length is refused and nothing is stored', async () => {
    const s = await openSession();
    const bytes = randomBytes(2000);
    const res = await api.requestUploads(s.sessionId, s.token, [dicomFile(testUid(), 2000, { sha256: sha256Of(bytes) })]);
    const [upload] = res.body.uploads;
    const corrupted = Buffer.from(bytes);
    corrupted[1000] = corrupted[1000]! ^ 0xff;
    expect((await put(upload.url, upload.headers, corrupted)).status).toBe(400);
    expect(await api.bucket.objectSize(objectKeyFor(s.sessionId, upload.fileId))).toBeUndefined();
  });

  it('a text/html attachment cannot be stored as HTML', async () => {
    const s = await openSession();
    const study = testUid();
    const html = Buffer.from('%PDF-1.4\n<script>alert(document.cookie)</script>\n');
    // Declared as HTML: the type is not allowed.
    const asHtml = await api.requestUploads(s.sessionId, s.token, [dicomFile(study, 10), attachmentFile(study, html.length, { contentType: 'text/html', sha256: sha256Of(html) })]);
    expect(asHtml.status).toBe(422);
    expect(asHtml.body.error.code).toBe('ATTACHMENT_TYPE_NOT_ALLOWED');
    // Declared without a type (a .pdf name): the server signs application/pdf, and the upload cannot say otherwise.
    const res = await api.requestUploads(s.sessionId, s.token, [dicomFile(study, 10), attachmentFile(study, html.length, { contentType: undefined, name: 'x.pdf', sha256: sha256Of(html) })]);
    expect(res.status).toBe(201);
    const upload = res.body.uploads.find((u: { clientId: string }) => u.clientId.startsWith('a'));
    expect(upload.headers['content-type']).toBe('application/pdf');
    expect((await put(upload.url, { ...upload.headers, 'content-type': 'text/html' }, html)).status).toBe(403);
    expect((await put(upload.url, upload.headers, html)).status).toBe(200);
    const head = await api.bucket.s3.send(new HeadObjectCommand({ Bucket: api.bucket.bucketName, Key: objectKeyFor(s.sessionId, upload.fileId) }));
    expect(head.ContentType).toBe('application/pdf');
  });
});

describe('POST …/upload-url', () => {
  it('renews the URL of a declared file that has not arrived; refuses one that arrived, a removed one and another session', async () => {
    const s = await openSession();
    const other = await openSession();
    const study = testUid();
    const bytes = randomBytes(700);
    const [kept, removed] = (await api.requestUploads(s.sessionId, s.token, [dicomFile(study, 700, { sha256: sha256Of(bytes) }), dicomFile(study, 10)])).body.uploads;
    api.clock.advance(60_000);
    const renewed = await api.invoke({ method: 'POST', path: route(s.sessionId, kept.fileId, 'upload-url'), token: s.token });
    expect(renewed.status).toBe(200);
    expect(renewed.body).toMatchObject({ fileId: kept.fileId, method: 'PUT' });
    expect(Date.parse(renewed.body.expiresAt)).toBeGreaterThan(Date.parse(kept.expiresAt));
    expect((await put(renewed.body.url, renewed.body.headers, bytes)).status).toBe(200);
    // The first URL is still valid, but the object exists: it cannot be replaced.
    expect((await put(kept.url, kept.headers, bytes)).status).toBe(412);

    expect((await api.removeFile(s.sessionId, s.token, removed.fileId)).status).toBe(204);
    expect((await api.invoke({ method: 'POST', path: route(s.sessionId, removed.fileId, 'upload-url'), token: s.token })).status).toBe(404);
    expect((await api.invoke({ method: 'POST', path: route(s.sessionId, kept.fileId, 'upload-url'), token: other.token })).status).toBe(401);
    expect((await api.invoke({ method: 'POST', path: route(s.sessionId, 'nope', 'upload-url'), token: s.token })).status).toBe(404);
  });
});

describe('multipart', () => {
  const size = 2 * PREFERRED_PART_BYTES + 3 * MiB;
  const partsOf = (bytes: Buffer, partSize: number) => Array.from({ length: Math.ceil(bytes.length / partSize) }, (_, i) => bytes.subarray(i * partSize, (i + 1) * partSize));

  it('declares, signs parts, lists what S3 holds, refuses wrong parts and completes exactly once', async () => {
    const s = await openSession();
    const bytes = randomBytes(size);
    const res = await api.requestUploads(s.sessionId, s.token, [dicomFile(testUid(), size, { sha256: sha256Of(bytes) })]);
    expect(res.status).toBe(201);
    const [grant] = res.body.uploads;
    expect(grant).toMatchObject({ method: 'MULTIPART', partSize: PREFERRED_PART_BYTES, partCount: 3, contentType: 'application/dicom' });
    expect(grant.uploadId).toEqual(expect.any(String));
    expect(grant.url).toBeUndefined();
    const parts = partsOf(bytes, grant.partSize);
    const partsRoute = route(s.sessionId, grant.fileId, 'parts');

    const wrongSize = await api.invoke({ method: 'POST', path: partsRoute, token: s.token, body: { parts: [{ partNumber: 3, size: 5, sha256: sha256Of(parts[2]!) }] } });
    expect(wrongSize.status).toBe(400);
    expect((await api.invoke({ method: 'POST', path: partsRoute, token: s.token, body: { parts: [{ partNumber: 4, size: 5, sha256: sha256Of(parts[2]!) }] } })).status).toBe(400);

    const signed = await api.invoke({ method: 'POST', path: partsRoute, token: s.token, body: { parts: parts.map((p, i) => ({ partNumber: i + 1, size: p.length, sha256: sha256Of(p) })) } });
    expect(signed.status).toBe(200);
    const urls = signed.body.parts as { partNumber: number; url: string; headers: Record<string, string> }[];
    expect(urls.map((u) => u.partNumber)).toEqual([1, 2, 3]);
    expect(new URL(urls[0]!.url).searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;host;x-amz-checksum-sha256');

    // A corrupted part is refused; parts 1 and 2 arrive; S3 lists them.
    const corrupted = Buffer.from(parts[0]!);
    corrupted[0] = corrupted[0]! ^ 1;
    expect((await put(urls[0]!.url, urls[0]!.headers, corrupted)).status).toBe(400);
    const etags: string[] = [];
    for (const i of [0, 1]) {
      const answer = await put(urls[i]!.url, urls[i]!.headers, parts[i]!);
      expect(answer.status).toBe(200);
      etags[i] = answer.etag!;
    }
    const held = await api.invoke({ method: 'GET', path: partsRoute, token: s.token });
    expect(held.status).toBe(200);
    expect(held.body.parts).toEqual([
      { partNumber: 1, size: PREFERRED_PART_BYTES, etag: etags[0] },
      { partNumber: 2, size: PREFERRED_PART_BYTES, etag: etags[1] },
    ]);

    const finishRoute = route(s.sessionId, grant.fileId, 'finish');
    const early = await api.invoke({ method: 'POST', path: finishRoute, token: s.token, body: { parts: [{ partNumber: 1, etag: etags[0] }, { partNumber: 2, etag: etags[1] }] } });
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('PARTS_MISMATCH');
    const last = await put(urls[2]!.url, urls[2]!.headers, parts[2]!);
    expect(last.status).toBe(200);
    etags[2] = last.etag!;
    const wrongEtag = await api.invoke({ method: 'POST', path: finishRoute, token: s.token, body: { parts: etags.map((e, i) => ({ partNumber: i + 1, etag: i === 1 ? '"00"' : e })) } });
    expect(wrongEtag.body.error?.code).toBe('PARTS_MISMATCH');

    const finished = await api.invoke({ method: 'POST', path: finishRoute, token: s.token, body: { parts: etags.map((etag, i) => ({ partNumber: i + 1, etag })) } });
    expect(finished.status).toBe(200);
    expect(finished.body).toEqual({ fileId: grant.fileId, status: 'UPLOADED' });
    expect(sha256Of(await storedBytes(objectKeyFor(s.sessionId, grant.fileId)))).toBe(sha256Of(bytes));
    // Done once: the upload is gone, so a second completion (or a renewal of its parts) is a 409.
    expect((await api.invoke({ method: 'POST', path: finishRoute, token: s.token, body: { parts: etags.map((etag, i) => ({ partNumber: i + 1, etag })) } })).status).toBe(409);
  });

  it('answers the same multipart upload on renewal, refuses part routes for a single-PUT file, and aborts the upload when the file is removed', async () => {
    const s = await openSession();
    const study = testUid();
    const res = await api.requestUploads(s.sessionId, s.token, [dicomFile(study, size), dicomFile(study, 100)]);
    const [big, small] = res.body.uploads;
    const renewed = await api.invoke({ method: 'POST', path: route(s.sessionId, big.fileId, 'upload-url'), token: s.token });
    expect(renewed.body).toMatchObject({ method: 'MULTIPART', uploadId: big.uploadId, partCount: 3 });
    const notMultipart = await api.invoke({ method: 'GET', path: route(s.sessionId, small.fileId, 'parts'), token: s.token });
    expect(notMultipart.status).toBe(409);
    expect(notMultipart.body.error.code).toBe('NOT_MULTIPART');

    expect((await api.removeFile(s.sessionId, s.token, big.fileId)).status).toBe(204);
    await expect(
      api.bucket.s3.send(new ListPartsCommand({ Bucket: api.bucket.bucketName, Key: objectKeyFor(s.sessionId, big.fileId), UploadId: big.uploadId })),
    ).rejects.toMatchObject({ name: 'NoSuchUpload' });
  });
});
