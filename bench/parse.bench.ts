/**
 * `npm run bench:parse`: header reading speed on the DICOM files of the pydicom corpus, in one run on the same
 * files. Median over files of each file's median µs per read, for:
 *   ours          readDicomHeader on the first 64 KiB (what the inspector fetches), fields decoded;
 *   dicom-parser  parseDicom on the whole file, the same fields read with .string()/.uint16();
 *   pydicom       dcmread(stop_before_pixels=True, force=True) from memory, the same fields read
 *                 (when /usr/bin/python3 can import pydicom; `apt-get install -y python3-pydicom`).
 * Targets: ours ≤ 1.5× dicom-parser, and ≥ 5× faster than pydicom.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import dicomParser from 'dicom-parser';
import { readDicomHeader } from '../lambdas/core/dicom';
import { CORPUS_ROOT } from '../test/corpus';

const CORPUS = CORPUS_ROOT;
const PREFIX = 64 * 1024;
const ROUNDS = 15;
/** Each timed batch runs at least this long, so timer resolution does not matter. */
const MIN_BATCH_MS = 2;

const FIELD_TAGS = ['x00020010', 'x00080016', 'x00080018', 'x0020000d', 'x0020000e', 'x00080060', 'x00100020', 'x00100010', 'x00100030', 'x00080020', 'x00080050', 'x00081030', 'x00080005', 'x00280008'];

const oracle: Array<{ file: string; kind: string }> = JSON.parse(readFileSync(join(CORPUS, 'pydicom-oracle.json'), 'utf8'));
const files = oracle
  .filter((entry) => entry.kind === 'dicom-part10' || entry.kind === 'dicom-no-preamble')
  .map((entry) => {
    const bytes = new Uint8Array(readFileSync(join(CORPUS, 'pydicom', entry.file)));
    return { file: entry.file, bytes, prefix: bytes.subarray(0, Math.min(PREFIX, bytes.length)) };
  });

let sink = 0;
let dicomParserFailures = 0;

function ours(f: (typeof files)[number]): void {
  const result = readDicomHeader(f.prefix, f.bytes.length);
  if (result.status === 'complete') sink += result.headerBytes + (result.fields.patientName?.length ?? 0);
}

function withDicomParser(f: (typeof files)[number]): boolean {
  try {
    const dataSet = dicomParser.parseDicom(f.bytes);
    for (const tag of FIELD_TAGS) sink += dataSet.string(tag)?.length ?? 0;
    sink += (dataSet.uint16('x00280010') ?? 0) + (dataSet.uint16('x00280011') ?? 0);
    return true;
  } catch {
    return false;
  }
}

/** µs per call of `run` on one file: a batch long enough to time, repeated; the median batch wins. */
function microsPerCall(run: () => unknown, calls: number): number {
  const started = performance.now();
  for (let i = 0; i < calls; i++) run();
  return ((performance.now() - started) * 1000) / calls;
}

function callsFor(run: () => unknown): number {
  let calls = 1;
  for (;;) {
    const started = performance.now();
    for (let i = 0; i < calls; i++) run();
    if (performance.now() - started >= MIN_BATCH_MS || calls >= 1 << 16) return calls;
    calls *= 2;
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function benchNode(): { ours: number; dicomParser: number } {
  for (const f of files) if (!withDicomParser(f)) dicomParserFailures++;
  const perFile = files.map((f) => ({
    f,
    oursCalls: callsFor(() => ours(f)),
    dpCalls: callsFor(() => withDicomParser(f)),
    ours: [] as number[],
    dp: [] as number[],
  }));
  // Interleaved rounds: both readers see the same JIT and machine state.
  for (let round = 0; round < ROUNDS; round++) {
    for (const p of perFile) {
      p.ours.push(microsPerCall(() => ours(p.f), p.oursCalls));
      p.dp.push(microsPerCall(() => withDicomParser(p.f), p.dpCalls));
    }
  }
  return { ours: median(perFile.map((p) => median(p.ours))), dicomParser: median(perFile.map((p) => median(p.dp))) };
}

const PYDICOM_BENCH = `
import json, sys, time, io, statistics, warnings
warnings.simplefilter("ignore")
import pydicom
from pydicom import config
config.settings.reading_validation_mode = config.IGNORE
paths = json.load(sys.stdin)
rounds, min_batch = ${ROUNDS}, ${MIN_BATCH_MS} / 1000
names = ["TransferSyntaxUID", "SOPClassUID", "SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID", "Modality",
         "PatientID", "PatientName", "PatientBirthDate", "StudyDate", "AccessionNumber", "StudyDescription",
         "SpecificCharacterSet", "NumberOfFrames", "Rows", "Columns"]
def read(data):
    ds = pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True, force=True)
    return [str(ds.get(n, "")) for n in names[1:]] + [str(ds.file_meta.get("TransferSyntaxUID", "")) if hasattr(ds, "file_meta") else ""]
per_file, failures = [], 0
for p in paths:
    data = open(p, "rb").read()
    try:
        read(data)
    except Exception:
        failures += 1
        continue
    calls = 1
    while True:
        t = time.perf_counter()
        for _ in range(calls): read(data)
        if time.perf_counter() - t >= min_batch or calls >= 4096: break
        calls *= 2
    samples = []
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(calls): read(data)
        samples.append((time.perf_counter() - t) * 1e6 / calls)
    per_file.append(statistics.median(samples))
print(json.dumps({"median": statistics.median(per_file), "version": pydicom.__version__, "failures": failures}))
`;

function benchPydicom(): { median: number; version: string; failures: number } | string {
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import pydicom'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return 'not available: apt-get install -y python3-pydicom (for /usr/bin/python3)';
  const run = spawnSync('/usr/bin/python3', ['-c', PYDICOM_BENCH], {
    input: JSON.stringify(files.map((f) => join(CORPUS, 'pydicom', f.file))),
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (run.status !== 0) return `failed: ${run.stderr.trim().split('\n').pop()}`;
  return JSON.parse(run.stdout);
}

const node = benchNode();
const pydicom = benchPydicom();
const fmt = (us: number) => `${us.toFixed(1).padStart(8)} µs`;
console.log(`bench:parse: ${files.length} DICOM files of the pydicom corpus; median over files of each file's median µs per read (${ROUNDS} rounds)`);
console.log(`  ours          readDicomHeader(first 64 KiB)      ${fmt(node.ours)}`);
console.log(`  dicom-parser  parseDicom(whole file)             ${fmt(node.dicomParser)}   (threw on ${dicomParserFailures} of ${files.length} files)`);
if (typeof pydicom === 'string') console.log(`  pydicom       ${pydicom}`);
else console.log(`  pydicom       dcmread(stop_before_pixels=True)   ${fmt(pydicom.median)}   (pydicom ${pydicom.version}, failed on ${pydicom.failures})`);
const vsDicomParser = node.ours / node.dicomParser;
console.log(`  ratio ours / dicom-parser = ${vsDicomParser.toFixed(2)} (target ≤ 1.5) ${vsDicomParser <= 1.5 ? 'OK' : 'MISSED'}`);
if (typeof pydicom !== 'string') {
  const speedup = pydicom.median / node.ours;
  console.log(`  ratio pydicom / ours = ${speedup.toFixed(1)}× faster (target ≥ 5×) ${speedup >= 5 ? 'OK' : 'MISSED'}`);
}
if (sink === -1) console.log('');
