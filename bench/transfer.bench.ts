/**
 * Transfer benchmark: the portal's uploader against a bare baseline in the same Chromium page, to
 * the same local S3 (through the verifying gate), in alternating rounds, each run to its own session:
 * - 2,000 DICOM files of 0.5 MB;
 * - one DICOM file of 2 GB (sparse on disk), which travels as multipart.
 * The baseline (bench/pages/transfer-page.ts) hashes each file with the same code, fetches every
 * URL first and PUTs at the same concurrency. Targets: ≥ 85% of the baseline's throughput; the JS
 * heap of the page and the hash worker grows ≤ 20 MB while the 2 GB file is sent.
 * Also printed: the CPU seconds the browser, local mode (API, gate, s3rver, DynamoDB Local,
 * inspector) and the whole machine used per run, so a gate-bound run says so.
 *
 * Run: npm run bench:transfer   (TRANSFER_CASES=small|large to run one case, BENCH_ROUNDS=n)
 */
import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ensureSyntheticDataset, syntheticHeader } from './synthetic-dicom';
import { issueCode, launchChromium, startLocalMode, ROOT, type LocalMode } from '../test/e2e/local-mode';
import { benchDocument, routeBenchPages } from './page-server';
import { collectGarbage, heapUsed, startHeapSampling, startWorkerHeapSampling } from './heap-sampling';
import { descendantCpuSeconds } from './cpu-time';

const TARGET = 0.85;
const HEAP_LIMIT_MB = 20;
const MB = 1024 * 1024;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1);
const CASES = (process.env.TRANSFER_CASES ?? 'small,large').split(',');

const cache = join(ROOT, '.bench-cache');
const SMALL_FILES = Number(process.env.TRANSFER_FILES ?? 2000);
// 512 × 512 16-bit pixels: 0.52 MB a file.
const smallEntries = ensureSyntheticDataset(join(cache, `transfer-${SMALL_FILES}`), { files: SMALL_FILES, studies: 4, rows: 512, columns: 512 }, console.log);

const LARGE_BYTES = 2_000_000_000;
const largeFile = join(cache, 'transfer-2gb', 'large.dcm');
const largeMeta = { studyInstanceUid: '2.25.78.1', seriesInstanceUid: '2.25.78.2', sopInstanceUid: '2.25.78.3' };
if (!existsSync(largeFile) || statSync(largeFile).size !== LARGE_BYTES) {
  mkdirSync(join(cache, 'transfer-2gb'), { recursive: true });
  const side = Math.floor(Math.sqrt((LARGE_BYTES - 2048) / 2));
  const { header } = syntheticHeader({ ...largeMeta, rows: side, columns: side, patientId: 'BENCHBIG' });
  const fd = openSync(largeFile, 'w');
  writeSync(fd, header);
  ftruncateSync(fd, LARGE_BYTES);
  closeSync(fd);
}

/** CPU seconds of the whole machine (all processes), from /proc/stat. */
function machineCpuSeconds(): number {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const [user, nice, system, , , irq, softirq, steal] = ticks.map(Number);
  return (user! + nice! + system! + irq! + softirq! + steal!) / 100;
}

interface Run {
  way: 'portal' | 'baseline';
  ms: number;
  bytes: number;
  browserCpu: number;
  otherCpu: number;
  machineCpu: number;
  heapGrowth?: number;
}

const mode: LocalMode = await startLocalMode();
// The bench page is fulfilled by Playwright, so Chromium cannot place it in the loopback address
// space as it does local mode's real portal page; without this it refuses the page's PUTs to 127.0.0.1.
const browser = await launchChromium(['--enable-precise-memory-info', '--disable-features=LocalNetworkAccessChecks,PrivateNetworkAccessChecks,BlockInsecurePrivateNetworkRequests']);
const failures: string[] = [];
try {
  const context = await browser.newContext();
  await routeBenchPages(context, mode.portalUrl, {
    scripts: { '/bench/transfer-page.js': 'bench/pages/transfer-page.ts', '/bench/hash-worker.js': 'web/src/hash-worker.ts' },
    html: { '/bench/transfer.html': benchDocument('/bench/transfer-page.js') },
  });
  const cases = {
    small: { label: `${SMALL_FILES} files of 0.5 MB`, paths: smallEntries.map((e) => e.path), meta: Object.fromEntries(smallEntries.map((e) => [e.path.split('/').pop()!, e])) },
    large: { label: 'one file of 2 GB (multipart)', paths: [largeFile], meta: { 'large.dcm': largeMeta } },
  };
  console.log(`\nTransfer benchmark: headless Chromium → local S3 through the gate, ${ROUNDS} alternating round(s)`);
  for (const name of CASES) {
    const { label, paths, meta } = cases[name as keyof typeof cases];
    const bytes = paths.reduce((sum, p) => sum + statSync(p).size, 0);
    const runs: Run[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const way of ['baseline', 'portal'] as const) runs.push(await sendOnce(way, paths, meta, bytes, name === 'large'));
    }
    report(label, runs);
  }
} finally {
  await browser.close();
  await mode.stop();
}

async function sendOnce(way: Run['way'], paths: string[], meta: object, bytes: number, watchHeap: boolean): Promise<Run> {
  const page = await browser.contexts()[0]!.newPage();
  page.on('requestfailed', (request) => console.error(`${way}: ${request.method()} ${request.url().split('?')[0]} failed: ${request.failure()?.errorText}`));
  page.on('console', (message) => message.type() === 'error' && console.error(`${way}: ${message.text()}`));
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  await page.goto(`${mode.portalUrl}/bench/transfer.html`);
  await page.waitForFunction(() => document.title === 'ready');
  await page.locator('#files').setInputFiles(paths);
  const code = await issueCode(mode, { maxSessionBytes: 10_000_000_000 });
  await collectGarbage(cdp);
  const heapBefore = await heapUsed(cdp);
  const browserCdp = await browser.newBrowserCDPSession();
  const stopPage = await startHeapSampling(page);
  const stopWorker = startWorkerHeapSampling(browserCdp, (url) => url.startsWith('blob:'));
  const [browserBefore, allBefore, machineBefore] = [browserCpuSeconds(), descendantCpuSeconds(), machineCpuSeconds()];
  const result = await page.evaluate(([w, c, m]) => (window as any)[w](c, m), [way, code, meta] as const) as { ms: number; sessionId: string; token: string };
  const [browserCpu, allCpu, machineCpu] = [browserCpuSeconds() - browserBefore, descendantCpuSeconds() - allBefore, machineCpuSeconds() - machineBefore];
  const pagePeak = Math.max(await stopPage(), await heapUsed(cdp));
  const workerPeak = await stopWorker();
  await browserCdp.detach();
  await page.close();
  await waitVerified(result.sessionId, result.token, paths.length);
  return { way, ms: result.ms, bytes, browserCpu, otherCpu: allCpu - browserCpu, machineCpu, ...(watchHeap ? { heapGrowth: pagePeak - heapBefore + workerPeak } : {}) };
}

/** CPU seconds of Chromium's processes: the descendants of the browser's main process. */
function browserCpuSeconds(): number {
  const pid = Number(readFileSync('/proc/self/task/' + process.pid + '/children', 'utf8').split(' ').find((p) => p && readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('chromium')));
  return pid ? descendantCpuSeconds(pid) + ownCpuSeconds(pid) : 0;
}

function ownCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Every file reached VERIFIED (the inspector read it back): the bytes that arrived are the files. */
async function waitVerified(sessionId: string, token: string, files: number): Promise<void> {
  const deadline = Date.now() + 300_000;
  for (;;) {
    const response = await fetch(`${mode.apiUrl}/sessions/${sessionId}`, { headers: { authorization: `Bearer ${token}` } });
    const state = (await response.json()) as { counts?: { verified: number; rejected: number } };
    if (state.counts && state.counts.verified + state.counts.rejected >= files) {
      if (state.counts.rejected > 0) failures.push(`${state.counts.rejected} files rejected in session ${sessionId}`);
      return;
    }
    if (Date.now() > deadline) throw new Error(`session ${sessionId}: ${JSON.stringify(state.counts)} after 5 minutes`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function report(label: string, runs: Run[]): void {
  const mbps = (r: Run) => r.bytes / MB / (r.ms / 1000);
  const best = (way: Run['way']) => runs.filter((r) => r.way === way).reduce((a, b) => (mbps(b) > mbps(a) ? b : a));
  const [portal, baseline] = [best('portal'), best('baseline')];
  const ratio = mbps(portal) / mbps(baseline);
  console.log(`\n${label}`);
  console.log(['way', 'MiB/s', 'time', 'CPU-s browser', 'CPU-s local mode', 'CPU-s machine', 'heap growth'].join(' | '));
  for (const r of runs) {
    console.log([r.way, mbps(r).toFixed(1), `${(r.ms / 1000).toFixed(1)} s`, r.browserCpu.toFixed(1), r.otherCpu.toFixed(1), `${r.machineCpu.toFixed(1)} of ${((2 * r.ms) / 1000).toFixed(1)}`, r.heapGrowth === undefined ? '' : `${(r.heapGrowth / MB).toFixed(1)} MB`].join(' | '));
  }
  console.log(`portal / baseline (best runs): ${(ratio * 100).toFixed(0)}% (target ≥ ${TARGET * 100}%)`);
  if (ratio < TARGET) failures.push(`${label}: ${(ratio * 100).toFixed(0)}% of the baseline`);
  for (const r of runs) if (r.way === 'portal' && r.heapGrowth !== undefined && r.heapGrowth / MB > HEAP_LIMIT_MB) failures.push(`${label}: heap grew ${(r.heapGrowth / MB).toFixed(1)} MB`);
}

if (failures.length > 0) {
  console.error(`\nOff target: ${failures.join('; ')}`);
  process.exitCode = 1;
}
