/**
 * The happy path through the real handlers, DynamoDB Local and s3rver: issue a code, redeem it,
 * declare 2 studies (12 DICOM files in two requests plus 3 attachments), PUT the bytes to the
 * presigned URLs with fetch, and find the objects in S3 with their exact sizes. Plus the presigned
 * URLs' signatures re-derived with @smithy/signature-v4.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';
import { objectKeyFor } from '../../lambdas/core/model';
import { attachmentFile, dicomFile, sha256Of, startApi, testUid, type ApiHarness } from './helpers/api';
import { LOCAL_CREDENTIALS, LOCAL_REGION, testInstitution } from './helpers/emulators';

let api: ApiHarness;
const urlExpirySeconds = 120;

beforeAll(async () => {
  api = await startApi('api-happy', { institution: testInstitution({ session: { uploadUrlExpirySeconds: urlExpirySeconds } }) });
});
afterAll(async () => api?.close());

describe('happy path', () => {
  it('issues, redeems, declares 2 studies in batches, uploads with fetch and lands exact objects in S3', async () => {
    const code = await api.issueCode({ reference: 'REQ-1001', validDays: 3 });
    expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$/);

    const opened = await api.invoke({ method: 'POST', path: '/sessions', body: { uploadCode: code.toLowerCase() } });
    expect(opened.status).toBe(201);
    const { sessionId, token } = opened.body;
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(opened.body).toMatchObject({
      status: 'OPEN',
      institution: { name: api.config.institution.name, phone: api.config.institution.contact.phone, email: api.config.institution.contact.email, manualUrl: api.config.institution.manualUrl },
      limits: { maxSessionBytes: api.config.institution.limits.maxSessionBytes, maxDicomFilesAtOnce: 10, maxAttachmentsPerStudy: 10 },
      usage: { reservedBytes: 0, receivedBytes: 0 },
    });
    expect(Date.parse(opened.body.expiresAt)).toBeGreaterThan(Date.now());

    const studyA = testUid();
    const studyB = testUid();
    const first = [
      ...Array.from({ length: 6 }, (_, i) => dicomFile(studyA, 1000 + i * 37)),
      attachmentFile(studyA, 2048),
      attachmentFile(studyA, 3000, { name: 'photo.png', contentType: 'image/png' }),
    ];
    const second = [...Array.from({ length: 6 }, (_, i) => dicomFile(studyB, 5000 + i * 11)), attachmentFile(studyB, 777)];
    // Each file declares the SHA-256 of the body it will send.
    const bodies = new Map<string, Buffer>();
    for (const file of [...first, ...second]) {
      bodies.set(file.clientId, randomBytes(file.size));
      file.sha256 = sha256Of(bodies.get(file.clientId)!);
    }

    const uploads: { clientId: string; fileId: string; url: string; headers: Record<string, string>; size: number }[] = [];
    for (const batch of [first, second]) {
      const res = await api.requestUploads(sessionId, token, batch);
      expect(res.status).toBe(201);
      expect(res.body.uploads).toHaveLength(batch.length);
      for (const upload of res.body.uploads) {
        const declared = batch.find((f) => f.clientId === upload.clientId)!;
        expect(upload.method).toBe('PUT');
        expect(upload.fileId).toMatch(/^[A-Za-z0-9_-]{22}$/);
        expect(new URL(upload.url).pathname).toBe(`/${api.bucket.bucketName}/${objectKeyFor(sessionId, upload.fileId)}`);
        expect(Date.parse(upload.expiresAt) - Date.now()).toBeGreaterThan((urlExpirySeconds - 10) * 1000);
        expect(Date.parse(upload.expiresAt) - Date.now()).toBeLessThanOrEqual(urlExpirySeconds * 1000);
        uploads.push({ ...upload, size: declared.size });
      }
    }
    expect(uploads).toHaveLength(15);

    await Promise.all(
      uploads.map(async (u) => {
        const put = await fetch(u.url, { method: 'PUT', headers: u.headers, body: new Uint8Array(bodies.get(u.clientId)!) });
        expect(put.status).toBe(200);
      }),
    );

    for (const u of uploads) expect(await api.bucket.objectSize(objectKeyFor(sessionId, u.fileId))).toBe(u.size);
    expect(await api.bucket.listKeys(`sessions/${sessionId}/`)).toHaveLength(15);

    const state = await api.getSession(sessionId, token);
    expect(state.status).toBe(200);
    const total = uploads.reduce((sum, u) => sum + u.size, 0);
    expect(state.body.usage).toEqual({ reservedBytes: total, receivedBytes: 0 });
    expect(state.body.files).toHaveLength(15);
    expect(state.body.files.every((f: { status: string }) => f.status === 'RESERVED')).toBe(true);
    const studies = Object.fromEntries(state.body.studies.map((s: { studyInstanceUid: string }) => [s.studyInstanceUid, s]));
    expect(studies[studyA]).toMatchObject({ dicomFiles: 6, attachments: 2 });
    expect(studies[studyB]).toMatchObject({ dicomFiles: 6, attachments: 1 });
    expect(state.body.rejection).toEqual([]);
  });

  it('resumes the OPEN session for the same code with a new token; the previous token stops working', async () => {
    const code = await api.issueCode();
    const a = await api.openSession(code);
    const again = await api.invoke({ method: 'POST', path: '/sessions', body: { uploadCode: code.replace(/-/g, ' ') } });
    expect(again.status).toBe(200);
    expect(again.body.sessionId).toBe(a.sessionId);
    expect(again.body.token).not.toBe(a.token);
    expect((await api.getSession(a.sessionId, again.body.token)).status).toBe(200);
    expect((await api.getSession(a.sessionId, a.token)).status).toBe(401);
  });
});

describe('presigned URL signing', () => {
  const signer = new SignatureV4({ service: 's3', region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, sha256: Sha256, uriEscapePath: false, applyChecksum: false });

  /** Re-derives the signature of a presigned PUT from its own query and the given headers. */
  async function derive(url: URL, contentLength: number, extraHeaders: Record<string, string> = {}) {
    const q = Object.fromEntries(url.searchParams);
    const date = q['X-Amz-Date']!.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z');
    const signable = q['X-Amz-SignedHeaders']!.split(';').filter((h) => h !== 'host');
    const presigned = await signer.presign(
      {
        method: 'PUT',
        protocol: url.protocol,
        hostname: url.hostname,
        port: Number(url.port),
        path: url.pathname,
        query: { 'x-id': 'PutObject' },
        headers: { host: url.host, 'content-length': String(contentLength), 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD', ...extraHeaders },
      },
      { signingDate: new Date(date), expiresIn: Number(q['X-Amz-Expires']), signableHeaders: new Set(signable), unhoistableHeaders: new Set(['x-amz-tagging', 'x-amz-checksum-sha256']) },
    );
    return presigned.query?.['X-Amz-Signature'];
  }

  it('signs host, content-length, the server-chosen content-type, the declared SHA-256 and If-None-Match, the exact key and the configured expiry', async () => {
    const { sessionId, token } = await api.openSession(await api.issueCode());
    const study = testUid();
    const files = [dicomFile(study, 4321, { sha256: sha256Of(randomBytes(4321)) }), attachmentFile(study, 999, { sha256: sha256Of(randomBytes(999)) })];
    const res = await api.requestUploads(sessionId, token, files);
    expect(res.status).toBe(201);

    for (const upload of res.body.uploads) {
      const declared = files.find((f) => f.clientId === upload.clientId)!;
      const url = new URL(upload.url);
      const q = url.searchParams;
      expect(url.pathname).toBe(`/${api.bucket.bucketName}/sessions/${sessionId}/files/${upload.fileId}`);
      expect(q.get('X-Amz-Expires')).toBe(String(urlExpirySeconds));
      expect(q.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
      expect(q.has('x-amz-checksum-crc32')).toBe(false);
      expect(q.get('X-Amz-SignedHeaders')).toBe('content-length;content-type;host;if-none-match;x-amz-checksum-sha256;x-amz-tagging');
      const headers = {
        'content-type': declared.kind === 'attachment' ? 'application/pdf' : 'application/dicom',
        'x-amz-checksum-sha256': declared.sha256 as string,
        'if-none-match': '*',
        'x-amz-tagging': 'upload-state=pending',
      };
      expect(upload.headers).toEqual(headers);
      expect(await derive(url, declared.size, headers)).toBe(q.get('X-Amz-Signature'));
      // Each of them is signed: another value gives another signature.
      expect(await derive(url, declared.size, { ...headers, 'x-amz-tagging': 'upload-state=accepted' })).not.toBe(q.get('X-Amz-Signature'));
      expect(await derive(url, declared.size, { ...headers, 'content-type': 'text/html' })).not.toBe(q.get('X-Amz-Signature'));
      expect(await derive(url, declared.size, { ...headers, 'x-amz-checksum-sha256': sha256Of(new Uint8Array(1)) })).not.toBe(q.get('X-Amz-Signature'));
      expect(await derive(url, declared.size + 1, headers)).not.toBe(q.get('X-Amz-Signature'));
    }
  });
});
