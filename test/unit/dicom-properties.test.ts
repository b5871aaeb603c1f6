/**
 * Property tests: whatever the bytes, the reader answers with a header, a valid request for more, or an
 * InvalidDicomError, and it always ends. 11,000 cases: random bytes, random bytes after a real meta group,
 * truncations and single-byte mutations of the real corpus.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidDicomError, readDicomHeader, readHeaderFrom, type HeaderResult } from '../../lambdas/core/dicom';
import { DEFLATED, EXPLICIT_BE, EXPLICIT_LE, IMPLICIT_LE, part10 } from './dicom-fixtures';
import { CORPUS_ROOT } from '../corpus';

const CORPUS = CORPUS_ROOT;
const oracle: Array<{ file: string; kind: string; headerBytesNeeded: number | null }> = JSON.parse(
  readFileSync(join(CORPUS, 'pydicom-oracle.json'), 'utf8'),
);
const dicomFiles = oracle
  .filter((entry) => entry.kind.startsWith('dicom'))
  .map((entry) => {
    const bytes = new Uint8Array(readFileSync(join(CORPUS, 'pydicom', entry.file)));
    const full = readDicomHeader(bytes, bytes.length);
    if (full.status !== 'complete') throw new Error(`${entry.file} does not read whole`);
    return { file: entry.file, bytes, full, headerEnd: Math.min(bytes.length, (entry.headerBytesNeeded ?? 4096) + 64) };
  });

/** The outcome, checked against the contract; any other throw fails the property. */
function outcome(prefix: Uint8Array, fileSize: number): HeaderResult | InvalidDicomError {
  const started = performance.now();
  let result: HeaderResult | InvalidDicomError;
  try {
    result = readDicomHeader(prefix, fileSize);
  } catch (error) {
    if (!(error instanceof InvalidDicomError)) throw error;
    expect(['NOT_DICOM', 'TRUNCATED', 'MALFORMED']).toContain(error.reason);
    result = error;
  }
  expect(performance.now() - started).toBeLessThan(1000);
  if (!(result instanceof InvalidDicomError) && result.status === 'need-more') {
    expect(result.bytesNeeded).toBeGreaterThan(prefix.length);
    expect(result.bytesNeeded).toBeLessThanOrEqual(fileSize);
  }
  return result;
}

describe('readDicomHeader properties', () => {
  it('answers random bytes with a header, a valid request or a typed error (3,000 cases)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1024 }), fc.nat(4096), (bytes, extra) => {
        outcome(bytes, bytes.length + extra);
      }),
      { numRuns: 3000 },
    );
  });

  it('answers random datasets after a real meta group in every transfer syntax (2,000 cases)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(EXPLICIT_LE, IMPLICIT_LE, EXPLICIT_BE, DEFLATED),
        fc.uint8Array({ maxLength: 2048 }),
        fc.nat(100_000),
        (transferSyntax, dataset, extra) => {
          const file = part10(dataset, { transferSyntax });
          outcome(file, file.length);
          outcome(file, file.length + extra);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('never returns a partial header from a truncated corpus file (3,000 cases)', () => {
    fc.assert(
      fc.property(fc.nat(dicomFiles.length - 1), fc.double({ min: 0, max: 1, noNaN: true }), (index, fraction) => {
        const { bytes, full, headerEnd } = dicomFiles[index]!;
        // Cut mostly inside the header, where it matters.
        const cut = Math.floor(fraction * (fraction < 0.9 ? headerEnd : bytes.length));
        const prefix = bytes.subarray(0, cut);
        // A prefix of the real file: more is needed, or the header is the whole file's.
        const asPrefix = outcome(prefix, bytes.length);
        expect(asPrefix).not.toBeInstanceOf(InvalidDicomError);
        if (!(asPrefix instanceof InvalidDicomError) && asPrefix.status === 'complete') {
          expect(asPrefix.fields).toEqual(full.fields);
        }
        // A file cut short: a typed error, or a header (cuts at element boundaries look like whole files).
        outcome(prefix, cut);
      }),
      { numRuns: 3000 },
    );
  });

  it('survives any single-byte mutation of a corpus header, also through the ranged-read loop (3,000 cases)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(dicomFiles.length - 1), fc.nat(), fc.integer({ min: 0, max: 255 }), async (index, at, byte) => {
        const { bytes, headerEnd } = dicomFiles[index]!;
        const mutated = bytes.slice();
        mutated[at % headerEnd] = byte;
        outcome(mutated, mutated.length);
        outcome(mutated.subarray(0, headerEnd), mutated.length);
        try {
          const header = await readHeaderFrom(async (start, end) => mutated.subarray(start, end), mutated.length, 512);
          expect(header.bytesRead).toBeLessThanOrEqual(mutated.length);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidDicomError);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
