import { MAX_HEADER_BYTES } from '../limits';
import { InvalidDicomError } from './invalid-dicom-error';
import { readDicomHeader } from './read-dicom-header';
import type { CompleteHeader } from './types';

export type RangeReader = (start: number, endExclusive: number) => Promise<Uint8Array>;
/** A RangeReader for bytes already at hand or a synchronous file read (the CLI). */
export type SyncRangeReader = (start: number, endExclusive: number) => Uint8Array;

type HeaderRead = CompleteHeader & { bytesRead: number };
/** A byte range the header reader wants next: [start, end). */
type Wanted = readonly [start: number, end: number];

/**
 * Reads a header through ranged reads: `firstChunk` bytes first, then more only when readDicomHeader asks, rounded up
 * to whole chunks, so the bytes read stay near the header's size whatever the file's size. bytesRead counts them.
 * Throws InvalidDicomError (HEADER_TOO_LARGE past `maxHeaderBytes`), and whatever `read` throws.
 */
export async function readHeaderFrom(
  read: RangeReader,
  fileSize: number,
  firstChunk = 65536,
  maxHeaderBytes = MAX_HEADER_BYTES,
): Promise<HeaderRead> {
  const steps = headerSteps(fileSize, firstChunk, maxHeaderBytes);
  for (let step = steps.next(); ; ) {
    if (step.done) return step.value;
    step = steps.next(await read(step.value[0], step.value[1]));
  }
}

/** readHeaderFrom with a synchronous reader: the same reads and results, without a promise per read. */
export function readHeaderFromSync(
  read: SyncRangeReader,
  fileSize: number,
  firstChunk = 65536,
  maxHeaderBytes = MAX_HEADER_BYTES,
): HeaderRead {
  const steps = headerSteps(fileSize, firstChunk, maxHeaderBytes);
  for (let step = steps.next(); ; ) {
    if (step.done) return step.value;
    step = steps.next(read(step.value[0], step.value[1]));
  }
}

/** The reading loop, shared by both readers: yields each range it wants and is given its bytes. */
function* headerSteps(fileSize: number, firstChunk: number, maxHeaderBytes: number): Generator<Wanted, HeaderRead, Uint8Array> {
  const chunk = Math.max(1, Math.floor(firstChunk));
  const firstEnd = Math.min(chunk, fileSize);
  let prefix = exactly(yield [0, firstEnd], 0, firstEnd);
  for (;;) {
    const result = readDicomHeader(prefix, fileSize);
    if (result.status === 'complete') return Object.assign(result, { bytesRead: prefix.length });
    if (result.bytesNeeded <= prefix.length || result.bytesNeeded > fileSize) {
      throw new InvalidDicomError('MALFORMED', 'the header reader asked for an impossible range');
    }
    if (result.bytesNeeded > maxHeaderBytes) {
      throw new InvalidDicomError('HEADER_TOO_LARGE', `the header would need more than ${maxHeaderBytes} bytes`);
    }
    const nextLength = Math.min(fileSize, Math.ceil(result.bytesNeeded / chunk) * chunk);
    const more = exactly(yield [prefix.length, nextLength], prefix.length, nextLength);
    const grown = new Uint8Array(nextLength);
    grown.set(prefix);
    grown.set(more, prefix.length);
    prefix = grown;
  }
}

function exactly(bytes: Uint8Array, start: number, end: number): Uint8Array {
  if (bytes.length !== end - start) {
    throw new InvalidDicomError('TRUNCATED', 'the file is shorter than its stated size');
  }
  return bytes;
}
