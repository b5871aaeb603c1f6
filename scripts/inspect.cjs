// `npm run inspect`: runs the CLI as one bundled CommonJS file (scripts/inspect/main.ts, built by esbuild into
// .build/), so no TypeScript is compiled at run time. CommonJS, here and in the bundle, because Node starts it about
// 20 ms sooner than an ES module: its module loader is never set up. The bundle is rebuilt when it is missing or
// older than any of its sources.
const { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } = require('node:fs');
const { dirname, join } = require('node:path');

const root = join(__dirname, '..');
const entry = join(root, 'scripts/inspect/main.ts');
const bundle = join(root, '.build/inspect.cjs');
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

/** The DICOM reader's `fflate` import goes to lazy-fflate.ts, which loads fflate only for a deflated file. */
const lazyFflate = {
  name: 'lazy-fflate',
  setup(build) {
    const shim = join(root, 'scripts/inspect/lazy-fflate.ts');
    build.onResolve({ filter: /^fflate$/ }, (args) => (args.importer === shim ? undefined : { path: shim }));
  },
};

async function rebuild() {
  const { build } = require('esbuild');
  mkdirSync(dirname(bundle), { recursive: true });
  const result = await build({
    entryPoints: [entry],
    outfile: bundle,
    write: false,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    absWorkingDir: root,
    metafile: true,
    logLevel: 'warning',
    // main.ts names its own module (the worker threads run it) by import.meta.url, which CommonJS lacks.
    banner: { js: 'const __inspectModuleUrl = require("node:url").pathToFileURL(__filename).href;' },
    define: { 'import.meta.url': '__inspectModuleUrl' },
    plugins: [lazyFflate],
    // Loaded from node_modules on the first deflated file: bundled, its 80 KB were compiled at every start-up.
    external: ['fflate'],
  });
  // Written aside and renamed, so a run started meanwhile never loads half a bundle.
  const aside = `${bundle}.${process.pid}`;
  writeFileSync(aside, result.outputFiles[0].contents);
  renameSync(aside, bundle);
  writeFileSync(inputsFile, JSON.stringify(Object.keys(result.metafile.inputs)));
}

if (isStale()) {
  rebuild().then(() => require(bundle));
} else {
  require(bundle);
}
