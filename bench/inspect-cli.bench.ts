/**
 * `npm run bench:inspect-cli`: the hospital's pre-check over a folder of 20,000 small synthetic DICOM files, as whole
 * processes started the way a person starts them, in one run on the same files:
 *   ours      `npm run inspect -- <folder>` (and the bundled entry under plain `node`, without npm's own start-up);
 *   pydicom   a Python process that walks the same folder in the same order and prints the same fields as JSON lines,
 *             from dcmread(path, stop_before_pixels=True) (`apt-get install -y python3-pydicom`, for /usr/bin/python3).
 * Each is run ROUNDS times, alternating; the median wall and CPU times are printed, with the load average before and
 * after (the machine may be shared). Target: ours ≥ 10× faster than pydicom.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { workersFor } from '../scripts/inspect/worker-pool';
import { ensureSyntheticDataset } from './synthetic-dicom';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FILES = Number(process.env.BENCH_FILES ?? 20_000);
/** Seven, not five: on this 2-core VM a single run of ours (about 1 s) moves by up to 40%, npm's start-up alone by 0.28–0.6 s. */
const ROUNDS = 7;
const DIR = join(ROOT, '.bench-cache', `inspect-cli-${FILES}`);

const PYDICOM_CLI = `
import json, os, sys, warnings
warnings.simplefilter("ignore")
import pydicom
names = [("sopClassUid", "SOPClassUID"), ("sopInstanceUid", "SOPInstanceUID"), ("studyInstanceUid", "StudyInstanceUID"),
         ("seriesInstanceUid", "SeriesInstanceUID"), ("modality", "Modality"), ("patientId", "PatientID"),
         ("patientName", "PatientName"), ("patientBirthDate", "PatientBirthDate"), ("studyDate", "StudyDate"),
         ("accessionNumber", "AccessionNumber"), ("studyDescription", "StudyDescription"),
         ("numberOfFrames", "NumberOfFrames"), ("rows", "Rows"), ("columns", "Columns")]
def files(path):
    if not os.path.isdir(path):
        yield path
        return
    for name in sorted(os.listdir(path)):
        yield from files(os.path.join(path, name))
out = sys.stdout
for path in files(sys.argv[1]):
    line = {"file": path}
    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        line["transferSyntaxUid"] = str(ds.file_meta.get("TransferSyntaxUID", "")) or None
        for key, keyword in names:
            value = ds.get(keyword)
            line[key] = None if value is None else (value if isinstance(value, int) else str(value))
        line["error"] = None
    except Exception as error:
        line["error"] = str(error)
    out.write(json.dumps(line) + "\\n")
`;

interface Run {
  seconds: number;
  /** User + system CPU seconds of the process and its children (threads included). */
  cpu: number;
  lines: number;
  errors: number;
  first: Record<string, unknown>;
}

/** Runs a command under bash's `time`, which reports wall, user and system seconds of the whole process tree. */
function timed(command: string, args: string[]): Run {
  const script = 'TIMEFORMAT="%3R %3U %3S"; time "$@" 2>/dev/null';
  const run = spawnSync('bash', ['-c', script, 'bench', command, ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 256 << 20 });
  if (run.error) throw run.error;
  const [seconds, user, system] = run.stderr.trim().split('\n').pop()!.split(' ').map(Number) as [number, number, number];
  // Exit code 1 is the CLI's "some file had an error" (the dataset's index.json is not DICOM).
  if (run.status !== 0 && run.status !== 1) throw new Error(`${command} exited ${run.status}: ${run.stderr.slice(0, 500)}`);
  const lines = run.stdout.trimEnd().split('\n');
  const errors = lines.filter((line) => !line.includes('"error": null') && !line.includes('"error":null')).length;
  return { seconds, cpu: user + system, lines: lines.length, errors, first: JSON.parse(lines[0]!) as Record<string, unknown> };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

ensureSyntheticDataset(DIR, { files: FILES, studies: 20, rows: 16, columns: 16 }, (line) => console.log(line));
const target = DIR;
const hasPydicom = spawnSync('/usr/bin/python3', ['-c', 'import pydicom'], { encoding: 'utf8' }).status === 0;
/** package.json's `inspect` line, run without npm: `node <flags> scripts/inspect.cjs`. */
const [, ...nodeArgs] = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.inspect!.split(' ');
// Build the bundle outside the timed runs (what a second `npm run inspect` finds).
timed('node', [...nodeArgs, join(ROOT, 'test/corpus/pydicom/test_files/CT_small.dcm')]);

const loadBefore = loadavg();
const workersBefore = workersFor();
const results: Record<'npm' | 'node' | 'pydicom', Run[]> = { npm: [], node: [], pydicom: [] };
for (let round = 0; round < ROUNDS; round++) {
  results.npm.push(timed('npm', ['run', '-s', 'inspect', '--', target]));
  results.node.push(timed('node', [...nodeArgs, target]));
  if (hasPydicom) results.pydicom.push(timed('/usr/bin/python3', ['-c', PYDICOM_CLI, target]));
}

const fmt = (runs: Run[]) => {
  const walls = runs.map((r) => r.seconds);
  const range = `${Math.min(...walls).toFixed(2)}–${Math.max(...walls).toFixed(2)}`;
  return `${median(walls).toFixed(2).padStart(6)} s (CPU ${median(runs.map((r) => r.cpu)).toFixed(2)} s, runs ${range} s)`;
};
const describe = (runs: Run[]) => `${runs[0]!.lines} lines, ${runs[0]!.errors} with an error`;
const loadAfter = loadavg();
const load = (l: number[]) => l.map((n) => n.toFixed(2)).join(' ');
console.log(`bench:inspect-cli: ${FILES} synthetic DICOM files of ${statSync(join(DIR, '00000.dcm')).size} bytes, whole processes, median of ${ROUNDS}`);
console.log(`  machine: ${availableParallelism()} cores, load average ${load(loadBefore)} before, ${load(loadAfter)} after; the CLI starts ${workersBefore} worker thread(s) at the first load, ${workersFor()} at the last`);
console.log(`  ours     npm run inspect              ${fmt(results.npm)}   (${describe(results.npm)})`);
console.log(`  ours     node ${nodeArgs.join(' ').padEnd(23)} ${fmt(results.node)}   (npm's own start-up left out)`);
if (!hasPydicom) {
  console.log('  pydicom  not available: apt-get install -y python3-pydicom (for /usr/bin/python3)');
} else {
  console.log(`  pydicom  dcmread(stop_before_pixels)  ${fmt(results.pydicom)}   (${describe(results.pydicom)})`);
  const ours = results.npm[0]!.first;
  const theirs = results.pydicom[0]!.first;
  const differing = Object.keys(theirs).filter((key) => key !== 'file' && key !== 'error' && ours[key] !== theirs[key]);
  console.log(`  same fields on the first file: ${differing.length === 0 ? 'yes' : `NO (${differing.join(', ')})`}`);
  const speedup = median(results.pydicom.map((r) => r.seconds)) / median(results.npm.map((r) => r.seconds));
  console.log(`  ratio pydicom / npm run inspect = ${speedup.toFixed(1)}× faster (target ≥ 10×) ${speedup >= 10 ? 'OK' : 'MISSED'}`);
  const cpuSpeedup = median(results.pydicom.map((r) => r.cpu)) / median(results.npm.map((r) => r.cpu));
  console.log(`  ratio of CPU time = ${cpuSpeedup.toFixed(1)}× (the figure that holds on a machine shared with other work)`);
}
