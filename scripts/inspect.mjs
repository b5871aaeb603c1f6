// `npm run inspect`: runs the CLI as one bundled ES module (scripts/inspect/main.ts, built by esbuild into .build/),
// so no TypeScript is compiled at run time. The bundle is rebuilt when it is missing or older than any of its sources.
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'scripts/inspect/main.ts');
const bundle = join(root, '.build/inspect.mjs');
const inputsFile = join(root, '.build/inspect.inputs.json');

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

function isStale() {
  const built = mtime(bundle);
  if (built === undefined || mtime(inputsFile) === undefined) return true;
  const inputs = JSON.parse(readFileSync(inputsFile, 'utf8'));
  return inputs.some((input) => !(mtime(join(root, input)) <= built));
}

if (isStale()) {
  const { build } = await import('esbuild');
  mkdirSync(dirname(bundle), { recursive: true });
  const result = await build({
    entryPoints: [entry],
    outfile: bundle,
    write: false,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    absWorkingDir: root,
    metafile: true,
    logLevel: 'warning',
  });
  // Written aside and renamed, so a run started meanwhile never imports half a bundle.
  const aside = `${bundle}.${process.pid}`;
  writeFileSync(aside, result.outputFiles[0].contents);
  renameSync(aside, bundle);
  writeFileSync(inputsFile, JSON.stringify(Object.keys(result.metafile.inputs)));
}
await import(pathToFileURL(bundle).href);
