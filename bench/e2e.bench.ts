/**
 * `npm run bench:e2e`: the whole local pipeline against raw S3 PUTs, same data, same concurrency.
 *
 * Local mode is started as `npm start` starts it (a child process, PORT=0, a temp DATA_DIR). The
 * data set (≥1,000 synthetic DICOM files, ≥1 GiB, valid headers and pixel data) is generated once
 * into .bench-cache/. Then, alternating, for ROUNDS rounds:
 *  - raw: presigned PUTs of every file straight to the same s3rver (keys outside sessions/, so no
 *    inspection), CONCURRENCY in flight;
 *  - pipeline: redeem a fresh code, upload requests of ≤10 DICOM files (the next two batches
 *    requested while the current one transfers), PUTs to the presigned URLs with CONCURRENCY in flight, the
 *    inspector running from S3 events, then complete (retried while files are pending) → ACCEPTED.
 *    The retention tags the sweeper then applies in the background are awaited (and checked on
 *    every file) before the next run, outside the timing.
 * Throughput is total bytes / wall time, from the first request to the last answer. The figure is
 * the ratio pipeline / raw (target ≥ 0.8), medians over the rounds. Before each timed run the
 * previous run's writes are flushed to disk (sync), so one run's writeback does not slow the next.
 *
 * On Linux it also counts the CPU seconds each run used (this process plus local mode's process
 * tree, DynamoDB Local included) and prints the CPU bound: the pipeline's CPU work spread evenly over
 * every core of the machine, against the raw time. No scheduling can beat that ratio; it shows
 * whether a shortfall is overhead in the pipeline's work or idle time in how it is ordered.
 *
 * BENCH_FILES and BENCH_ROUNDS shrink it for a quick look; BENCH_LOG_LEVEL=INFO with
 * BENCH_LOG_FILE=<path> keeps local mode's log (handler durations) for a closer one, and
 * BENCH_CPU_PROF=<dir> keeps local mode's V8 CPU profiles.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { GetObjectTaggingCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../local/emulators';
import type { Usage } from '../local/usage-meter';
import { ensureSyntheticDataset, type DatasetEntry } from './synthetic-dicom';

const ROOT = resolve(import.meta.dirname, '..');
const FILES = Number(process.env.BENCH_FILES ?? 1024);
const ROWS = 512;
const COLUMNS = 1024; // 1 MiB of 16-bit pixels per file
const STUDIES = 4;
/** The portal keeps at most maxDicomFilesAtOnce (10) DICOM transfers in flight; raw PUTs get the same. */
const CONCURRENCY = 10;
const BATCH = 10;
/** Upload requests in flight ahead of the transfers (web/src/uploader.ts keeps the same). */
const REQUEST_AHEAD = 2;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CORES = availableParallelism();
const MiB = 1024 * 1024;

interface LocalInfo {
  apiUrl: string;
  adminToken: string;
  s3Endpoint: string;
  bucketName: string;
}

function startLocalMode(dataDir: string): Promise<{ child: ChildProcess; info: LocalInfo; code: string }> {
  // BENCH_CPU_PROF=<dir> writes V8 CPU profiles of local mode (main and s3rver threads) there.
  // tsx as a loader in local mode's own process (as `npm start` runs it), so its pid is local mode's.
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${resolve(process.env.BENCH_CPU_PROF)}`, '--import', 'tsx'] : ['--import', 'tsx'];
  const child = spawn(process.execPath, [...profile, 'local/start.ts'], {
    cwd: ROOT,
    // Only warnings: a log line per inspected file would cost the pipeline terminal time, not S3 time.
    env: { ...process.env, PORT: '0', DATA_DIR: dataDir, POWERTOOLS_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'WARN' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  return new Promise((resolvePromise, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      if (process.env.BENCH_LOG_FILE) appendFileSync(process.env.BENCH_LOG_FILE, d);
      out += d.toString();
      const code = /^Upload code: (\S+)$/m.exec(out)?.[1];
      if (code) {
        const info = JSON.parse(readFileSync(join(dataDir, 'local.json'), 'utf8')) as LocalInfo;
        resolvePromise({ child, info, code });
      }
    });
    child.once('exit', (c) => reject(new Error(`local mode exited with ${c}:\n${out}`)));
  });
}

/** The JSON body; anything but 2xx (or 409, which completion answers while files are pending) throws. */
async function json(response: Response): Promise<{ http: number; body: any }> {
  const text = await response.text();
  if (!response.ok && response.status !== 409) throw new Error(`HTTP ${response.status}: ${text.slice(0, 500)}`);
  return { http: response.status, body: text ? JSON.parse(text) : {} };
}

/** Runs `task` over `items` with at most `limit` in flight. */
async function pool<T>(items: T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await task(items[next++]!);
    }),
  );
}

async function put(url: string, headers: Record<string, string>, path: string): Promise<void> {
  const body = await readFile(path);
  const response = await fetch(url, { method: 'PUT', headers, body });
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`PUT failed: HTTP ${response.status}`);
}

async function rawRound(info: LocalInfo, files: DatasetEntry[], round: number): Promise<number> {
  const s3 = new S3Client({ endpoint: info.s3Endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
  // Signed before the clock starts: the baseline gets every advantage.
  const urls = await Promise.all(
    files.map((f, i) => getSignedUrl(s3, new PutObjectCommand({ Bucket: info.bucketName, Key: `bench-raw/${round}/${i}`, ContentLength: f.size }), { expiresIn: 3600 })),
  );
  s3.destroy();
  const started = performance.now();
  await pool(
    files.map((f, i) => ({ f, url: urls[i]! })),
    CONCURRENCY,
    ({ f, url }) => put(url, {}, f.path),
  );
  return (performance.now() - started) / 1000;
}

interface PipelineTimings {
  /** Upload request latencies, ms. */
  requests: number[];
  /** Time the uploader waited for upload URLs with transfer slots free, ms. */
  stalled: number;
  /** From the start to the last PUT's answer, s. */
  transfersDone: number;
  /** Completion attempts answered 409 (files still in inspection). */
  pendingAnswers: number;
  /** The last completion request (the one that accepted), ms. */
  lastComplete: number;
}

async function pipelineRound(info: LocalInfo, files: DatasetEntry[], code: string): Promise<{ seconds: number; status: string; timings: PipelineTimings; objectKeys: string[] }> {
  const timings: PipelineTimings = { requests: [], stalled: 0, transfersDone: 0, pendingAnswers: 0, lastComplete: 0 };
  const started = performance.now();
  const { body: session } = await json(await fetch(`${info.apiUrl}/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ uploadCode: code }) }));
  const auth = { authorization: `Bearer ${session.token}`, 'content-type': 'application/json' };
  const objectKeys: string[] = [];
  const batches: DatasetEntry[][] = [];
  for (let i = 0; i < files.length; i += BATCH) batches.push(files.slice(i, i + BATCH));

  const requestBatch = async (batch: DatasetEntry[], b: number) => {
    const requestStarted = performance.now();
    // The declaration carries each file's SHA-256, which the signed PUT then proves (the portal hashes while reading).
    const body = {
      files: await Promise.all(batch.map(async (f, i) => ({
        clientId: `${b}-${i}`,
        name: `${b}-${i}.dcm`,
        size: f.size,
        kind: 'dicom',
        studyInstanceUid: f.studyInstanceUid,
        sopInstanceUid: f.sopInstanceUid,
        sha256: createHash('sha256').update(await readFile(f.path)).digest('base64'),
      }))),
    };
    const answer = (await json(await fetch(`${info.apiUrl}/sessions/${session.sessionId}/uploads`, { method: 'POST', headers: auth, body: JSON.stringify(body) }))).body;
    timings.requests.push(performance.now() - requestStarted);
    const uploads = answer.uploads as { clientId: string; fileId: string; url: string; headers: Record<string, string> }[];
    for (const u of uploads) objectKeys.push(`sessions/${session.sessionId}/files/${u.fileId}`);
    return uploads.map((u) => ({
      ...u,
      path: batch[Number(u.clientId.split('-')[1])]!.path,
    }));
  };

  // The uploader's loop: the next REQUEST_AHEAD upload requests are made while the current batch
  // transfers (as the portal's uploader does); transfers stay at CONCURRENCY in flight.
  const ahead: Promise<Awaited<ReturnType<typeof requestBatch>>>[] = [];
  let requested = 0;
  const requestAhead = () => {
    for (; requested < batches.length && ahead.length < REQUEST_AHEAD; requested++) {
      const answer = requestBatch(batches[requested]!, requested);
      answer.catch(() => undefined); // awaited below, in order; this only keeps an early failure from being "unhandled"
      ahead.push(answer);
    }
  };
  requestAhead();
  let inFlight = 0;
  let waiters: (() => void)[] = [];
  const slot = async () => {
    while (inFlight >= CONCURRENCY) await new Promise<void>((r) => waiters.push(r));
    inFlight++;
  };
  const release = () => {
    inFlight--;
    const w = waiters;
    waiters = [];
    w.forEach((r) => r());
  };
  const running: Promise<void>[] = [];
  while (ahead.length > 0) {
    const waitStarted = performance.now();
    const uploads = await ahead.shift()!;
    timings.stalled += performance.now() - waitStarted;
    requestAhead();
    for (const u of uploads) {
      await slot();
      running.push(put(u.url, u.headers, u.path).finally(release));
    }
  }
  await Promise.all(running);
  timings.transfersDone = (performance.now() - started) / 1000;

  const studies = [...new Set(files.map((f) => f.studyInstanceUid))].map((studyInstanceUid) => ({ studyInstanceUid }));
  const completion = { studies, contact: { email: 'bench@example.org' }, consent: { privacyPolicy: true, dataSharing: true } };
  for (;;) {
    const completeStarted = performance.now();
    const answer = await json(await fetch(`${info.apiUrl}/sessions/${session.sessionId}/complete`, { method: 'POST', headers: auth, body: JSON.stringify(completion) }));
    timings.lastComplete = performance.now() - completeStarted;
    // 409 while files are still inspected, 202 while the completer works; asked again, a decided session answers 200.
    if (answer.http !== 409 && answer.http !== 202) {
      if (answer.body.status !== 'ACCEPTED') throw new Error(`pipeline session ended ${String(answer.body.status)}: ${JSON.stringify(answer.body).slice(0, 500)}`);
      return { seconds: (performance.now() - started) / 1000, status: answer.body.status, timings, objectKeys };
    }
    timings.pendingAnswers++;
    await new Promise((r) => setTimeout(r, answer.http === 202 ? 250 : 100));
  }
}

/**
 * CPU seconds (user + system) used so far by a process and all its descendants, from /proc (Linux;
 * undefined elsewhere). Local mode's tree is its node process (API, inspector, the s3rver thread)
 * and DynamoDB Local's JVM under its watchdog shell.
 */
function treeCpuSeconds(pid: number): number | undefined {
  if (!existsSync(`/proc/${pid}/stat`)) return undefined;
  const ticksPerSecond = 100; // USER_HZ on Linux
  let total = 0;
  const visit = (p: number) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
      for (const child of readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').split(' ').filter(Boolean)) visit(Number(child));
    } catch {
      // the process ended meanwhile
    }
  };
  visit(pid);
  return total;
}

/** CPU seconds of the bench process itself plus local mode's tree. */
function cpuSeconds(localPid: number): { bench: number; local: number | undefined } {
  const usage = process.cpuUsage();
  return { bench: (usage.user + usage.system) / 1e6, local: treeCpuSeconds(localPid) };
}

interface CpuUse {
  seconds: number;
  benchCpu: number;
  localCpu?: number;
}

async function measured(localPid: number, run: () => Promise<number>): Promise<CpuUse> {
  const before = cpuSeconds(localPid);
  const seconds = await run();
  const after = cpuSeconds(localPid);
  return { seconds, benchCpu: after.bench - before.bench, ...(after.local !== undefined && before.local !== undefined ? { localCpu: after.local - before.local } : {}) };
}

function describeCpu(use: CpuUse): string {
  if (use.localCpu === undefined) return '';
  const total = use.benchCpu + use.localCpu;
  return `, CPU ${total.toFixed(1)} s (bench ${use.benchCpu.toFixed(1)} + local mode ${use.localCpu.toFixed(1)}) = ${(total / use.seconds).toFixed(2)} cores busy`;
}

/**
 * Between timed runs: the previous run's ~1 GiB of dirty pages is written to disk now, so its
 * writeback does not land in (and slow) whichever run comes next.
 */
function settle(): void {
  spawnSync('sync');
}

/**
 * After ACCEPTED the sweeper tags every file for retention, in the background (the acceptance
 * event invokes it). Waits for that, outside the timed runs, so it neither counts for nor slows
 * the next run; checks every object, and returns the seconds it took.
 */
async function waitForRetentionTags(info: LocalInfo, keys: string[]): Promise<number> {
  const started = performance.now();
  const s3 = new S3Client({ endpoint: info.s3Endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, forcePathStyle: true });
  try {
    let left = keys;
    while (left.length > 0) {
      if (performance.now() - started > 120_000) throw new Error(`${left.length} of ${keys.length} files still lack their retention tag after 120 s`);
      const untagged: string[] = [];
      await pool(left, 16, async (key) => {
        const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: info.bucketName, Key: key }));
        if (!tags.TagSet?.some((t) => t.Key === 'upload-state' && t.Value === 'accepted')) untagged.push(key);
      });
      left = untagged;
      if (left.length > 0) await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    s3.destroy();
  }
  return (performance.now() - started) / 1000;
}

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/**
 * What each pipeline file cost: CPU seconds (local mode's tree, and this bench as the uploading client) and the AWS
 * requests local mode's handlers made (usage.json, written as it stops; raw rounds make none), plus the browser's PUT.
 * These must go down, not up, from one change to the next.
 */
function printPerFile(usageFile: string, cpu: { bench: number; local: number; files: number }): void {
  if (cpu.files === 0) return;
  console.log(`per pipeline file: local mode CPU ${((cpu.local / cpu.files) * 1000).toFixed(2)} ms (node and DynamoDB Local's JVM), bench client CPU ${((cpu.bench / cpu.files) * 1000).toFixed(2)} ms`);
  if (!existsSync(usageFile)) return console.log('per pipeline file: requests not counted (local mode wrote no usage.json)');
  const usage = JSON.parse(readFileSync(usageFile, 'utf8')) as Usage;
  const dynamo = Object.values(usage.dynamo).reduce((sum, u) => sum + u.calls, 0);
  const s3 = Object.values(usage.s3).reduce((sum, n) => sum + n, 0) + cpu.files;
  console.log(`per pipeline file: ${(dynamo / cpu.files).toFixed(2)} DynamoDB requests, ${(s3 / cpu.files).toFixed(2)} S3 requests (the browser's PUT included)`);
}

async function main(): Promise<void> {
  const files = ensureSyntheticDataset(join(ROOT, '.bench-cache', `e2e-${FILES}x${ROWS}x${COLUMNS}`), { files: FILES, studies: STUDIES, rows: ROWS, columns: COLUMNS }, console.log);
  const totalBytes = files.reduce((sum, f) => sum + f.size, 0);
  console.log(`Data set: ${files.length} DICOM files, ${(totalBytes / MiB).toFixed(0)} MiB, ${STUDIES} studies; concurrency ${CONCURRENCY}, upload requests of ${BATCH}`);

  const dataDir = mkdtempSync(join(tmpdir(), 'bench-e2e-'));
  const { child, info, code: firstCode } = await startLocalMode(dataDir).catch((error: unknown) => {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  });
  // Ctrl-C on the bench stops local mode too (it drains and stops its JVM), then cleans up.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      child.once('exit', () => {
        rmSync(dataDir, { recursive: true, force: true });
        process.exit(130);
      });
      child.kill('SIGTERM');
    });
  }
  const raw: number[] = [];
  const pipeline: number[] = [];
  /** CPU seconds of the pipeline rounds: the bench client's, and local mode's tree (node and the JVM). */
  const pipelineCpu = { bench: 0, local: 0, files: 0 };
  /** Per round: raw seconds / (pipeline CPU seconds / cores), the highest ratio this machine's cores allow. */
  const bounds: number[] = [];
  try {
    let code = firstCode;
    for (let round = 0; round < ROUNDS; round++) {
      settle();
      const rawUse = await measured(child.pid!, () => rawRound(info, files, round));
      raw.push(totalBytes / MiB / rawUse.seconds);
      settle();
      let result: Awaited<ReturnType<typeof pipelineRound>> | undefined;
      const pipelineUse = await measured(child.pid!, async () => (result = await pipelineRound(info, files, code)).seconds);
      const retentionSeconds = await waitForRetentionTags(info, result!.objectKeys);
      const accepted = await (await fetch(`${info.apiUrl}/admin/upload-codes`, { method: 'POST', headers: { authorization: `Bearer ${info.adminToken}`, 'content-type': 'application/json' }, body: '{}' })).json() as { code: string };
      code = accepted.code;
      pipeline.push(totalBytes / MiB / pipelineUse.seconds);
      pipelineCpu.bench += pipelineUse.benchCpu;
      pipelineCpu.local += pipelineUse.localCpu ?? 0;
      pipelineCpu.files += files.length;
      if (pipelineUse.localCpu !== undefined && rawUse.localCpu !== undefined) {
        // The shortest time the pipeline's CPU work fits in on this machine, and the ratio that allows.
        const floor = (pipelineUse.benchCpu + pipelineUse.localCpu) / CORES;
        bounds.push(rawUse.seconds / floor);
      }
      const t = result!.timings;
      const requests = [...t.requests].sort((a, b) => a - b);
      console.log(
        `round ${round + 1}: raw PUT ${raw.at(-1)!.toFixed(1)} MiB/s (${rawUse.seconds.toFixed(2)} s${describeCpu(rawUse)}) · ` +
          `pipeline ${pipeline.at(-1)!.toFixed(1)} MiB/s (${pipelineUse.seconds.toFixed(2)} s${describeCpu(pipelineUse)}, ${String(result!.status)})\n` +
          `  pipeline detail: transfers done at ${t.transfersDone.toFixed(2)} s; waited ${(t.stalled / 1000).toFixed(2)} s for upload URLs; ` +
          `upload request p50 ${requests[Math.floor(requests.length / 2)]!.toFixed(0)} ms, p90 ${requests[Math.floor(requests.length * 0.9)]!.toFixed(0)} ms, first ${t.requests[0]!.toFixed(0)} ms, last ${t.requests.at(-1)!.toFixed(0)} ms; ` +
          `${t.pendingAnswers} completion answers "files pending", the accepting one took ${(t.lastComplete / 1000).toFixed(2)} s; ` +
          `all ${result!.objectKeys.length} files carried their retention tag ${retentionSeconds.toFixed(2)} s after ACCEPTED (not timed)`,
      );
    }
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    printPerFile(join(dataDir, 'usage.json'), pipelineCpu);
    rmSync(dataDir, { recursive: true, force: true });
  }
  const ratio = median(pipeline) / median(raw);
  console.log(`raw PUT to s3rver:        ${median(raw).toFixed(1)} MiB/s (median of ${ROUNDS})`);
  console.log(`whole local pipeline:     ${median(pipeline).toFixed(1)} MiB/s (median of ${ROUNDS})`);
  console.log(`ratio pipeline / raw:     ${(ratio * 100).toFixed(1)} % (target ≥ 80 %)`);
  if (bounds.length) {
    console.log(
      `CPU bound:                ${(median(bounds) * 100).toFixed(1)} % (median of ${bounds.length}): the pipeline's CPU work (bench + local mode) spread over all ${CORES} cores, against the raw time`,
    );
  }
}

await main();
