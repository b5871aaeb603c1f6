/**
 * Browser benchmark: the portal in headless Chromium against a real local mode.
 *
 * 1. A folder of 2,000 synthetic DICOM files is added; we time it until the verify panel shows them
 *    grouped by study, and sample the page's JS heap all along (peak must stay < 200 MB).
 *    Baselines, same run, same folder: a bare page that only reads each file's first 4 KiB, which
 *    is the least any header reader must do (the ratio is the portal's overhead); and the portal of
 *    BASELINE_REF (default main), built here and served to the same API, in alternating rounds:
 *    this tree must stay within 1.2× its time and peak heap.
 * 2. One 1 GB file (sparse on disk) is added; the heap must not grow by more than 20 MB.
 *    Baseline: the heap of the same page before the file was added.
 *
 * Run: npm run bench:browser
 */
import { mkdirSync, openSync, closeSync, writeSync, ftruncateSync, existsSync, statSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { ensureSyntheticDataset, syntheticHeader } from './synthetic-dicom';
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import type { Browser } from 'playwright-core';
import { issueCode, launchChromium, startLocalMode, ROOT, type LocalMode } from '../test/e2e/local-mode';
import { PORTAL_BUNDLE_LIMITS, buildPortal, printPortalBundles, type PortalBuild } from './portal-builds';
import { collectGarbage, heapUsed, startHeapSampling, startWorkerHeapSampling } from './heap-sampling';

const FILES = 2000;
const STUDIES = 4;
const HEAP_LIMIT_MB = 200;
const BIG_FILE_BYTES = 1_000_000_000;
const BIG_FILE_HEAP_LIMIT_MB = 20;
const MB = 1024 * 1024;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const MAX_RATIO = 1.2;

const cache = join(ROOT, '.bench-cache');
const folder = join(cache, `browser-${FILES}`);
ensureSyntheticDataset(folder, { files: FILES, studies: STUDIES, rows: 64, columns: 64 }, console.log);

/** A 1 GB DICOM file whose pixel data is a hole in a sparse file: it costs no disk, only a header write. */
const bigDir = join(cache, 'browser-1gb');
const bigFile = join(bigDir, 'large.dcm');
if (!existsSync(bigFile) || statSync(bigFile).size !== BIG_FILE_BYTES) {
  mkdirSync(bigDir, { recursive: true });
  const side = Math.floor(Math.sqrt((BIG_FILE_BYTES - 2048) / 2));
  const { header } = syntheticHeader({ studyInstanceUid: '2.25.77.1', seriesInstanceUid: '2.25.77.2', sopInstanceUid: '2.25.77.3', rows: side, columns: side, patientId: 'BENCHBIG' });
  const fd = openSync(bigFile, 'w');
  writeSync(fd, header);
  ftruncateSync(fd, BIG_FILE_BYTES);
  closeSync(fd);
}

async function openPortal(page: Page, portalUrl: string, code: string): Promise<void> {
  await page.goto(portalUrl);
  await page.getByRole('textbox', { name: 'Upload code' }).fill(code);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('heading', { name: '1. Select images' }).waitFor();
}

interface GroupingRun {
  ms: number;
  peak: number;
  workerPeak: number;
  heapBefore: number;
  studiesShown: number;
}

/** Serves a portal build's files to the page in place of local mode's own (the API stays the same). */
async function servePortal(page: Page, portalUrl: string, build: PortalBuild): Promise<void> {
  const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json' };
  await page.context().route(`${portalUrl}/**`, (route) => {
    const path = new URL(route.request().url()).pathname;
    if (path.startsWith('/api/') || path === '/config.json') return route.continue();
    const file = join(build.dist, path === '/' ? 'index.html' : path);
    return route.fulfill({ status: 200, contentType: types[extname(file)] ?? 'application/octet-stream', body: readFileSync(file) });
  });
}

/** One portal (local mode's, or `build` served in its place) grouping the folder: time, peak heaps. */
async function groupFolder(browser: Browser, mode: LocalMode, build?: PortalBuild): Promise<GroupingRun> {
  const context = await browser.newContext();
  const page = await context.newPage();
  if (build) await servePortal(page, mode.portalUrl, build);
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  await openPortal(page, mode.portalUrl, await issueCode(mode));
  await collectGarbage(cdp);
  const heapBefore = await heapUsed(cdp);
  const stopSampling = await startHeapSampling(page);
  const browserCdp = await browser.newBrowserCDPSession();
  const stopWorkerSampling = startWorkerHeapSampling(browserCdp, (url) => url.includes('header-worker'));
  const start = performance.now();
  await page.locator('#folder-input').setInputFiles(folder);
  await page.locator(`#scan-status[data-idle="true"][data-files="${FILES}"]`).waitFor({ timeout: 300_000 });
  await page.locator('article.study').nth(STUDIES - 1).waitFor();
  const ms = performance.now() - start;
  const peak = Math.max(await stopSampling(), await heapUsed(cdp));
  const workerPeak = await stopWorkerSampling();
  const studiesShown = await page.locator('article.study').count();
  await browserCdp.detach();
  await context.close();
  return { ms, peak, workerPeak, heapBefore, studiesShown };
}

const baselineRef = process.env.BASELINE_REF ?? 'main';
const [baselineBuild, currentBuild] = [await buildPortal(`portal of ${baselineRef}`, baselineRef), await buildPortal('this tree')];
const mode = await startLocalMode();
const browser = await launchChromium(['--enable-precise-memory-info', '--js-flags=--expose-gc']);
try {
  // Baseline: the same folder into a bare page that reads only the first 4 KiB of each file.
  // Run twice and keep the second, so the OS file cache is as warm for it as for the portal.
  const bareRun = async (): Promise<number> => {
    const bare = await browser.newPage();
    await bare.setContent(`<input type="file" id="folder" webkitdirectory multiple><p id="done"></p>
      <script>
        document.getElementById('folder').addEventListener('change', async (e) => {
          const files = [...e.target.files];
          let next = 0;
          const lane = async () => { while (next < files.length) { const f = files[next++]; await f.slice(0, 4096).arrayBuffer(); } };
          await Promise.all(Array.from({ length: 8 }, lane));
          document.getElementById('done').textContent = String(files.length);
        });
      </script>`);
    const started = performance.now();
    await bare.locator('#folder').setInputFiles(folder);
    await bare.locator('#done:not(:empty)').waitFor({ timeout: 120_000 });
    const elapsed = performance.now() - started;
    await bare.close();
    return elapsed;
  };
  await bareRun();
  const baselineMs = await bareRun();

  // The portals, alternating: 2,000 files until the verify panel shows the studies.
  const runs: Record<string, GroupingRun[]> = { baseline: [], current: [] };
  for (let round = 0; round < ROUNDS; round++) {
    runs.baseline!.push(await groupFolder(browser, mode, baselineBuild));
    runs.current!.push(await groupFolder(browser, mode, currentBuild));
  }
  const best = (list: GroupingRun[]) => list.reduce((a, b) => (b.ms < a.ms ? b : a));
  const bestPeak = (list: GroupingRun[]) => Math.min(...list.map((r) => r.peak + r.workerPeak));
  const current = best(runs.current!);
  const baseline = best(runs.baseline!);
  const { ms: portalMs, peak, workerPeak, heapBefore, studiesShown } = current;
  const browserCdp = await browser.newBrowserCDPSession();

  // One 1 GB file: the header is read from a slice; the file itself never enters the heap.
  const big = await browser.newPage();
  const bigCdp = await big.context().newCDPSession(big);
  await bigCdp.send('Performance.enable');
  await openPortal(big, mode.portalUrl, await issueCode(mode, { maxSessionBytes: 10_000_000_000 }));
  await collectGarbage(bigCdp);
  const bigBefore = await heapUsed(bigCdp);
  const stopBig = await startHeapSampling(big);
  const stopBigWorker = startWorkerHeapSampling(browserCdp, (url) => url.includes('header-worker'));
  const bigStart = performance.now();
  await big.locator('#file-input').setInputFiles(bigFile);
  await big.locator('#scan-status[data-idle="true"][data-files="1"]').waitFor({ timeout: 120_000 });
  const bigMs = performance.now() - bigStart;
  const bigPeak = Math.max(await stopBig(), await heapUsed(bigCdp));
  const bigWorkerPeak = await stopBigWorker();
  await collectGarbage(bigCdp);
  const bigAfter = await heapUsed(bigCdp);
  await big.close();

  const mb = (bytes: number) => (bytes / MB).toFixed(1);
  const timeRatio = portalMs / baseline.ms;
  const heapRatio = bestPeak(runs.current!) / bestPeak(runs.baseline!);
  const rows = [
    ['2,000 files → verify panel grouped', `${(portalMs / 1000).toFixed(2)} s`, `${(baselineMs / 1000).toFixed(2)} s (bare page, 4 KiB prefix per file)`, `${(portalMs / baselineMs).toFixed(2)}×`],
    [`  against ${baselineBuild.label}`, `${(portalMs / 1000).toFixed(2)} s`, `${(baseline.ms / 1000).toFixed(2)} s (best of ${ROUNDS}, alternating)`, `${timeRatio.toFixed(2)}× (limit ${MAX_RATIO}×)`],
    [`  peak heap against ${baselineBuild.label}`, `${mb(bestPeak(runs.current!))} MB`, `${mb(bestPeak(runs.baseline!))} MB (page + worker)`, `${heapRatio.toFixed(2)}× (limit ${MAX_RATIO}×)`],
    ['  per file', `${(portalMs / FILES).toFixed(2)} ms`, `${(baselineMs / FILES).toFixed(2)} ms`, ''],
    ['  studies shown', String(studiesShown), String(STUDIES), ''],
    ['  peak JS heap (page)', `${mb(peak)} MB`, `${mb(heapBefore)} MB before adding`, `limit ${HEAP_LIMIT_MB} MB (page + worker)`],
    ['  peak JS heap (header worker)', `${mb(workerPeak)} MB`, '', ''],
    ['1 GB file → added', `${(bigMs / 1000).toFixed(2)} s`, '', ''],
    ['  JS heap growth (peak)', `${mb(bigPeak - bigBefore)} MB`, `${mb(bigBefore)} MB before adding`, `limit ${BIG_FILE_HEAP_LIMIT_MB} MB`],
    ['  JS heap growth (after GC)', `${mb(bigAfter - bigBefore)} MB`, '', ''],
    ['  header worker heap (peak)', `${mb(bigWorkerPeak)} MB`, '', `limit ${BIG_FILE_HEAP_LIMIT_MB} MB`],
  ];
  console.log('\nBrowser benchmark (headless Chromium, local mode)');
  console.log(['measure', 'portal', 'baseline', 'ratio / limit'].join(' | '));
  for (const row of rows) console.log(row.join(' | '));

  const failures: string[] = printPortalBundles([baselineBuild, currentBuild], PORTAL_BUNDLE_LIMITS);
  if (timeRatio > MAX_RATIO) failures.push(`grouping took ${timeRatio.toFixed(2)}× ${baselineBuild.label}'s time`);
  if (heapRatio > MAX_RATIO) failures.push(`peak heap ${heapRatio.toFixed(2)}× ${baselineBuild.label}'s`);
  if (baseline.studiesShown !== STUDIES) failures.push(`${baselineBuild.label}: expected ${STUDIES} studies, saw ${baseline.studiesShown}`);
  if (studiesShown !== STUDIES) failures.push(`expected ${STUDIES} studies, saw ${studiesShown}`);
  if (workerPeak === 0) failures.push('the header worker heap was never sampled');
  if ((peak + workerPeak) / MB >= HEAP_LIMIT_MB) failures.push(`peak heap ${mb(peak + workerPeak)} MB ≥ ${HEAP_LIMIT_MB} MB`);
  // The worker is new for this page, so its whole heap counts as growth.
  if ((bigPeak - bigBefore + bigWorkerPeak) / MB > BIG_FILE_HEAP_LIMIT_MB) failures.push(`1 GB file raised the heap by ${mb(bigPeak - bigBefore + bigWorkerPeak)} MB`);
  if (failures.length > 0) {
    console.error(`\nOver budget: ${failures.join('; ')}`);
    process.exitCode = 1;
  }
} finally {
  await browser.close();
  await mode.stop();
  for (const build of [baselineBuild, currentBuild]) rmSync(join(build.dist, '../..'), { recursive: true, force: true });
  if (process.env.BENCH_KEEP_CACHE === '0') rmSync(bigDir, { recursive: true, force: true });
}
