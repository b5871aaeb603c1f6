import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ApiError, type UploadGrant, type UploadRequestFile } from '../../web/src/api';
import { RateEstimator, UploadCancelledError, UploadFailedError, UploadManager, planBatches, type Transfer, type UploadJob } from '../../web/src/uploader';

/** SHA-256 of the zero bytes every test job carries, so tests of batching and timing do no hashing. */
const ZEROS_SHA256 = new Map<number, string>();
function zerosSha256(size: number): string {
  if (!ZEROS_SHA256.has(size)) ZEROS_SHA256.set(size, createHash('sha256').update(new Uint8Array(size)).digest('base64'));
  return ZEROS_SHA256.get(size)!;
}

function job(i: number, study = 'S1', kind: 'dicom' | 'attachment' = 'dicom', size = 1000): UploadJob {
  return { clientId: `c${i}`, name: `f${i}`, size, kind, studyInstanceUid: study, sha256: zerosSha256(size), body: async () => new Blob([new Uint8Array(size)]) };
}

/** An in-memory API with the contract of POST …/uploads, POST …/files/{id}/upload-url and DELETE …/files/{id}. */
function fakeApi(opts: { expiresInMs?: number; now?: () => number; arrived?: Set<string>; known?: Set<string> } = {}) {
  const requests: UploadRequestFile[][] = [];
  const removed: string[] = [];
  const renewed: string[] = [];
  let nextFile = 1;
  const now = opts.now ?? (() => Date.now());
  const expiresAt = () => new Date(now() + (opts.expiresInMs ?? 300_000)).toISOString();
  return {
    requests,
    removed,
    renewed,
    api: {
      renewUpload: async (_sessionId: string, fileId: string) => {
        renewed.push(fileId);
        if (opts.arrived?.has(fileId)) throw new ApiError(409, 'FILE_ALREADY_RECEIVED', 'This file has already arrived.');
        if (opts.known && !opts.known.has(fileId)) throw new ApiError(404, 'NOT_FOUND', 'Not found');
        return { fileId, url: `http://s3/${fileId}?renewed=${renewed.length}`, method: 'PUT', headers: {}, expiresAt: expiresAt() };
      },
      requestUploads: async (_sessionId: string, files: UploadRequestFile[]) => {
        requests.push(files);
        return {
          uploads: files.map(
            (f): UploadGrant => ({ clientId: f.clientId, fileId: `F${nextFile++}`, url: `http://s3/${f.clientId}`, method: 'PUT', headers: {}, expiresAt: expiresAt() }),
          ),
        };
      },
      removeFile: async (_sessionId: string, fileId: string) => {
        removed.push(fileId);
        return {};
      },
    },
  };
}

const noSleep = async () => undefined;

describe('planBatches', () => {
  it('at most 10 DICOM files per request; attachments ride with their study’s first request', () => {
    const jobs = [...Array.from({ length: 23 }, (_, i) => job(i)), job(100, 'S1', 'attachment'), ...Array.from({ length: 3 }, (_, i) => job(200 + i, 'S2'))];
    const batches = planBatches(jobs, 10);
    expect(batches.map((b) => b.filter((j) => j.kind === 'dicom').length)).toEqual([10, 10, 3, 3]);
    expect(batches[0]!.some((j) => j.kind === 'attachment')).toBe(true);
    expect(batches.every((b) => new Set(b.map((j) => j.studyInstanceUid)).size === 1)).toBe(true);
  });
});

describe('UploadManager', () => {
  it('keeps at most maxDicomFilesAtOnce transfers in flight and declares ≤10 DICOM files per request', async () => {
    const { api, requests } = fakeApi();
    let inFlight = 0;
    let peak = 0;
    const transfer: Transfer = async (_g, body, onProgress) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 2));
      onProgress(body.size);
      inFlight--;
      return 200;
    };
    const progress: number[] = [];
    const jobs = Array.from({ length: 45 }, (_, i) => job(i, i < 30 ? 'S1' : 'S2'));
    const m = new UploadManager(jobs, { sessionId: 's', api, transfer, maxDicomFilesAtOnce: 10, sleep: noSleep, onProgress: (p) => progress.push(p.sentBytes) });
    await m.run();
    expect(peak).toBe(10);
    expect(m.maxObservedInFlight).toBe(10);
    expect(requests.every((r) => r.filter((f) => f.kind === 'dicom').length <= 10)).toBe(true);
    expect(requests.flat()).toHaveLength(45);
    expect(m.uploaded.size).toBe(45);
    expect(progress.at(-1)).toBe(45_000);
  });

  it('asks for the next batch as soon as the current one starts transferring, one request at a time', async () => {
    const { api, requests } = fakeApi();
    let started = 0;
    let requesting = 0;
    let overlapping = 0;
    const startedAtRequest: number[] = [];
    const slowApi = {
      ...api,
      requestUploads: async (sessionId: string, files: UploadRequestFile[]) => {
        startedAtRequest.push(started);
        if (++requesting > 1) overlapping++;
        await new Promise((r) => setTimeout(r, 5));
        requesting--;
        return api.requestUploads(sessionId, files);
      },
    };
    const transfer: Transfer = async (_g, body, onProgress) => {
      started++;
      await new Promise((r) => setTimeout(r, 20));
      onProgress(body.size);
      return 200;
    };
    const m = new UploadManager(Array.from({ length: 40 }, (_, i) => job(i)), { sessionId: 's', api: slowApi, transfer, maxDicomFilesAtOnce: 10, sleep: noSleep });
    await m.run();
    expect(requests.map((r) => r.length)).toEqual([10, 10, 10, 10]);
    // Request k+1 goes out no later than the first transfer of batch k starts (not when batch k runs dry).
    startedAtRequest.slice(1).forEach((startedThen, k) => expect(startedThen).toBeLessThanOrEqual(k * 10));
    expect(overlapping).toBe(0);
    expect(m.maxObservedInFlight).toBe(10);
    expect(m.uploaded.size).toBe(40);
  });

  it('retries a failed transfer with backoff, then succeeds', async () => {
    const { api } = fakeApi();
    const attempts = new Map<string, number>();
    const delays: number[] = [];
    const transfer: Transfer = async (g) => {
      const n = (attempts.get(g.clientId) ?? 0) + 1;
      attempts.set(g.clientId, n);
      if (g.clientId === 'c1' && n === 1) throw new Error('network error');
      if (g.clientId === 'c1' && n === 2) return 503;
      return 200;
    };
    const m = new UploadManager([job(1), job(2)], { sessionId: 's', api, transfer, maxDicomFilesAtOnce: 10, baseDelayMs: 100, sleep: async (ms) => void delays.push(ms) });
    await m.run();
    expect(attempts.get('c1')).toBe(3);
    expect(delays).toHaveLength(2);
    expect(delays[1]!).toBeGreaterThan(delays[0]!);
  });

  it('gives up after maxAttempts and keeps what was declared but not sent, so the next attempt continues it', async () => {
    const { api, removed } = fakeApi();
    const transfer: Transfer = async (g) => (g.clientId === 'c1' ? 500 : 200);
    const m = new UploadManager([job(1), job(2)], { sessionId: 's', api, transfer, maxDicomFilesAtOnce: 1, maxAttempts: 3, sleep: noSleep });
    await expect(m.run()).rejects.toBeInstanceOf(UploadFailedError);
    expect(removed).toEqual([]);
    expect(m.uploaded.has('c1')).toBe(false);
    // c1 failed, c2 was granted in the prefetched batch but never sent: both stay declared.
    expect(Object.fromEntries(m.unsent)).toEqual({ c1: 'F1', c2: 'F2' });
  });

  it('releases a declaration whose bytes S3 refused (400), so it is declared afresh next time', async () => {
    const { api, removed } = fakeApi();
    const m = new UploadManager([job(1)], { sessionId: 's', api, transfer: async () => 400, maxDicomFilesAtOnce: 1, sleep: noSleep });
    const error = await m.run().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UploadFailedError);
    expect((error as UploadFailedError).refused).toBe(true);
    expect(removed).toEqual(['F1']);
    expect(m.unsent.size).toBe(0);
  });

  it('renews an expired URL with POST …/upload-url: no removal, no second declaration', async () => {
    const { api, removed, requests, renewed } = fakeApi();
    const urls: string[] = [];
    const transfer: Transfer = async (g) => {
      urls.push(g.url);
      return urls.length === 1 ? 403 : 200;
    };
    const m = new UploadManager([job(1)], { sessionId: 's', api, transfer, maxDicomFilesAtOnce: 10, sleep: noSleep });
    await m.run();
    expect(urls).toEqual(['http://s3/c1', 'http://s3/F1?renewed=1']);
    expect(renewed).toEqual(['F1']);
    expect(removed).toEqual([]);
    expect(requests).toHaveLength(1);
    expect(m.uploaded.get('c1')).toBe('F1');
  });

  it('a 412 on a retried PUT means an earlier try arrived: the file counts as sent, once', async () => {
    const { api } = fakeApi();
    let tries = 0;
    const transfer: Transfer = async () => (++tries === 1 ? Promise.reject(new Error('connection reset')) : 412);
    const m = new UploadManager([job(1)], { sessionId: 's', api, transfer, maxDicomFilesAtOnce: 1, sleep: noSleep });
    await m.run();
    expect(tries).toBe(2);
    expect(m.uploaded.get('c1')).toBe('F1');
  });

  it('continues files declared before (a reload): renewed, not declared again; one that arrived meanwhile is done; one removed elsewhere is declared afresh', async () => {
    const { api, requests, renewed } = fakeApi({ arrived: new Set(['OLD2']), known: new Set(['OLD1', 'OLD2']) });
    const sentTo: string[] = [];
    const jobs = [{ ...job(1), fileId: 'OLD1' }, { ...job(2), fileId: 'OLD2' }, { ...job(3), fileId: 'GONE' }, job(4)];
    const m = new UploadManager(jobs, { sessionId: 's', api, transfer: async (g) => (sentTo.push(g.fileId), 200), maxDicomFilesAtOnce: 10, sleep: noSleep });
    await m.run();
    expect(renewed.sort()).toEqual(['GONE', 'OLD1', 'OLD2']);
    expect(requests.map((r) => r.map((f) => f.clientId).sort())).toEqual(expect.arrayContaining([['c4'], ['c3']]));
    expect(requests.flat()).toHaveLength(2);
    expect(sentTo).not.toContain('OLD2');
    expect(m.uploaded.get('c1')).toBe('OLD1');
    expect(m.uploaded.get('c2')).toBe('OLD2');
    expect(m.uploaded.size).toBe(4);
  });

  it('rides out a network drop: API calls and transfers are tried again with growing waits, after the browser is back online', async () => {
    const { api, requests } = fakeApi();
    let down = 3;
    const flaky = {
      ...api,
      requestUploads: async (sessionId: string, files: UploadRequestFile[]) => {
        if (down-- > 0) throw new ApiError(0, 'NETWORK', 'Failed to fetch');
        return api.requestUploads(sessionId, files);
      },
    };
    const delays: number[] = [];
    let onlineWaits = 0;
    let puts = 0;
    const m = new UploadManager([job(1)], {
      sessionId: 's',
      api: flaky,
      transfer: async () => (++puts < 3 ? Promise.reject(new Error('network error')) : 200),
      maxDicomFilesAtOnce: 1,
      baseDelayMs: 100,
      maxDelayMs: 250,
      sleep: async (ms) => void delays.push(ms),
      online: async () => void onlineWaits++,
    });
    await m.run();
    expect(requests).toHaveLength(1);
    expect(puts).toBe(3);
    expect(delays).toHaveLength(5);
    expect(onlineWaits).toBe(5);
    expect(delays[1]!).toBeGreaterThan(delays[0]!);
    expect(Math.max(...delays)).toBeLessThanOrEqual(250 * 1.25);
  });

  it('does not start with a URL that expires before the transfer could finish', async () => {
    let clock = 1_000_000;
    const { api, removed, renewed } = fakeApi({ expiresInMs: 300_000, now: () => clock });
    const used: string[] = [];
    const slow = job(1);
    // The file waited in the queue (or inflated from a ZIP) until its URL was nearly stale.
    slow.body = async () => ((clock += 295_000), new Blob([new Uint8Array(slow.size)]));
    const m = new UploadManager([slow], {
      sessionId: 's',
      api,
      now: () => clock,
      transfer: async (g) => (used.push(g.url), 200),
      maxDicomFilesAtOnce: 10,
      expiryMarginMs: 15_000,
      sleep: noSleep,
    });
    await m.run();
    expect(used).toEqual(['http://s3/F1?renewed=1']);
    expect(renewed).toEqual(['F1']);
    expect(removed).toEqual([]);
  });

  it('cancel stops transfers and keeps what was declared, for the next attempt', async () => {
    const { api, removed } = fakeApi();
    let started = 0;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const transfer: Transfer = (_g, _b, _p, signal) =>
      new Promise((resolve, reject) => {
        started++;
        if (started === 3) release();
        signal.addEventListener('abort', () => reject(new UploadCancelledError()));
      });
    const m = new UploadManager(Array.from({ length: 5 }, (_, i) => job(i)), { sessionId: 's', api, transfer, maxDicomFilesAtOnce: 3, sleep: noSleep });
    const run = m.run();
    await gate;
    m.cancel();
    await expect(run).rejects.toBeInstanceOf(UploadCancelledError);
    expect(removed).toEqual([]);
    expect([...m.unsent.values()].sort()).toEqual(['F1', 'F2', 'F3', 'F4', 'F5']);
  });

  it('a 422 from the API reaches the caller with the server’s violations', async () => {
    const violation = { code: 'SESSION_SIZE_LIMIT' as const, message: 'Total file size exceeds the limit' };
    const api = {
      requestUploads: async () => {
        throw new ApiError(422, 'RULE_VIOLATION', 'rule', { violations: [violation] });
      },
      removeFile: async () => ({}),
      renewUpload: async (): Promise<never> => {
        throw new Error('nothing to renew');
      },
    };
    const m = new UploadManager([job(1)], { sessionId: 's', api, transfer: async () => 200, maxDicomFilesAtOnce: 10, sleep: noSleep });
    const error = await m.run().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).violations).toEqual([violation]);
  });
});

describe('RateEstimator', () => {
  it('estimates time left from recent throughput', () => {
    const r = new RateEstimator(10_000);
    expect(r.secondsLeft(1000)).toBeUndefined();
    r.add(0, 0);
    r.add(2000, 2_000_000);
    expect(r.secondsLeft(10_000_000)).toBe(10);
    expect(r.secondsLeft(0)).toBe(0);
  });

  it('declares the SHA-256 of each body it had to hash, and refuses a multipart grant it cannot send', async () => {
    const { api, requests } = fakeApi();
    const bytes = new TextEncoder().encode('not zeros');
    const unhashed: UploadJob = { clientId: 'h', name: 'h.dcm', size: bytes.length, kind: 'dicom', studyInstanceUid: 'S1', body: async () => new Blob([bytes]) };
    await new UploadManager([unhashed], { sessionId: 's', api, transfer: async () => 200, maxDicomFilesAtOnce: 10, sleep: noSleep }).run();
    expect(requests[0]![0]!.sha256).toBe(createHash('sha256').update(bytes).digest('base64'));

    const multipartApi = { ...api, requestUploads: async (_s: string, files: UploadRequestFile[]) => ({ uploads: files.map((f) => ({ clientId: f.clientId, fileId: 'M', method: 'MULTIPART', url: '', headers: {}, expiresAt: new Date(Date.now() + 60_000).toISOString() })) }) };
    await expect(new UploadManager([job(1)], { sessionId: 's', api: multipartApi, transfer: async () => 200, maxDicomFilesAtOnce: 10, sleep: noSleep }).run()).rejects.toBeInstanceOf(UploadFailedError);
  });
});
