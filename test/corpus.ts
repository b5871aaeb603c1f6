/**
 * Where the real DICOM corpus (pydicom's test files, MIT-licensed, with its ground-truth oracle)
 * lives. The team's shared copy beside the checkout (../shared/corpus) is the source of truth;
 * test/corpus is an identical copy committed so a checkout anywhere can run the tests.
 * CORPUS_DIR overrides both. A missing corpus fails loudly.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function locateCorpus(): string {
  const candidates = [process.env.CORPUS_DIR, resolve(repoRoot, '../shared/corpus'), join(repoRoot, 'test/corpus')].filter(
    (dir): dir is string => Boolean(dir),
  );
  const found = candidates.find((dir) => existsSync(join(dir, 'pydicom-oracle.json')));
  if (!found) throw new Error(`The DICOM corpus was not found (looked for pydicom-oracle.json in: ${candidates.join(', ')}).`);
  return found;
}

/** The corpus folder, holding pydicom/ and pydicom-oracle.json; ends without a slash. */
export const CORPUS_ROOT = locateCorpus();

/** One file's ground truth in pydicom-oracle.json (pydicom 2.3.1, cross-checked with dcmdump). */
export interface OracleEntry {
  file: string;
  size: number;
  kind: 'dicom-part10' | 'dicom-no-preamble' | 'not-dicom' | 'unreadable';
  /** Absent is null, present but empty is ""; Rows, Columns and NumberOfFrames are integers. */
  attributes: Record<string, string | number | null>;
  pixelDataOffset: number | null;
  headerBytesNeeded: number | null;
  deflated: boolean;
  disagreements: Record<string, { pydicom: unknown; dcmdump: unknown }>;
}

let oracleCache: OracleEntry[] | undefined;

/** The oracle, read once per test file. */
export function readOracle(): OracleEntry[] {
  return (oracleCache ??= JSON.parse(readFileSync(join(CORPUS_ROOT, 'pydicom-oracle.json'), 'utf8')) as OracleEntry[]);
}
