/**
 * Builds the portal of a git ref (e.g. `main`, the baseline) or of the working tree into a temporary
 * folder with its own Vite config, and measures the bundles a browser downloads (gzip, as served).
 * The benches compare the two in the same run, on the same machine.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ROOT } from '../test/e2e/local-mode';

export interface PortalBuild {
  label: string;
  dist: string;
  /** Gzip bytes of the page's entry script, the header worker and the style sheet. */
  mainGzip: number;
  workerGzip: number;
  cssGzip: number;
}

/** `ref` undefined: the working tree. The copy holds web/ and lambdas/core/, all the portal imports. */
export async function buildPortal(label: string, ref?: string): Promise<PortalBuild> {
  const dir = mkdtempSync(join(tmpdir(), 'portal-build-'));
  if (ref) {
    const archive = execFileSync('git', ['archive', ref, 'web', 'lambdas/core', 'package.json', 'tsconfig.json'], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
    execFileSync('tar', ['-x', '-C', dir], { input: archive });
  } else {
    for (const part of ['web', 'lambdas/core', 'package.json', 'tsconfig.json']) {
      cpSync(join(ROOT, part), join(dir, part), { recursive: true, filter: (src) => !/[/\\](dist|\.dist-[^/\\]*)$/.test(src) });
    }
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  const { build } = await import('vite');
  const web = join(dir, 'web');
  const dist = join(web, 'dist');
  await build({ configFile: join(web, 'vite.config.ts'), root: web, logLevel: 'error', build: { outDir: dist, emptyOutDir: true } });
  const assets = readdirSync(join(dist, 'assets'));
  const gz = (pattern: RegExp) => {
    const name = assets.find((file) => pattern.test(file) && !file.endsWith('.map'));
    if (!name) throw new Error(`${label}: no asset matching ${pattern} in ${assets.join(', ')}`);
    return gzipSync(readFileSync(join(dist, 'assets', name)), { level: 9 }).length;
  };
  return { label, dist, mainGzip: gz(/^index-.*\.js$/), workerGzip: gz(/^header-worker-.*\.js$/), cssGzip: gz(/^index-.*\.css$/) };
}

export function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KB`;
}

/** The portal bundle table: each build's sizes, and the current build's against its limits. */
export function printPortalBundles(builds: PortalBuild[], limits: { mainGzip: number; workerGzip: number }): string[] {
  const failures: string[] = [];
  console.log(`\nPortal bundles (Vite production build, gzip -9)`);
  console.log(['build', 'main script', 'header worker', 'styles'].join(' | '));
  for (const b of builds) console.log([b.label, kib(b.mainGzip), kib(b.workerGzip), kib(b.cssGzip)].join(' | '));
  const current = builds[builds.length - 1]!;
  console.log(`limits: main script ≤ ${kib(limits.mainGzip)}, header worker ≤ ${kib(limits.workerGzip)}`);
  if (current.mainGzip > limits.mainGzip) failures.push(`main script ${kib(current.mainGzip)} > ${kib(limits.mainGzip)}`);
  if (current.workerGzip > limits.workerGzip) failures.push(`header worker ${kib(current.workerGzip)} > ${kib(limits.workerGzip)}`);
  return failures;
}

/** The acceptance limits of the portal's bundles (gzip bytes). */
export const PORTAL_BUNDLE_LIMITS = { mainGzip: 40 * 1024, workerGzip: 12 * 1024 };
