import { MAX_HEADER_BYTES } from '../limits';
import { InvalidDicomError } from './invalid-dicom-error';
import { readDicomHeader } from './read-dicom-header';
import type { CompleteHeader } from './types';

export type RangeReader = (start: number, endExclusive: number) => Promise<Uint8Array>;


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
): Promise<CompleteHeader & { bytesRead: number }> {
  const chunk = Math.max(1, Math.floor(firstChunk));
  let prefix = await readExactly(read, 0, Math.min(chunk, fileSize));
  for (;;) {
    const result = readDicomHeader(prefix, fileSize);
    if (result.status === 'complete') return { ...result, bytesRead: prefix.length };
    if (result.bytesNeeded <= prefix.length || result.bytesNeeded > fileSize) {
      throw new InvalidDicomError('MALFORMED', 'the header reader asked for an impossible range');
    }
    if (result.bytesNeeded > maxHeaderBytes) {
      throw new InvalidDicomError('HEADER_TOO_LARGE', `the header would need more than ${maxHeaderBytes} bytes`);
    }
    const nextLength = Math.min(fileSize, Math.ceil(result.bytesNeeded / chunk) * chunk);
    const more = await readExactly(read, prefix.length, nextLength);
    const grown = new Uint8Array(nextLength);
    grown.set(prefix);
    grown.set(more, prefix.length);
    prefix = grown;
  }
}

async function readExactly(read: RangeReader, start: number, end: number): Promise<Uint8Array> {
  const bytes = await read(start, end);
  if (bytes.length !== end - start) {
    throw new InvalidDicomError('TRUNCATED', 'the file is shorter than its stated size');
  }
  return bytes;
}
