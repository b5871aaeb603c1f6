/**
 * One file's inspection line: the header fields the inspector and the portal read, through the same reader.
 * headerBytes is the header's prefix in 4 KiB steps (the bytes a reader in 4 KiB steps needs), whatever the disk read.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { InvalidDicomError, readHeaderFromSync, sniffKind, type CompleteHeader } from '../../lambdas/core/dicom';
import type { FileToInspect } from './files-under';

/** The unit headerBytes counts in: it stays within 4 KiB of the header's real end. */
const CHUNK = 4 * 1024;
/**
 * The first disk read. It covers every header of the corpus (p99 11 KB, max 13 KB) and the p95 of real clinical
 * files (about 98 KB), so almost every file costs open, one read and close; a shorter read also gives the size.
 */
export const FIRST_READ_BYTES = 128 * 1024;

export interface InspectLine {
  file: string;
  isDicom: boolean;
  kind: 'dicom' | 'pdf' | 'jpeg' | 'png' | 'other';
  transferSyntaxUid: string | null;
  sopClassUid: string | null;
  sopInstanceUid: string | null;
  studyInstanceUid: string | null;
  seriesInstanceUid: string | null;
  modality: string | null;
  patientId: string | null;
  patientName: string | null;
  patientBirthDate: string | null;
  studyDate: string | null;
  accessionNumber: string | null;
  studyDescription: string | null;
  /** A number, or the stored text when it is not an integer (e.g. "1A"). */
  numberOfFrames: number | string | null;
  rows: number | string | null;
  columns: number | string | null;
  headerBytes: number;
  error: string | null;
}

function emptyLine(file: string): InspectLine {
  return {
    file,
    isDicom: false,
    kind: 'other',
    transferSyntaxUid: null,
    sopClassUid: null,
    sopInstanceUid: null,
    studyInstanceUid: null,
    seriesInstanceUid: null,
    modality: null,
    patientId: null,
    patientName: null,
    patientBirthDate: null,
    studyDate: null,
    accessionNumber: null,
    studyDescription: null,
    numberOfFrames: null,
    rows: null,
    columns: null,
    headerBytes: 0,
    error: null,
  };
}

function headerLine(file: string, header: CompleteHeader, bytesRead: number): InspectLine {
  const f = header.fields;
  const v = header.invalidValues;
  return {
    ...emptyLine(file),
    isDicom: true,
    kind: 'dicom',
    transferSyntaxUid: f.transferSyntaxUid ?? null,
    sopClassUid: f.sopClassUid ?? null,
    sopInstanceUid: f.sopInstanceUid ?? null,
    studyInstanceUid: f.studyInstanceUid ?? null,
    seriesInstanceUid: f.seriesInstanceUid ?? null,
    modality: f.modality ?? null,
    patientId: f.patientId ?? null,
    patientName: f.patientName ?? null,
    patientBirthDate: f.patientBirthDate ?? null,
    studyDate: f.studyDate ?? null,
    accessionNumber: f.accessionNumber ?? null,
    studyDescription: f.studyDescription ?? null,
    numberOfFrames: f.numberOfFrames ?? v.numberOfFrames ?? null,
    rows: f.rows ?? v.rows ?? null,
    columns: f.columns ?? v.columns ?? null,
    headerBytes: bytesRead,
    // The header is whole but the file is a partial copy: flag it, as an upload would be rejected.
    error: header.pixelDataTruncated ? 'TRUNCATED: the file ends inside its Pixel Data' : null,
  };
}

/**
 * Inspects one file; every failure becomes a line with `error`. `buffer` (FIRST_READ_BYTES long) holds the first read
 * and is the caller's to reuse once this returns. Reads past it, for a longer header, go to the file. Everything is
 * synchronous: each thread inspects one file at a time, and a direct system call costs far less than a hop through
 * libuv's thread pool. A regular file costs open, one read and close: a read that stops short of the buffer has
 * reached the end (Linux fills a read from a regular file as far as the file goes), so no second read or fstat is
 * needed to learn the size. Pipes and devices are read until they end or fill the buffer.
 */
export function inspectFile(file: FileToInspect, buffer: Uint8Array): InspectLine {
  let fd: number | undefined;
  try {
    fd = openSync(file.path, 'r');
    const first = file.regular ? readSync(fd, buffer, 0, buffer.length, 0) : readAll(fd, buffer, 0);
    const size = first < buffer.length ? first : fstatSync(fd).size;
    return readLine(file.path, fd, buffer.subarray(0, first), size);
  } catch (error) {
    const line = emptyLine(file.path);
    line.error = `UNREADABLE: ${(error as NodeJS.ErrnoException).code ?? 'EIO'}`;
    return line;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The line for a file of `size` bytes whose first bytes are `first`; reads past them from `fd` when the header asks. */
function readLine(file: string, fd: number, first: Uint8Array, size: number): InspectLine {
  let headerBytes = 0;
  let firstBytes = first.subarray(0, 0);
  const readRange = (start: number, end: number): Uint8Array => {
    const bytes = end <= first.length ? first.subarray(start, end) : readPast(fd, start, end);
    headerBytes += bytes.length;
    if (start === 0) firstBytes = bytes;
    return bytes;
  };
  try {
    return headerLine(file, readHeaderFromSync(readRange, size, CHUNK), headerBytes);
  } catch (error) {
    if (!(error instanceof InvalidDicomError)) throw error;
    const line = emptyLine(file);
    line.headerBytes = headerBytes;
    const kind = sniffKind(firstBytes);
    line.kind = kind === 'zip' ? 'other' : kind;
    if (kind === 'dicom' || kind === 'other' || kind === 'zip') line.error = `${error.reason}: ${error.message}`;
    return line;
  }
}

/** Reads from `position` until `buffer` is full or the file ends; returns the bytes read. */
function readAll(fd: number, buffer: Uint8Array, position: number): number {
  let done = 0;
  while (done < buffer.length) {
    const bytesRead = readSync(fd, buffer, done, buffer.length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

function readPast(fd: number, start: number, end: number): Uint8Array {
  const bytes = new Uint8Array(end - start);
  return bytes.subarray(0, readAll(fd, bytes, start));
}
