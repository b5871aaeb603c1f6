/**
 * Helpers for the end-to-end tests: a real local mode (`npx tsx local/start.ts`) per test file,
 * Debian's Chromium through playwright-core, axe-core scans and screenshots. A missing Chromium
 * fails loudly: nothing here is ever skipped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/emulators';
import { CORPUS_ROOT } from '../corpus';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CORPUS = join(CORPUS_ROOT, 'pydicom/test_files');
export const SCREENSHOTS = join(ROOT, 'test-output/screenshots');
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface LocalMode {
  portalUrl: string;
  apiUrl: string;
  adminToken: string;
  s3Endpoint?: string;
  bucketName?: string;
  dataDir: string;
  output: () => string;
  stop: () => Promise<void>;
}

/**
 * Starts local mode on a free port with its own data folder, and waits for its three lines. With
 * `dataDir` it uses (and keeps) that folder, so a later start finds the same data.
 */
export async function startLocalMode(env: Record<string, string> = {}, options: { dataDir?: string } = {}): Promise<LocalMode> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'portal-e2e-'));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so stop() ends tsx, node and the JVM it started
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const stop = async () => {
    if (child.exitCode !== null || child.pid === undefined) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    process.kill(-child.pid, 'SIGTERM');
    const timer = setTimeout(() => child.exitCode === null && process.kill(-child.pid!, 'SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
    if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 110_000;
  for (;;) {
    const portal = /^Portal: (\S+)$/m.exec(output)?.[1];
    const api = /^API: (\S+)$/m.exec(output)?.[1];
    const code = /^Upload code: (\S+)$/m.exec(output)?.[1];
    if (portal && api && code && existsSync(join(dataDir, 'local.json'))) {
      const local = JSON.parse(readFileSync(join(dataDir, 'local.json'), 'utf8')) as { adminToken: string; s3Endpoint?: string; bucketName?: string };
      return { portalUrl: portal, apiUrl: api, adminToken: local.adminToken, s3Endpoint: local.s3Endpoint, bucketName: local.bucketName, dataDir, output: () => output, stop };
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`local mode did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A fresh upload code from the admin route (each test gets its own session). */
export async function issueCode(mode: LocalMode, body: { maxSessionBytes?: number; reference?: string } = {}): Promise<string> {
  const response = await fetch(`${mode.apiUrl}/admin/upload-codes`, {
    method: 'POST',
    headers: { authorization: `Bearer ${mode.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`issuing a code failed: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { code: string }).code;
}

export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does this)`);
  return chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...extraArgs] });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Runs axe-core on the page; returns the serious and critical violations (ids and targets). */
export async function axeProblems(page: Page): Promise<string[]> {
  // Once per document, evaluated through the DevTools protocol, which the portal's CSP (no inline script) does not govern.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(readFileSync(join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8'));
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => n.target.join(' ')) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.targets.join(', ')}`);
}

/** Reads an accepted session's manifest straight from the emulated bucket. */
export async function readManifest(mode: LocalMode, sessionId: string): Promise<any> {
  if (!mode.s3Endpoint || !mode.bucketName) throw new Error('local.json does not name the S3 endpoint and bucket');
  const s3 = new S3Client({ endpoint: mode.s3Endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: mode.bucketName, Key: `sessions/${sessionId}/manifest.json` }));
    return JSON.parse(await object.Body!.transformToString());
  } finally {
    s3.destroy();
  }
}

/** The widths the portal is held to: no sideways scrolling at any of them. */
export const NARROW_WIDTHS = [320, 390, 768] as const;

/** How far the page scrolls sideways at `width` (0 when it fits); the viewport is restored after. */
export async function sidewaysOverflow(page: Page, width: number): Promise<number> {
  const before = page.viewportSize()!;
  await page.setViewportSize({ width, height: before.height });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  await page.setViewportSize(before);
  return overflow;
}
