/**
 * The header reader against every file of the real pydicom corpus, compared with pydicom-oracle.json (pydicom 2.3.1,
 * cross-checked with dcmdump). Where the two tools disagree, either value passes.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidDicomError, readDicomHeader, readHeaderFrom, type CompleteHeader, type HeaderFields } from '../../lambdas/core/dicom';
import { CORPUS_ROOT, readOracle, type OracleEntry } from '../corpus';

const CORPUS = CORPUS_ROOT;
const ROOT = join(CORPUS, 'pydicom');
const CHUNK = 65536;

const KEYWORD_TO_FIELD: Record<string, keyof HeaderFields> = {
  TransferSyntaxUID: 'transferSyntaxUid',
  MediaStorageSOPClassUID: 'mediaStorageSopClassUid',
  SOPClassUID: 'sopClassUid',
  SOPInstanceUID: 'sopInstanceUid',
  StudyInstanceUID: 'studyInstanceUid',
  SeriesInstanceUID: 'seriesInstanceUid',
  Modality: 'modality',
  PatientID: 'patientId',
  PatientName: 'patientName',
  PatientBirthDate: 'patientBirthDate',
  StudyDate: 'studyDate',
  AccessionNumber: 'accessionNumber',
  StudyDescription: 'studyDescription',
  SpecificCharacterSet: 'specificCharacterSet',
  NumberOfFrames: 'numberOfFrames',
  Rows: 'rows',
  Columns: 'columns',
};

function listFiles(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? listFiles(path) : [relative(ROOT, path)];
    })
    .sort();
}

const oracle = readOracle();
const byFile = new Map(oracle.map((entry) => [entry.file, entry]));
const files = listFiles(ROOT);
const passed = new Set<string>();

/** The value as the oracle writes it: null when absent; an invalid number as its stored text. */
function observed(header: CompleteHeader, field: keyof HeaderFields): string | number | null {
  const invalid = (header.invalidValues as Record<string, string | undefined>)[field];
  return header.fields[field] ?? invalid ?? null;
}

function mismatches(entry: OracleEntry, header: CompleteHeader): string[] {
  const problems: string[] = [];
  for (const [keyword, field] of Object.entries(KEYWORD_TO_FIELD)) {
    const got = observed(header, field);
    const accepted = [entry.attributes[keyword], ...Object.values(entry.disagreements[keyword] ?? {})];
    if (!accepted.includes(got)) problems.push(`${keyword}: got ${JSON.stringify(got)}, oracle ${JSON.stringify(accepted)}`);
  }
  return problems;
}

describe('header reader on the pydicom corpus', () => {
  it('has an oracle entry for every corpus file, and a corpus file for every entry', () => {
    expect(files.length).toBeGreaterThan(150);
    expect(files).toEqual(oracle.map((entry) => entry.file).sort());
  });

  it.each(files)('%s', async (file) => {
    const entry = byFile.get(file)!;
    const bytes = new Uint8Array(readFileSync(join(ROOT, file)));
    expect(bytes.length).toBe(entry.size);

    if (entry.kind === 'not-dicom' || entry.kind === 'unreadable') {
      expect(() => readDicomHeader(bytes, bytes.length)).toThrow(InvalidDicomError);
      await expect(readHeaderFrom(rangeReader(bytes).read, bytes.length)).rejects.toBeInstanceOf(InvalidDicomError);
      passed.add(file);
      return;
    }

    const header = readDicomHeader(bytes, bytes.length);
    expect(header.status).toBe('complete');
    if (header.status !== 'complete') return;
    expect(mismatches(entry, header)).toEqual([]);
    expect(header.isDicomDir).toBe(entry.attributes.MediaStorageSOPClassUID === '1.2.840.10008.1.3.10');
    expect(header.hasPreamble).toBe(entry.kind === 'dicom-part10');
    if (entry.headerBytesNeeded !== null) expect(header.headerBytes).toBeGreaterThanOrEqual(entry.headerBytesNeeded);
    if (entry.pixelDataOffset !== null) expect(header.pixelDataOffset).toBe(entry.pixelDataOffset);
    // The corpus's one partial copy is flagged; whole files are not.
    expect(header.pixelDataTruncated).toBe(file === 'test_files/MR_truncated.dcm');

    // The ranged-read loop gets the same header and reads no more than the needed prefix rounded up to 64 KiB.
    const reader = rangeReader(bytes);
    const viaRanges = await readHeaderFrom(reader.read, bytes.length, CHUNK);
    expect(viaRanges.fields).toEqual(header.fields);
    expect(viaRanges.bytesRead).toBe(reader.bytesRead());
    const budget = Math.ceil((entry.headerBytesNeeded ?? bytes.length) / CHUNK) * CHUNK;
    expect(viaRanges.bytesRead).toBeLessThanOrEqual(Math.min(budget, bytes.length));
    passed.add(file);
  });

  afterAll(() => {
    // The score for the closing note; a failing file above already failed the run.
    console.log(`pydicom corpus score: ${passed.size}/${files.length}`);
  });
});

function rangeReader(bytes: Uint8Array) {
  let total = 0;
  return {
    read: async (start: number, end: number) => {
      total += end - start;
      return bytes.subarray(start, end);
    },
    bytesRead: () => total,
  };
}
