import { describe, expect, it } from 'vitest';
import { MIN_PART_BYTES } from '../../lambdas/core/transfers';
import type { UploadGrant, UploadRequestFile } from '../../web/src/api';
import { UploadManager, type UploadJob } from '../../web/src/uploader';

const partSize = MIN_PART_BYTES;

/** An in-memory API whose grants are multipart for files of at least one part size. */
function multipartApi() {
  const signed: number[] = [];
  const finished: { partNumber: number; etag: string }[][] = [];
  let nextFile = 1;
  const expiresAt = () => new Date(Date.now() + 300_000).toISOString();
  return {
    signed,
    finished,
    api: {
      requestUploads: async (_s: string, files: UploadRequestFile[]) => ({
        uploads: files.map((f): UploadGrant => {
          const base = { clientId: f.clientId, fileId: `F${nextFile++}`, url: `http://s3/${f.clientId}`, headers: {}, expiresAt: expiresAt() };
          return f.size >= partSize ? { ...base, method: 'MULTIPART', uploadId: 'u', partSize, partCount: Math.ceil(f.size / partSize) } : { ...base, method: 'PUT' };
        }),
      }),
      removeFile: async () => ({}),
      renewUpload: async (): Promise<never> => {
        throw new Error('not renewed in these tests');
      },
      listParts: async () => ({ parts: [] }),
      signParts: async (_s: string, _f: string, parts: { partNumber: number; size: number; sha256: string }[]) => {
        signed.push(...parts.map((p) => p.partNumber));
        return { parts: parts.map((p) => ({ partNumber: p.partNumber, url: `http://s3/part?partNumber=${p.partNumber}`, headers: {}, expiresAt: expiresAt() })) };
      },
      finishUpload: async (_s: string, fileId: string, parts: { partNumber: number; etag: string }[]) => (finished.push(parts), { fileId, status: 'UPLOADED' }),
    },
  };
}

function job(i: number, size: number): UploadJob {
  return { clientId: `c${i}`, name: `f${i}`, size, kind: 'dicom', studyInstanceUid: 'S1', body: async () => new Blob([new Uint8Array(size)]) };
}

describe('UploadManager, multipart grants', () => {
  it('sends parts in parallel in the slots other files leave free, never more than the limit', async () => {
    const { api, signed, finished } = multipartApi();
    let inFlight = 0;
    let peak = 0;
    const m = new UploadManager([job(1, 7 * partSize + 10), job(2, 100)], {
      sessionId: 's',
      api,
      transfer: async () => 200,
      putPart: async (target) => {
        peak = Math.max(peak, ++inFlight);
        await new Promise((r) => setTimeout(r, 5));
        inFlight--;
        return { status: 200, etag: `"e${new URL(target.url).searchParams.get('partNumber')}"` };
      },
      maxDicomFilesAtOnce: 3,
    });
    await m.run();
    expect(signed.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(finished).toEqual([Array.from({ length: 8 }, (_, i) => ({ partNumber: i + 1, etag: `"e${i + 1}"` }))]);
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(3);
    expect(m.maxObservedInFlight).toBeLessThanOrEqual(3);
    expect(m.uploaded.size).toBe(2);
  });
});
