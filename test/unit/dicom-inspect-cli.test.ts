/**
 * `npm run inspect` as a contract: run as a child process on the real corpus and on a synthetic 50 MB image, one
 * JSON line per file with exactly DESIGN.md's fields, reading only the header.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
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

async function inspect(...paths: string[]): Promise<{ lines: Line[]; exitCode: number }> {
  const run = promisify(execFile);
  const args = ['--import', 'tsx', join(PROJECT, 'scripts/inspect.ts'), ...paths];
  const result = await run(process.execPath, args, { cwd: PROJECT, maxBuffer: 16 << 20 }).then(
    (out) => ({ stdout: out.stdout, code: 0 }),
    (error: { stdout: string; code: number }) => ({ stdout: error.stdout, code: error.code }),
  );
  const lines = result.stdout.trim().split('\n').map((text) => JSON.parse(text) as Line);
  return { lines, exitCode: result.code };
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
});
