/**
 * The transfer bench's page, on local mode's portal origin. Two ways to send the picked files to
 * one session each, timed from the click to the last byte accepted:
 * - portal: the portal's UploadManager (web/src/uploader.ts) with the portal's hash worker, XHR
 *   transfers and the session's limit of files in flight, as web/src/store/upload.ts drives it;
 * - baseline: the same necessary work in the simplest way: hash each file in turn with the same
 *   hashing code in a worker, fetch every file's URL first (part URLs a few rounds ahead: they
 *   expire in 5 minutes), then one PUT per file or
 *   part (XMLHttpRequest, as the portal), the same number in flight, and finish each multipart upload.
 */
import { ApiClient, type UploadGrant } from '../../web/src/api';
import { makeWorkerHasher } from '../../web/src/hasher';
import type { BlobHashes } from '../../web/src/hashing';
import { UploadManager, xhrPut, xhrTransfer, type UploadJob } from '../../web/src/uploader';
import { MAX_FILES_PER_REQUEST } from '../../lambdas/core/limits';
import { workerFrom } from './worker-from';

interface Meta {
  studyInstanceUid: string;
  sopInstanceUid: string;
}

const workerScript = await workerFrom('/bench/hash-worker.js');
const picked = () => [...(document.getElementById('files') as HTMLInputElement).files!];

async function open(code: string): Promise<{ api: ApiClient; sessionId: string; token: string; inFlight: number }> {
  const api = new ApiClient(`${location.origin}/api`);
  const session = await api.createSession(code);
  api.token = session.token;
  return { api, sessionId: session.sessionId, token: session.token, inFlight: session.limits.maxDicomFilesAtOnce };
}

function jobOf(file: File, index: number, meta: Record<string, Meta>): Omit<UploadJob, 'body'> {
  const { studyInstanceUid, sopInstanceUid } = meta[file.name]!;
  return { clientId: `f${index}`, name: file.name, size: file.size, kind: 'dicom', studyInstanceUid, sopInstanceUid };
}

async function portal(code: string, meta: Record<string, Meta>): Promise<{ ms: number; sessionId: string; token: string }> {
  const { api, sessionId, token, inFlight } = await open(code);
  const files = picked();
  let lastProgress = 0;
  const started = performance.now();
  const manager = new UploadManager(
    files.map((file, i) => ({ ...jobOf(file, i, meta), body: async () => file })),
    { sessionId, api, transfer: xhrTransfer, hash: makeWorkerHasher(workerScript), maxDicomFilesAtOnce: inFlight, onProgress: (p) => (lastProgress = p.sentBytes) },
  );
  await manager.run();
  if (lastProgress !== files.reduce((sum, f) => sum + f.size, 0)) throw new Error(`progress ended at ${lastProgress} bytes`);
  return { ms: performance.now() - started, sessionId, token };
}

async function inTurn<T>(items: readonly T[], lanes: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: lanes }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

/** One XMLHttpRequest PUT, as the portal sends it (fetch() cannot read S3's ETag here any better). */
async function put(url: string, headers: Record<string, string>, body: Blob): Promise<string> {
  const { status, etag } = await xhrPut({ url, headers }, body, () => undefined, new AbortController().signal);
  if (status !== 200) throw new Error(`PUT answered ${status}`);
  return etag ?? '';
}

async function baseline(code: string, meta: Record<string, Meta>): Promise<{ ms: number; sessionId: string; token: string }> {
  const { api, sessionId, token, inFlight } = await open(code);
  const files = picked();
  const hash = makeWorkerHasher(workerScript);
  const started = performance.now();
  const hashes: BlobHashes[] = [];
  for (const file of files) hashes.push(await hash(file));
  const grants: UploadGrant[] = [];
  for (let i = 0; i < files.length; i += Math.min(inFlight, MAX_FILES_PER_REQUEST)) {
    const batch = files.slice(i, i + Math.min(inFlight, MAX_FILES_PER_REQUEST)).map((file, j) => ({ ...jobOf(file, i + j, meta), sha256: hashes[i + j]!.sha256 }));
    grants.push(...(await api.requestUploads(sessionId, batch)).uploads);
  }
  const puts: { url: string; headers: Record<string, string>; body: Blob }[] = [];
  const multipart: { grant: UploadGrant; file: File; parts: { partNumber: number; size: number; sha256: string }[] }[] = [];
  for (const [i, grant] of grants.entries()) {
    const file = files[i]!;
    if (grant.method === 'PUT') puts.push({ url: grant.url, headers: grant.headers, body: file });
    else multipart.push({ grant, file, parts: hashes[i]!.parts!.map((sha256, p) => ({ partNumber: p + 1, size: Math.min(grant.partSize!, file.size - p * grant.partSize!), sha256 })) });
  }
  await inTurn(puts, inFlight, async (p) => void (await put(p.url, p.headers, p.body)));
  for (const { grant, file, parts } of multipart) {
    // Part URLs expire (5 minutes): a few rounds of parts are signed at a time, not the whole file's.
    const etags: { partNumber: number; etag: string }[] = [];
    for (let p = 0; p < parts.length; p += 2 * inFlight) {
      const signed = (await api.signParts(sessionId, grant.fileId, parts.slice(p, p + 2 * inFlight))).parts;
      await inTurn(signed, inFlight, async (part) => {
        const start = (part.partNumber - 1) * grant.partSize!;
        etags.push({ partNumber: part.partNumber, etag: await put(part.url, part.headers, file.slice(start, start + grant.partSize!)) });
      });
    }
    await api.finishUpload(sessionId, grant.fileId, etags.sort((a, b) => a.partNumber - b.partNumber));
  }
  return { ms: performance.now() - started, sessionId, token };
}

Object.assign(window, { portal, baseline });
document.title = 'ready';
