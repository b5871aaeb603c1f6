/**
 * `npm run inspect` as a contract: run as a child process (the entry package.json runs, which bundles on first use)
 * on the real corpus and on synthetic files, one JSON line per file with exactly DESIGN.md's fields, reading only the
 * header. Its output over the corpus is byte-identical to the CLI's output before it read in parallel
 * (test/fixtures/inspect-corpus.jsonl, written by the sequential reader in 4 KiB steps).
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { explicit, part10, us } from './dicom-fixtures';
import { CORPUS_ROOT } from '../corpus';

const PROJECT = fileURLToPath(new URL('../../', import.meta.url));
const CORPUS = CORPUS_ROOT;
const FIELDS = [
  'file', 'isDicom', 'kind', 'transferSyntaxUid', 'sopClassUid', 'sopInstanceUid', 'studyInstanceUid',
  'seriesInstanceUid', 'modality', 'patientId', 'patientName', 'patientBirthDate', 'studyDate', 'accessionNumber',
  'studyDescription', 'numberOfFrames', 'rows', 'columns', 'headerBytes', 'error',
];
const ORACLE_KEYWORDS: Record<string, string> = {
  transferSyntaxUid: 'TransferSyntaxUID', sopClassUid: 'SOPClassUID', sopInstanceUid: 'SOPInstanceUID',
  studyInstanceUid: 'StudyInstanceUID', seriesInstanceUid: 'SeriesInstanceUID', modality: 'Modality',
  patientId: 'PatientID', patientName: 'PatientName', patientBirthDate: 'PatientBirthDate', studyDate: 'StudyDate',
  accessionNumber: 'AccessionNumber', studyDescription: 'StudyDescription', numberOfFrames: 'NumberOfFrames',
  rows: 'Rows', columns: 'Columns',
};

type Line = Record<string, unknown> & { file: string; headerBytes: number; error: string | null };

/** Runs the CLI as `npm run inspect` does (package.json's script, without npm's own start-up). */
async function runCli(...paths: string[]): Promise<{ stdout: string; exitCode: number }> {
  const script = (JSON.parse(readFileSync(join(PROJECT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.inspect!;
  const [command, ...args] = script.split(' ');
  expect(command).toBe('node');
  return promisify(execFile)(process.execPath, [...args, ...paths], { cwd: PROJECT, maxBuffer: 16 << 20 }).then(
    (out) => ({ stdout: out.stdout, exitCode: 0 }),
    (error: { stdout: string; code: number }) => ({ stdout: error.stdout, exitCode: error.code }),
  );
}

async function inspect(...paths: string[]): Promise<{ lines: Line[]; exitCode: number }> {
  const { stdout, exitCode } = await runCli(...paths);
  return { lines: stdout.trim().split('\n').map((text) => JSON.parse(text) as Line), exitCode };
}

function countFiles(dir: string): number {
  return readdirSync(dir).reduce((n, name) => n + (statSync(join(dir, name)).isDirectory() ? countFiles(join(dir, name)) : 1), 0);
}

const scratch = mkdtempSync(join(tmpdir(), 'inspect-cli-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('npm run inspect', () => {
  it('prints one line per corpus file, recursing folders, matching the pydicom oracle', async () => {
    const root = join(CORPUS, 'pydicom');
    const oracle: Array<{ file: string; size: number; kind: string; attributes: Record<string, unknown>; disagreements: Record<string, Record<string, unknown>> }> =
      JSON.parse(readFileSync(join(CORPUS, 'pydicom-oracle.json'), 'utf8'));
    const byFile = new Map(oracle.map((entry) => [entry.file, entry]));
    const { lines, exitCode } = await inspect(root);
    expect(lines).toHaveLength(countFiles(root));
    expect(exitCode).toBe(1); // the corpus holds non-DICOM files, which are errors for an upload check
    for (const line of lines) {
      expect(Object.keys(line)).toEqual(FIELDS);
      const entry = byFile.get(relative(root, line.file))!;
      expect(entry, line.file).toBeDefined();
      expect(line.headerBytes).toBeLessThanOrEqual(entry.size);
      if (entry.kind.startsWith('dicom')) {
        // MR_truncated.dcm is a partial copy: its header is whole, its Pixel Data is not.
        const error = entry.file === 'test_files/MR_truncated.dcm' ? 'TRUNCATED: the file ends inside its Pixel Data' : null;
        expect(line).toMatchObject({ isDicom: true, kind: 'dicom', error });
        for (const [field, keyword] of Object.entries(ORACLE_KEYWORDS)) {
          const accepted = [entry.attributes[keyword], ...Object.values(entry.disagreements[keyword] ?? {})];
          expect(accepted, `${entry.file} ${field}`).toContainEqual(line[field]);
        }
      } else {
        expect(line.isDicom).toBe(false);
        expect(line.error).toMatch(/^NOT_DICOM: /);
      }
    }
  });

  it('reads a few KiB of a 50 MB image, and reports garbage, empty and missing files without crashing', async () => {
    const header = part10([
      ...explicit(0x00100010, 'PN', 'Large^Image'), // PatientName
      ...explicit(0x0020000d, 'UI', '2.25.42'), // StudyInstanceUID
      ...explicit(0x00280010, 'US', us(5000)), // Rows
      ...explicit(0x00280011, 'US', us(5000)), // Columns
      ...explicit(0x7fe00010, 'OW', [], { length: 50_000_000 }), // PixelData header; 50 MB of zeros follow
    ]);
    const big = join(scratch, 'large.dcm');
    writeFileSync(big, header);
    truncateSync(big, header.length + 50_000_000);
    writeFileSync(join(scratch, 'garbage.bin'), Uint8Array.from({ length: 5000 }, (_, i) => (i * 31 + 7) & 0xff));
    writeFileSync(join(scratch, 'empty.dcm'), new Uint8Array(0));
    writeFileSync(join(scratch, 'report.pdf'), '%PDF-1.7\n1 0 obj\n<<>>\nendobj\n');
    writeFileSync(join(scratch, 'cut.dcm'), header.subarray(0, 200));

    const { lines, exitCode } = await inspect(scratch, join(scratch, 'missing.dcm'));
    const byName = new Map(lines.map((line) => [relative(scratch, line.file), line]));
    expect([...byName.keys()].sort()).toEqual(['cut.dcm', 'empty.dcm', 'garbage.bin', 'large.dcm', 'missing.dcm', 'report.pdf']);
    expect(byName.get('large.dcm')).toMatchObject({ isDicom: true, patientName: 'Large^Image', rows: 5000, error: null });
    expect(byName.get('large.dcm')!.headerBytes).toBeLessThanOrEqual(8192);
    expect(statSync(big).size).toBe(header.length + 50_000_000);
    expect(byName.get('garbage.bin')).toMatchObject({ isDicom: false, kind: 'other', error: expect.stringMatching(/^NOT_DICOM/) });
    expect(byName.get('empty.dcm')).toMatchObject({ isDicom: false, error: expect.stringMatching(/^NOT_DICOM/) });
    expect(byName.get('cut.dcm')).toMatchObject({ isDicom: false, kind: 'dicom', error: expect.stringMatching(/^TRUNCATED/) });
    expect(byName.get('missing.dcm')).toMatchObject({ isDicom: false, error: 'UNREADABLE: ENOENT' });
    expect(byName.get('report.pdf')).toMatchObject({ isDicom: false, kind: 'pdf', error: null });
    for (const line of lines) expect(Object.keys(line)).toEqual(FIELDS);
    expect(exitCode).toBe(1);
  });

  it('prints over the corpus exactly what the sequential reader printed, byte for byte', async () => {
    const { stdout, exitCode } = await runCli('test/corpus/pydicom');
    expect(exitCode).toBe(1);
    expect(stdout).toBe(readFileSync(join(PROJECT, 'test/fixtures/inspect-corpus.jsonl'), 'utf8'));
  });

  it('reads a header longer than its first read, and counts headerBytes in 4 KiB steps', async () => {
    const header = part10([
      ...explicit(0x00091010, 'OB', Array<number>(300_000).fill(7)), // a private block of 300,000 bytes
      ...explicit(0x00100010, 'PN', 'Long^Header'), // PatientName, past the CLI's first read of 128 KiB
      ...explicit(0x7fe00010, 'OW', Array<number>(100_000).fill(0)), // PixelData
    ]);
    const file = join(scratch, 'long-header.dcm');
    writeFileSync(file, header);
    const { lines } = await inspect(file);
    expect(lines[0]).toMatchObject({ patientName: 'Long^Header', error: null });
    expect(lines[0]!.headerBytes % 4096).toBe(0);
    expect(lines[0]!.headerBytes).toBeGreaterThan(300_000);
    expect(lines[0]!.headerBytes).toBeLessThan(header.length - 100_000 + 4096); // not the Pixel Data
  });

  it('keeps the listing order over many files and nested folders, and visits a symlinked folder once', async () => {
    const root = join(scratch, 'many');
    const one = part10([...explicit(0x0020000d, 'UI', '2.25.7')]); // StudyInstanceUID
    const expected: string[] = [];
    for (const folder of ['a', 'b', 'c']) {
      mkdirSync(join(root, folder), { recursive: true });
      for (let i = 0; i < 150; i++) {
        const file = join(root, folder, `${String(i).padStart(3, '0')}.dcm`);
        writeFileSync(file, one);
        expected.push(file);
      }
    }
    symlinkSync(join(root, 'a'), join(root, 'd-link-to-a'));
    symlinkSync(join(root, 'nowhere'), join(root, 'e-dangling'));
    const { lines, exitCode } = await inspect(root);
    expect(lines.map((line) => line.file)).toEqual([...expected, join(root, 'e-dangling')]);
    expect(lines.at(-1)).toMatchObject({ error: 'UNREADABLE: ENOENT' });
    expect(lines.slice(0, -1).every((line) => line.studyInstanceUid === '2.25.7' && line.error === null)).toBe(true);
    expect(exitCode).toBe(1);
  });

  it('stops quietly, exit code 0, when its reader closes the pipe (`| head`)', async () => {
    const root = join(scratch, 'piped');
    mkdirSync(root);
    const one = part10([...explicit(0x0020000d, 'UI', '2.25.8')]); // StudyInstanceUID
    for (let i = 0; i < 2000; i++) writeFileSync(join(root, `${String(i).padStart(4, '0')}.dcm`), one); // 1.4 MB of lines, past the first write
    const child = spawn(process.execPath, [join(PROJECT, 'scripts/inspect.cjs'), root], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.once('data', () => child.stdout.destroy());
    const exitCode = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(exitCode).toBe(0);
  });
});
