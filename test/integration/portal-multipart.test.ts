/**
 * The portal's transfer layer (web/src/uploader.ts and multipart.ts, plain TS) against the real API
 * handlers, DynamoDB Local and the local S3 gate, which checks every signature, checksum and
 * If-None-Match: a file above a low multipart threshold travels in parts and is stored whole; a
 * half-sent upload sends only the parts S3 lacks; a rejected or dropped part is sent again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { objectKeyFor } from '../../lambdas/core/model';
import { PREFERRED_PART_BYTES } from '../../lambdas/core/transfers';
import { ApiClient, type FetchFn, type UploadGrant, type UploadRequestFile } from '../../web/src/api';
import { hashBlob } from '../../web/src/hashing';
import { sendMultipart, type MultipartDeps, type PutBody } from '../../web/src/multipart';
import { UploadManager, type Transfer, type UploadJob } from '../../web/src/uploader';
import { testInstitution } from './helpers/emulators';
import { dicomFile, sha256Of, startApi, testUid, type ApiHarness } from './helpers/api';

const MiB = 1024 * 1024;
let api: ApiHarness;

beforeAll(async () => {
  api = await startApi('portal-multipart', { institution: testInstitution({ limits: { multipartThresholdBytes: 5 * MiB } }) });
});
afterAll(() => api?.close());

/** The portal's ApiClient, its requests routed to the handlers as API Gateway would. */
function portalClient(token: string, calls?: string[]): ApiClient {
  const fetchFn: FetchFn = async (input, init) => {
    const url = new URL(input);
    calls?.push(`${init?.method ?? 'GET'} ${url.pathname.replace(/^.*\/files\/[^/]+/, '…')}`);
    const answer = await api.invoke({
      method: (init?.method ?? 'GET') as 'GET' | 'POST' | 'DELETE',
      path: url.pathname,
      token,
      ...(typeof init?.body === 'string' ? { rawBody: init.body } : {}),
    });
    return new Response(JSON.stringify(answer.body), { status: answer.status });
  };
  const client = new ApiClient('http://api.local', fetchFn);
  client.token = token;
  return client;
}

/** A PUT from Node, as the browser's XHR would send it (Content-Length from the body). */
const nodePut: PutBody = async (target, body, onProgress) => {
  const bytes = new Uint8Array(await body.arrayBuffer());
  return new Promise((resolve, reject) => {
    const req = request(target.url, { method: 'PUT', headers: { ...target.headers, 'content-length': String(bytes.length) } }, (res) => {
      res.resume();
      res.on('end', () => {
        onProgress(bytes.length);
        resolve({ status: res.statusCode!, ...(typeof res.headers.etag === 'string' ? { etag: res.headers.etag } : {}) });
      });
    });
    req.on('error', reject);
    req.end(bytes);
  });
};
const nodeTransfer: Transfer = async (grant, body, onProgress, signal) => (await nodePut(grant, body, onProgress, signal)).status;

async function storedSha256(sessionId: string, fileId: string): Promise<string> {
  const out = await api.bucket.s3.send(new GetObjectCommand({ Bucket: api.bucket.bucketName, Key: objectKeyFor(sessionId, fileId) }));
  return sha256Of(await out.Body!.transformToByteArray());
}

function jobFor(bytes: Buffer<ArrayBuffer>, study: string): UploadJob {
  const { sha256: _unsent, ...declared } = dicomFile(study, bytes.length);
  return { ...(declared as Omit<UploadJob, 'body' | 'sha256'>), body: async () => new Blob([bytes]) };
}

describe('the portal uploader, multipart', () => {
  it('sends a file above the threshold in parts, beside small files, within the transfer limit, and S3 stores it whole', async () => {
    const s = await api.openSession(await api.issueCode());
    const study = testUid();
    const big = randomBytes(2 * PREFERRED_PART_BYTES + 3 * MiB);
    const small = [randomBytes(1000), randomBytes(2 * MiB)];
    const puts: string[] = [];
    const m = new UploadManager([jobFor(big, study), ...small.map((b) => jobFor(b, study))], {
      sessionId: s.sessionId,
      api: portalClient(s.token),
      transfer: (g, b, p, sig) => (puts.push('single'), nodeTransfer(g, b, p, sig)),
      putPart: (t, b, p, sig) => (puts.push('part'), nodePut(t, b, p, sig)),
      maxDicomFilesAtOnce: 2,
    });
    await m.run();
    expect(puts.filter((p) => p === 'part')).toHaveLength(3);
    expect(puts.filter((p) => p === 'single')).toHaveLength(2);
    expect(m.maxObservedInFlight).toBeLessThanOrEqual(2);
    expect(m.uploaded.size).toBe(3);
    const stored = await Promise.all([...m.uploaded.values()].map((id) => storedSha256(s.sessionId, id)));
    expect(stored.sort()).toEqual([big, ...small].map(sha256Of).sort());
  });

  it('a half-sent upload continues from the parts S3 holds; a refused and a dropped part are sent again', async () => {
    const s = await api.openSession(await api.issueCode());
    const client = portalClient(s.token);
    const bytes = randomBytes(3 * PREFERRED_PART_BYTES + 1234);
    const hashes = await hashBlob(new Blob([bytes]));
    const { sha256: _unsent, ...declared } = dicomFile(testUid(), bytes.length);
    const { uploads } = await client.requestUploads(s.sessionId, [{ ...(declared as Omit<UploadRequestFile, 'sha256'>), sha256: hashes.sha256 }]);
    const grant = uploads[0] as UploadGrant;
    expect(grant).toMatchObject({ method: 'MULTIPART', partCount: 4, partSize: PREFERRED_PART_BYTES });
    expect(hashes.parts).toHaveLength(4);

    // The page sent part 2, then was reloaded.
    const [part2] = (await client.signParts(s.sessionId, grant.fileId, [{ partNumber: 2, size: PREFERRED_PART_BYTES, sha256: hashes.parts![1]! }])).parts;
    const sent = await nodePut(part2!, new Blob([bytes.subarray(PREFERRED_PART_BYTES, 2 * PREFERRED_PART_BYTES)]), () => undefined, new AbortController().signal);
    expect(sent.status).toBe(200);

    // The resumed upload: part 3's first URL is refused (a tampered signature, as an expired one is),
    // part 4's first PUT is dropped; each is sent again, part 2 never.
    const attempts: number[] = [];
    const put: PutBody = async (target, body, onProgress, signal) => {
      const partNumber = Number(new URL(target.url).searchParams.get('partNumber'));
      attempts.push(partNumber);
      const tries = attempts.filter((n) => n === partNumber).length;
      if (partNumber === 3 && tries === 1) return nodePut({ ...target, url: target.url.replace(/Signature=[0-9a-f]{4}/, 'Signature=0000') }, body, onProgress, signal);
      if (partNumber === 4 && tries === 1) throw new Error('connection reset');
      return nodePut(target, body, onProgress, signal);
    };
    const progress: number[] = [];
    const deps: MultipartDeps = {
      sessionId: s.sessionId,
      api: client,
      put,
      signal: new AbortController().signal,
      borrowSlot: () => false,
      releaseSlot: () => undefined,
      maxAttempts: 3,
      backoff: async () => undefined,
      now: () => Date.now(),
      expiryMarginMs: 15_000,
      onProgress: (b) => progress.push(b),
      hash: async (part) => (await hashBlob(part, { withParts: false })).sha256,
    };
    await sendMultipart(grant, new Blob([bytes]), hashes.parts, deps);
    expect(attempts).toEqual([1, 3, 3, 4, 4]);
    expect(progress[0]).toBe(PREFERRED_PART_BYTES);
    expect(progress.at(-1)).toBe(bytes.length);
    expect(await storedSha256(s.sessionId, grant.fileId)).toBe(sha256Of(bytes));
    // Completed once: S3 holds no upload to list parts of any more.
    await expect(client.listParts(s.sessionId, grant.fileId)).rejects.toMatchObject({ status: 409 });
  });

  it('gives up on a part after three refusals and reports it; the file is not stored and stays declared for the next attempt', async () => {
    const s = await api.openSession(await api.issueCode());
    const bytes = randomBytes(PREFERRED_PART_BYTES + MiB);
    const tries: string[] = [];
    const m = new UploadManager([jobFor(bytes, testUid())], {
      sessionId: s.sessionId,
      api: portalClient(s.token),
      transfer: nodeTransfer,
      putPart: async (t, b, p, sig) => (tries.push(new URL(t.url).searchParams.get('partNumber')!), nodePut({ ...t, headers: { ...t.headers, 'x-amz-checksum-sha256': sha256Of(randomBytes(8)) } }, b, p, sig)),
      maxDicomFilesAtOnce: 2,
      maxAttempts: 3,
      sleep: async () => undefined,
    });
    await expect(m.run()).rejects.toThrow(/could not upload/);
    // A checksum the URL was not signed with is a 403: each part is re-signed and tried 3 times, no more.
    expect(tries.filter((n) => n === '1')).toHaveLength(3);
    expect(tries.length).toBeLessThanOrEqual(6);
    expect(m.uploaded.size).toBe(0);
    const view = await api.getSession(s.sessionId, s.token);
    expect(view.body.files.map((f: { fileId: string; status: string }) => [f.fileId, f.status])).toEqual([[[...m.unsent.values()][0], 'RESERVED']]);
    expect(view.body.usage.receivedBytes).toBe(0);
  });

  it('after a reload: a declared single-PUT file gets a fresh URL and a half-sent multipart file continues from its parts; GET names each declared file’s SHA-256', async () => {
    const s = await api.openSession(await api.issueCode());
    const client = portalClient(s.token);
    const study = testUid();
    const big = randomBytes(3 * PREFERRED_PART_BYTES + 77);
    const small = randomBytes(3000);
    const [bigHashes, smallSha] = [await hashBlob(new Blob([big])), sha256Of(small)];
    const declare = (bytes: Buffer, sha256: string) => {
      const { sha256: _unsent, ...declared } = dicomFile(study, bytes.length);
      return { ...(declared as Omit<UploadRequestFile, 'sha256'>), sha256 };
    };
    const { uploads } = await client.requestUploads(s.sessionId, [declare(big, bigHashes.sha256), declare(small, smallSha)]);
    const [bigGrant, smallGrant] = uploads as [UploadGrant, UploadGrant];
    // Before the reload: part 1 of the large file arrived; the small file's URL was never used.
    const [part1] = (await client.signParts(s.sessionId, bigGrant.fileId, [{ partNumber: 1, size: PREFERRED_PART_BYTES, sha256: bigHashes.parts![0]! }])).parts;
    expect((await nodePut(part1!, new Blob([big.subarray(0, PREFERRED_PART_BYTES)]), () => undefined, new AbortController().signal)).status).toBe(200);

    const view = (await api.getSession(s.sessionId, s.token)).body;
    const shaOf = new Map(view.files.map((f: { fileId: string; sha256: string }) => [f.fileId, f.sha256]));
    expect(shaOf.get(bigGrant.fileId)).toBe(bigHashes.sha256);
    expect(shaOf.get(smallGrant.fileId)).toBe(smallSha);

    const calls: string[] = [];
    const parts: number[] = [];
    const m = new UploadManager(
      [
        { ...jobFor(big, study), sha256: bigHashes.sha256, fileId: bigGrant.fileId },
        { ...jobFor(small, study), sha256: smallSha, fileId: smallGrant.fileId },
      ],
      {
        sessionId: s.sessionId,
        api: portalClient(s.token, calls),
        transfer: nodeTransfer,
        putPart: (t, b, p, sig) => (parts.push(Number(new URL(t.url).searchParams.get('partNumber'))), nodePut(t, b, p, sig)),
        maxDicomFilesAtOnce: 2,
      },
    );
    await m.run();
    expect(calls.filter((c) => c.endsWith('/uploads'))).toEqual([]);
    expect(calls.filter((c) => c === 'POST …/upload-url')).toHaveLength(2);
    expect(parts.sort()).toEqual([2, 3, 4]);
    expect(await storedSha256(s.sessionId, bigGrant.fileId)).toBe(sha256Of(big));
    expect(await storedSha256(s.sessionId, smallGrant.fileId)).toBe(smallSha);
  });
});
