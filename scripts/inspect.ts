/**
 * `npm run inspect -- <files or folders…>`: one JSON line per file with the header fields the inspector and the
 * portal read, through the same reader. Reads only the prefix it needs (headerBytes = bytes actually read).
 * Exit code 1 when any file has an error (not DICOM, truncated, unreadable), 2 without arguments.
 */
import { open, readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidDicomError, readHeaderFrom, sniffKind, type CompleteHeader } from '../lambdas/core/dicom';

/** Local reads are cheap, so read in small steps: headerBytes then stays within 4 KiB of the header's real end. */
const CHUNK = 4 * 1024;

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

/** Inspects one file, reading ranges of it; every failure becomes a line with `error`. */
export async function inspectFile(file: string): Promise<InspectLine> {
  const line = emptyLine(file);
  let handle;
  try {
    handle = await open(file, 'r');
    const { size } = await handle.stat();
    let firstBytes = new Uint8Array(0);
    const fh = handle;
    const read = async (start: number, end: number): Promise<Uint8Array> => {
      const buffer = new Uint8Array(end - start);
      let done = 0;
      while (done < buffer.length) {
        const { bytesRead } = await fh.read(buffer, done, buffer.length - done, start + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      line.headerBytes += done;
      if (start === 0) firstBytes = buffer.subarray(0, done);
      return buffer.subarray(0, done);
    };
    try {
      const header = await readHeaderFrom(read, size, CHUNK);
      return headerLine(file, header, line.headerBytes);
    } catch (error) {
      if (!(error instanceof InvalidDicomError)) throw error;
      const kind = sniffKind(firstBytes);
      line.kind = kind === 'zip' ? 'other' : kind;
      if (kind === 'dicom' || kind === 'other' || kind === 'zip') line.error = `${error.reason}: ${error.message}`;
      return line;
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
    line.error = `UNREADABLE: ${code}`;
    return line;
  } finally {
    await handle?.close();
  }
}

/** Files under the arguments, folders recursed in name order; symlinked folders are visited once. */
async function* filesUnder(paths: string[], seen = new Set<string>()): AsyncGenerator<string> {
  for (const path of paths) {
    let info;
    try {
      info = await stat(path);
    } catch {
      yield path;
      continue;
    }
    if (!info.isDirectory()) {
      yield path;
      continue;
    }
    const real = await realpath(path);
    if (seen.has(real)) continue;
    seen.add(real);
    let names: string[];
    try {
      names = (await readdir(path)).sort();
    } catch {
      yield path;
      continue;
    }
    yield* filesUnder(
      names.map((name) => join(path, name)),
      seen,
    );
  }
}

async function main(args: string[]): Promise<number> {
  if (args.length === 0) {
    process.stderr.write('usage: npm run inspect -- <files or folders…>\n');
    return 2;
  }
  let failures = 0;
  for await (const file of filesUnder(args)) {
    const line = await inspectFile(file);
    if (line.error) failures++;
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
  return failures > 0 ? 1 : 0;
}

// A closed pipe (`| head`) ends the listing quietly instead of with a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});
process.exitCode = await main(process.argv.slice(2));
