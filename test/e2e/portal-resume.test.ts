/**
 * Resume in Chromium against a real local mode: a 1 GB DICOM file (sparse on disk, a header the
 * inspector verifies) is cut off twice. First its connections to the S3 gate drop for a few seconds
 * and the page carries on by itself; then, at about 60%, they drop for good and the page is reloaded.
 * The same folder added again (its small file renamed) continues the large file from the parts S3
 * holds and skips the small one, recognised by its SHA-256. The bytes are counted on their way into
 * the gate (a proxy that Chromium sends everything through), not in the page.
 */
import { closeSync, copyFileSync, ftruncateSync, linkSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { syntheticHeader } from '../../bench/synthetic-dicom';
import { uiCatalogs } from '../../web/src/i18n';
import { CORPUS, NARROW_WIDTHS, axeProblems, issueCode, launchChromium, readManifest, sidewaysOverflow, startLocalMode, type LocalMode } from './local-mode';

/** 23,170² 16-bit pixels: 1.07 GB of pixel data behind a real header. */
const SIDE = 23_170;
const STUDY = '2.25.4242.1';

/**
 * An HTTP proxy in front of everything the page requests. Body bytes bound for the S3 gate are
 * counted; `drop()` cuts every connection to the gate and refuses new ones until `restore()`.
 */
class GateProxy {
  bytesToGate = 0;
  singlePuts = 0;
  private offline = false;
  private readonly open = new Set<Socket>();
  private readonly watchers: { atBytes: number; fire: () => void }[] = [];
  readonly server: Server = createServer((req, res) => this.relay(req, res));

  constructor(private readonly gatePort: string) {}

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as { port: number }).port;
  }

  /** Resolves once `bytes` have gone to the gate. */
  reached(bytes: number): Promise<void> {
    return new Promise((fire) => this.watchers.push({ atBytes: bytes, fire }));
  }

  drop(): void {
    this.offline = true;
    for (const socket of this.open) socket.destroy();
  }

  restore(): void {
    this.offline = false;
  }

  private relay(req: IncomingMessage, res: import('node:http').ServerResponse): void {
    const url = new URL(req.url!);
    const toGate = url.port === this.gatePort;
    if (toGate && this.offline) return void req.socket.destroy();
    const { 'proxy-connection': _hop, ...headers } = req.headers;
    const upstream = request({ host: url.hostname, port: url.port, method: req.method, path: url.pathname + url.search, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => req.socket.destroy());
    req.on('error', () => upstream.destroy());
    if (toGate) {
      if (req.method === 'PUT' && !url.searchParams.has('partNumber')) this.singlePuts++;
      const socket = req.socket;
      // Keep-alive sockets carry many requests: one listener each.
      if (!this.open.has(socket)) socket.once('close', () => this.open.delete(socket));
      this.open.add(socket);
      req.on('data', (chunk: Buffer) => {
        this.bytesToGate += chunk.length;
        for (const w of this.watchers.filter((x) => this.bytesToGate >= x.atBytes)) {
          this.watchers.splice(this.watchers.indexOf(w), 1);
          w.fire();
        }
      });
    }
    req.pipe(upstream);
  }
}

let mode: LocalMode;
let browser: Browser;
let proxy: GateProxy;
let scratch: string;
let bigSize = 0;
let smallSize = 0;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'portal-resume-'));
  const first = join(scratch, 'first');
  const again = join(scratch, 'again');
  mkdirSync(first);
  mkdirSync(again);
  const { header, pixelBytes } = syntheticHeader({ studyInstanceUid: STUDY, seriesInstanceUid: '2.25.4242.2', sopInstanceUid: '2.25.4242.3', rows: SIDE, columns: SIDE, patientId: 'RESUME1' });
  bigSize = header.length + pixelBytes;
  const fd = openSync(join(first, 'large.dcm'), 'w');
  writeSync(fd, header);
  ftruncateSync(fd, bigSize);
  closeSync(fd);
  copyFileSync(join(CORPUS, 'CT_small.dcm'), join(first, 'ct.dcm'));
  smallSize = statSync(join(first, 'ct.dcm')).size;
  // The folder added after the reload: the same large file, the small one under another name.
  linkSync(join(first, 'large.dcm'), join(again, 'large.dcm'));
  copyFileSync(join(first, 'ct.dcm'), join(again, 'renamed-copy.dcm'));

  mode = await startLocalMode();
  proxy = new GateProxy(new URL(mode.s3Endpoint!).port);
  const proxyPort = await proxy.listen();
  // Chromium leaves loopback out of any proxy unless told otherwise.
  browser = await launchChromium([`--proxy-server=http://127.0.0.1:${proxyPort}`, '--proxy-bypass-list=<-loopback>']);
}, 150_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => (proxy ? proxy.server.close(resolve) : resolve(undefined)));
  proxy?.server.closeAllConnections();
  await mode?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

async function addFolder(page: Page, folder: string): Promise<void> {
  await page.locator('#folder-input').setInputFiles(folder);
  await page.locator('#scan-status[data-idle="true"]').waitFor({ timeout: 120_000 });
}

async function consentAndStart(page: Page): Promise<void> {
  for (const name of [/privacy policy/, /patient agrees/]) {
    const box = page.getByRole('checkbox', { name });
    if (!(await box.isChecked())) await box.check();
  }
  await page.getByRole('button', { name: 'Start upload' }).click();
}

describe('resume in Chromium', { timeout: 600_000 }, () => {
  it('a 1 GB file survives a network drop and a reload at 60%, resending at most 45% of its bytes; a stored file added again under another name is skipped', async () => {
    const startedAt = Date.now();
    const phases: string[] = [];
    const phase = (name: string) => phases.push(`${name} ${((Date.now() - startedAt) / 1000).toFixed(0)} s`);
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(mode.portalUrl);
    await page.getByRole('textbox', { name: 'Upload code' }).fill(await issueCode(mode));
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: '1. Select images' }).waitFor();
    const sessionId = await page.evaluate(() => JSON.parse(sessionStorage.getItem('upload-portal.session')!).sessionId as string);

    await addFolder(page, join(scratch, 'first'));
    const total = bigSize + smallSize;
    const at30 = proxy.reached(smallSize + 0.3 * bigSize);
    const at60 = proxy.reached(smallSize + 0.6 * bigSize);
    phase('added');
    await consentAndStart(page);

    // A drop of three seconds: every connection to S3 is cut and none can be made; the page carries on.
    await at30;
    phase('30%');
    proxy.drop();
    await new Promise((r) => setTimeout(r, 3000));
    proxy.restore();

    // At 60% the connection drops for good and the page is reloaded (the portal asks first).
    await at60;
    phase('60%');
    proxy.drop();
    const cutAt = proxy.bytesToGate;
    page.once('dialog', (dialog) => void dialog.accept());
    await page.reload();
    proxy.restore();
    await page.getByRole('heading', { name: '1. Select images' }).waitFor();
    // What the page says of the file that had not finished, in each language, readable at every width.
    const awaited = page.locator('p.awaited');
    for (const language of ['nl', 'de', 'fr', 'en'] as const) {
      await page.locator('#language').selectOption(language);
      await page.locator(`html[lang="${language}"]`).waitFor();
      const catalog = uiCatalogs[language];
      expect(await awaited.textContent()).toBe(`${catalog['resume.awaited#one'].replace('{count}', '1')} ${catalog['resume.leftOut']}`);
      for (const width of NARROW_WIDTHS) expect(await sidewaysOverflow(page, width), `${language} at ${width} px`).toBe(0);
    }
    expect(await axeProblems(page)).toEqual([]);

    const singlePutsBefore = proxy.singlePuts;
    phase('reloaded');
    await addFolder(page, join(scratch, 'again'));
    phase('added again');
    expect(await page.locator('p.awaited').count()).toBe(0);
    await consentAndStart(page);
    const result = page.locator('section.result[data-status]');
    await result.waitFor({ timeout: 300_000 });
    expect(await result.getAttribute('data-status')).toBe('ACCEPTED');

    phase('accepted');
    const resent = proxy.bytesToGate - total;
    const seconds = (Date.now() - startedAt) / 1000;
    console.log(`resume: ${(bigSize / 1e9).toFixed(2)} GB file, cut at ${((cutAt - smallSize) / bigSize * 100).toFixed(0)}%; gate received ${proxy.bytesToGate} bytes, resent ${resent} (${((resent / bigSize) * 100).toFixed(1)}% of the file); ${seconds.toFixed(0)} s (${phases.join(', ')})`);
    expect(resent).toBeGreaterThanOrEqual(0);
    expect(resent).toBeLessThanOrEqual(0.45 * bigSize);
    // The renamed copy of the stored small file was recognised by its bytes: no PUT after the reload.
    expect(proxy.singlePuts - singlePutsBefore).toBe(0);

    const manifest = await readManifest(mode, sessionId);
    const instances = manifest.studies.flatMap((s: any) => s.series.flatMap((se: any) => se.instances));
    expect(instances.map((i: any) => i.size).sort((a: number, b: number) => a - b)).toEqual([smallSize, bigSize]);
    expect(errors).toEqual([]);
    await context.close();
  });
});
