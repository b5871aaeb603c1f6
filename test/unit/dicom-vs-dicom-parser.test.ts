/**
 * A second opinion: wherever dicom-parser reads a corpus file and has an attribute, our value is the same. Only
 * plain-ASCII attributes are compared (dicom-parser reads one byte per character, so names in other character sets
 * are where it is wrong), and only files it parses (it throws on some, which is why we walk the bytes ourselves).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import dicomParser from 'dicom-parser';
import { describe, expect, it } from 'vitest';
import { readDicomHeader, type HeaderFields } from '../../lambdas/core/dicom';
import { CORPUS_ROOT } from '../corpus';

const CORPUS = CORPUS_ROOT;
const oracle: Array<{ file: string; kind: string }> = JSON.parse(readFileSync(join(CORPUS, 'pydicom-oracle.json'), 'utf8'));

const STRING_TAGS: Array<[string, keyof HeaderFields]> = [
  ['x00020010', 'transferSyntaxUid'],
  ['x00080016', 'sopClassUid'],
  ['x00080018', 'sopInstanceUid'],
  ['x0020000d', 'studyInstanceUid'],
  ['x0020000e', 'seriesInstanceUid'],
  ['x00080060', 'modality'],
  ['x00080020', 'studyDate'],
];

describe('agreement with dicom-parser where it reads the file', () => {
  it('has the same UIDs, modality, dates, rows and columns on every corpus file dicom-parser parses', () => {
    let filesCompared = 0;
    let valuesCompared = 0;
    for (const entry of oracle.filter((e) => e.kind === 'dicom-part10')) {
      const bytes = new Uint8Array(readFileSync(join(CORPUS, 'pydicom', entry.file)));
      let dataSet;
      try {
        dataSet = dicomParser.parseDicom(bytes);
      } catch {
        continue;
      }
      const ours = readDicomHeader(bytes, bytes.length);
      if (ours.status !== 'complete') throw new Error(`${entry.file}: not complete`);
      filesCompared++;
      for (const [tag, field] of STRING_TAGS) {
        if (!dataSet.elements[tag] || dataSet.elements[tag]!.length === 0) continue;
        expect(ours.fields[field], `${entry.file} ${field}`).toBe(dataSet.string(tag));
        valuesCompared++;
      }
      for (const [tag, field] of [['x00280010', 'rows'], ['x00280011', 'columns']] as const) {
        if (dataSet.elements[tag]?.length !== 2) continue;
        expect(ours.fields[field], `${entry.file} ${field}`).toBe(dataSet.uint16(tag));
        valuesCompared++;
      }
    }
    expect(filesCompared).toBeGreaterThan(150);
    expect(valuesCompared).toBeGreaterThan(1000);
  });
});
