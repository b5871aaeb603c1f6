/**
 * `npm run bench:bundles`: each Lambda's bundle (the esbuild settings the CDK stack uses: ESM,
 * node22, minified, SDK clients bundled) — its size against the 1.5 MB target, and its cold
 * import time in a fresh Node process, next to baselines measured in the same run: an empty
 * module and @aws-sdk/client-s3 alone, bundled the same way. Then the portal's bundles (gzip), the
 * working tree's next to the baseline ref's (BASELINE_REF, default main), built in the same run.
 */
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { apiRoutes, workerEntries } from '../lambdas/runtime/routes';
import { BUNDLE_SETTINGS, ENTRIES_DIR, PROJECT_ROOT } from '../lib/app-function';
import { PORTAL_BUNDLE_LIMITS, buildPortal, printPortalBundles } from './portal-builds';

const TARGET_BYTES = 1.5 * 1024 * 1024;
const RUNS = Number(process.env.BENCH_RUNS ?? 7);

const work = mkdtempSync(path.join(tmpdir(), 'upload-portal-bundles-'));

/** Bundles an entry file, or inline source resolved from the project root (the baselines). */
/** Bytes in each bundle's output by npm package (or `app` for our code), from esbuild's metafile. */
const composition = new Map<string, Map<string, number>>();

async function bundle(name: string, entry: string | { contents: string }): Promise<string> {
  const outdir = path.join(work, name);
  mkdirSync(outdir, { recursive: true });
  const outfile = path.join(outdir, 'index.mjs');
  const result = await build({
    metafile: true,
    ...(typeof entry === 'string'
      ? { entryPoints: [entry] }
      : { stdin: { contents: entry.contents, resolveDir: PROJECT_ROOT, loader: 'ts' as const, sourcefile: `${name}.ts` } }),
    outfile,
    bundle: true,
    platform: 'node',
    format: BUNDLE_SETTINGS.format,
    target: BUNDLE_SETTINGS.target,
    mainFields: [...BUNDLE_SETTINGS.mainFields],
    banner: { js: BUNDLE_SETTINGS.banner },
    minify: BUNDLE_SETTINGS.minify,
    sourcemap: BUNDLE_SETTINGS.sourceMap,
    sourcesContent: false,
    tsconfig: path.join(PROJECT_ROOT, 'tsconfig.json'),
    logLevel: 'error',
  });
  const byPackage = new Map<string, number>();
  for (const output of Object.values(result.metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
      const key = match ? match[1]! : 'app';
      byPackage.set(key, (byPackage.get(key) ?? 0) + bytesInOutput);
    }
  }
  composition.set(name, byPackage);
  return outfile;
}

/** Wall time (ms) of `await import(bundle)` in a fresh Node process: what a Lambda cold start pays to load the code. */
function coldImportOnce(file: string): number {
  const env = {
    PATH: process.env.PATH,
    AWS_REGION: 'eu-west-1',
    TABLE_NAME: 'bench',
    BUCKET_NAME: 'bench',
    INSTITUTION_CONFIG: '{}',
  };
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(String(performance.now() - t));`;
  return Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8' }));
}

/**
 * Min and median over RUNS rounds; each round measures every bundle once, so load on a shared
 * machine hits all alike. The minimum is the least noisy estimate of the intrinsic cost.
 */
function coldImportTimes(files: string[]): { min: number; median: number }[] {
  const samples: number[][] = files.map(() => []);
  for (let round = 0; round < RUNS; round++) files.forEach((file, i) => samples[i]!.push(coldImportOnce(file)));
  return samples.map((times) => {
    times.sort((a, b) => a - b);
    return { min: times[0]!, median: times[Math.floor(times.length / 2)]! };
  });
}

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(0)} KB`;
}

async function main(): Promise<void> {
  const empty = { contents: 'export const handler = async () => undefined;' };
  const s3Only = {
    contents: "import { S3Client, GetObjectCommand } from '@aws-sdk/client-s3';\nexport const handler = async () => new S3Client({}).send(new GetObjectCommand({ Bucket: 'b', Key: 'k' }));",
  };

  const baselines = [
    { name: 'baseline: empty module', file: await bundle('empty', empty) },
    { name: 'baseline: @aws-sdk/client-s3 alone', file: await bundle('s3-only', s3Only) },
  ];
  const lambdas = [
    ...apiRoutes.map((route) => ({ name: route.id, entry: route.entry })),
    { name: 'Inspector', entry: workerEntries.inspector },
    { name: 'Sweeper', entry: workerEntries.sweeper },
  ];
  const functions = [];
  for (const fn of lambdas) functions.push({ name: fn.name, file: await bundle(fn.name, path.join(ENTRIES_DIR, fn.entry)) });

  const all = [...baselines, ...functions];
  const times = coldImportTimes(all.map((b) => b.file));
  const measured = all.map((b, i) => ({ ...b, bytes: statSync(b.file).size, ms: times[i]!.min, median: times[i]!.median }));
  const s3Baseline = measured[1]!;
  const emptyBaseline = measured[0]!;

  console.log(`Lambda bundles (esbuild ${BUNDLE_SETTINGS.format}, ${BUNDLE_SETTINGS.target}, minified, SDK bundled); cold import = fastest (median) of ${RUNS} fresh Node ${process.version} processes`);
  console.log('');
  console.log(`${'bundle'.padEnd(38)} ${'size'.padStart(9)} ${'of 1.5 MB'.padStart(10)} ${'cold import'.padStart(22)} ${'× S3 alone'.padStart(11)}`);
  for (const m of measured) {
    console.log(
      `${m.name.padEnd(38)} ${kb(m.bytes).padStart(9)} ${`${((m.bytes / TARGET_BYTES) * 100).toFixed(0)}%`.padStart(10)} ${`${m.ms.toFixed(1)} ms (${m.median.toFixed(1)})`.padStart(22)} ${(m.ms / s3Baseline.ms).toFixed(2).padStart(11)}`,
    );
  }
  console.log('');
  const largestBundle = measured.slice(2).reduce((a, b) => (b.bytes > a.bytes ? b : a));
  const parts = [...(composition.get(largestBundle.name) ?? new Map<string, number>())].sort((a, b) => b[1] - a[1]).slice(0, 8);
  console.log(`${largestBundle.name} by package: ${parts.map(([pkg, bytes]) => `${pkg} ${kb(bytes)}`).join(', ')}`);
  const over = measured.slice(2).filter((m) => m.bytes > TARGET_BYTES);
  const largest = measured.slice(2).reduce((a, b) => (b.bytes > a.bytes ? b : a));
  console.log('');
  console.log(`largest Lambda bundle: ${largest.name} ${kb(largest.bytes)} (${((largest.bytes / TARGET_BYTES) * 100).toFixed(0)}% of the 1.5 MB target); empty-module import ${emptyBaseline.ms.toFixed(1)} ms`);
  console.log(over.length === 0 ? 'every Lambda bundle is within the 1.5 MB target' : `OVER TARGET: ${over.map((m) => m.name).join(', ')}`);
  rmSync(work, { recursive: true, force: true });
  const baselineRef = process.env.BASELINE_REF ?? 'main';
  const portals = [await buildPortal(`baseline (${baselineRef})`, baselineRef), await buildPortal('this tree')];
  const portalOver = printPortalBundles(portals, PORTAL_BUNDLE_LIMITS);
  for (const portal of portals) rmSync(path.dirname(path.dirname(portal.dist)), { recursive: true, force: true });
  if (portalOver.length > 0) console.log(`PORTAL OVER LIMIT: ${portalOver.join('; ')}`);
  if (over.length > 0 || portalOver.length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  rmSync(work, { recursive: true, force: true });
  process.exit(1);
});
