import { startsWith, u32 } from './bytes';
import type { CompleteHeader } from './types';

/** Why a readable DICOM header is still not a file we accept (DESIGN: DICOM Part 10 only). */
export type Part10Refusal =
  /** The 128-byte preamble holds an executable: the DICOM/PE polyglot of CVE-2019-11687, or ELF / Mach-O. */
  | 'EXECUTABLE_PREAMBLE'
  /** DICOM data without the Part 10 file header (preamble, `DICM`, file meta information). */
  | 'NOT_PART10';

export type PreambleExecutable = 'pe' | 'elf' | 'mach-o';

// Mach-O thin (32/64-bit, either byte order) and fat (universal) headers, read big-endian.
const MACH_O_MAGICS = new Set([0xfeedface, 0xcefaedfe, 0xfeedfacf, 0xcffaedfe, 0xcafebabe, 0xbebafeca, 0xcafebabf, 0xbfbafeca]);

/**
 * The executable format whose header opens the preamble, if any. The standard leaves the preamble to
 * the application (zeros, or a TIFF header for dual-format files); a Windows, Linux or macOS loader
 * header there makes the file runnable as a program.
 */
export function preambleExecutable(prefix: Uint8Array): PreambleExecutable | undefined {
  if (prefix.length < 4) return undefined;
  if (startsWith(prefix, 0, 'MZ')) return 'pe';
  if (prefix[0] === 0x7f && startsWith(prefix, 1, 'ELF')) return 'elf';
  if (MACH_O_MAGICS.has(u32(prefix, 0, false))) return 'mach-o';
  return undefined;
}

/**
 * The refusal for a file whose header readDicomHeader read, given the file's first bytes (at least
 * 4); undefined for a proper Part 10 file. The reader accepts preamble-less datasets (pydicom and
 * dcmdump do); an upload does not: the hospital's PACS expects Part 10 files.
 */
export function part10Refusal(prefix: Uint8Array, header: Pick<CompleteHeader, 'hasPreamble'>): Part10Refusal | undefined {
  if (!header.hasPreamble) return 'NOT_PART10';
  if (preambleExecutable(prefix)) return 'EXECUTABLE_PREAMBLE';
  return undefined;
}
