/**
 * Drives a real local mode from outside, over HTTP only, as the portal does: starts `local/start.ts` as a child
 * process (its own process group, PORT=0, a given DATA_DIR), redeems codes, declares synthetic DICOM files in upload
 * requests of 10 and PUTs them to their presigned URLs. Shared by the benches and the tests that need many files.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { GetObjectTaggingCommand, type S3Client } from '@aws-sdk/client-s3';
import { RETENTION_TAG } from '../lambdas/core/retention';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { syntheticHeader } from './synthetic-dicom';

export const ROOT = resolve(import.meta.dirname, '..');
const UID_ROOT = '2.25.2000000000000000000000000000';
/** Upload requests carry at most maxDicomFilesAtOnce (10) DICOM files. */
const BATCH = 10;

export interface RunningLocalMode {
  child: ChildProcess;
  apiUrl: string;
  adminToken: string;
  uploadCode: string;
  output(): string;
  /** Sends `signal` to the process group (as a terminal's Ctrl-C does); resolves with the exit and its delay. */
  signal(signal: NodeJS.Signals): Promise<{ code: number | null; ms: number }>;
}

export function startLocalModeProcess(dataDir: string, env: Record<string, string> = {}): Promise<RunningLocalMode> {
  // As `npm start` runs it: tsx as a loader inside one node process. tsx's own CLI would sit in between and SIGKILL
  // local mode when it does not acknowledge a relayed Ctrl-C within 30 ms, which a busy machine can miss.
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', DATA_DIR: dataDir, LOG_FORMAT: 'pretty', ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const signal = (sig: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, ms: 0 });
    const sent = performance.now();
    const exited = new Promise<{ code: number | null; ms: number }>((r) => child.once('exit', (code) => r({ code, ms: performance.now() - sent })));
    process.kill(-child.pid!, sig);
    return exited;
  };
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`local mode did not start within 150 s:\n${out}`)), 150_000);
    const check = () => {
      const apiUrl = /^API: (\S+)$/m.exec(out)?.[1];
      const uploadCode = /^Upload code: (\S+)$/m.exec(out)?.[1];
      if (!apiUrl || !uploadCode) return;
      clearTimeout(timer);
      child.stdout!.off('data', check);
      const { adminToken } = JSON.parse(readFileSync(join(dataDir, 'local.json'), 'utf8')) as { adminToken: string };
      resolvePromise({ child, apiUrl, adminToken, uploadCode, output: () => out, signal });
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`local mode exited early with ${code}:\n${out}`));
    });
  });
}

export interface ApiAnswer {
  status: number;
  body: any;
  ms: number;
  bytes: number;
}

/** One API call; never throws for an HTTP status (callers assert on it). */
export async function callApi(apiUrl: string, method: string, path: string, body?: unknown, token?: string): Promise<ApiAnswer> {
  const started = performance.now();
  const response = await fetch(`${apiUrl}${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : {}, ms: performance.now() - started, bytes: text.length };
}

/** A small valid DICOM file (Part 10, 8×8 pixels) of study `study`, unique by `index`. */
export function syntheticFile(index: number, study: number): { bytes: Buffer; studyInstanceUid: string; sopInstanceUid: string } {
  const file = {
    studyInstanceUid: `${UID_ROOT}.2.${study + 1}`,
    seriesInstanceUid: `${UID_ROOT}.3.${study + 1}`,
    sopInstanceUid: `${UID_ROOT}.4.${index + 1}`,
    rows: 8,
    columns: 8,
    patientId: 'DRIVER0001',
  };
  const { header, pixelBytes } = syntheticHeader(file);
  const pixels = Buffer.alloc(pixelBytes, index & 0xff);
  return { bytes: Buffer.concat([header, pixels]), studyInstanceUid: file.studyInstanceUid, sopInstanceUid: file.sopInstanceUid };
}

/** PUT timeout: a small file that takes longer is stuck, not slow. */
const PUT_TIMEOUT_MS = 60_000;

/** One PUT to a presigned URL, tried twice; the status, or 'timeout'. A retry after a lost answer may see 412 (the first landed). */
async function putWithTimeout(upload: { url: string; headers: Record<string, string> }, bytes: Buffer): Promise<number | 'timeout'> {
  let last: number | 'timeout' = 'timeout';
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const put = await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: new Uint8Array(bytes), signal: AbortSignal.timeout(PUT_TIMEOUT_MS) });
      await put.arrayBuffer();
      if (put.status === 200 || (attempt > 0 && put.status === 412)) return 200;
      last = put.status;
    } catch {
      last = 'timeout';
    }
  }
  return last;
}

export interface UploadReport {
  fileIds: string[];
  /** Every answer that was not 2xx, with its route. */
  failures: string[];
}

/**
 * Declares `count` synthetic files of `studies` studies and PUTs them, `concurrency` requests in flight; `offset`
 * numbers the files, so several calls add different files to one session.
 */
export async function uploadSyntheticFiles(
  apiUrl: string,
  session: { sessionId: string; token: string },
  opts: { count: number; studies: number; concurrency: number; offset?: number },
): Promise<UploadReport> {
  const report: UploadReport = { fileIds: [], failures: [] };
  const batches = Math.ceil(opts.count / BATCH);
  let next = 0;
  const worker = async () => {
    for (let b = next++; b < batches; b = next++) {
      const files = Array.from({ length: Math.min(BATCH, opts.count - b * BATCH) }, (_, i) => {
        const index = (opts.offset ?? 0) + b * BATCH + i;
        return syntheticFile(index, index % opts.studies);
      });
      const declared = await callApi(apiUrl, 'POST', `/sessions/${session.sessionId}/uploads`, {
        files: files.map((f, i) => ({ clientId: String(i), name: `${b}-${i}.dcm`, size: f.bytes.length, kind: 'dicom', studyInstanceUid: f.studyInstanceUid, sopInstanceUid: f.sopInstanceUid, sha256: createHash('sha256').update(f.bytes).digest('base64') })),
      }, session.token);
      if (declared.status !== 201 && declared.status !== 200) {
        report.failures.push(`uploads ${declared.status} ${JSON.stringify(declared.body).slice(0, 200)}`);
        continue;
      }
      for (const upload of declared.body.uploads as { clientId: string; fileId: string; url: string; headers: Record<string, string> }[]) {
        const status = await putWithTimeout(upload, files[Number(upload.clientId)]!.bytes);
        if (status === 200) {
          report.fileIds.push(upload.fileId);
          continue;
        }
        // As the portal gives up on a file: say so, and remove it so the session can still complete.
        report.failures.push(`PUT ${status}`);
        const removed = await callApi(apiUrl, 'DELETE', `/sessions/${session.sessionId}/files/${upload.fileId}`, undefined, session.token);
        if (removed.status !== 204) report.failures.push(`DELETE ${removed.status}`);
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  return report;
}

/** Whether the sweeper has tagged the object `upload-state=accepted` (core/apply-retention.ts). */
export async function retentionTagged(s3: S3Client, bucket: string, key: string): Promise<boolean> {
  const { TagSet } = await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }));
  return (TagSet ?? []).some((t) => t.Key === RETENTION_TAG.key && t.Value === RETENTION_TAG.accepted);
}
