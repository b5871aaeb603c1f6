/**
 * The inspector's verdict on one object's bytes (core/inspect-object.ts `judge`), pure: the
 * objects live in memory behind the ObjectReader port. Header fixtures are built inline, a
 * comment per tag; real corpus files check the UIDs; fast-check throws random bytes at it.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { headerSummary, judge } from '../../lambdas/core/inspect-object';
import { FIRST_HEADER_CHUNK, MAX_HEADER_BYTES } from '../../lambdas/core/limits';
import type { FileRecord } from '../../lambdas/core/model';
import type { ObjectReader } from '../../lambdas/core/ports';
import { en } from '../../lambdas/core/messages';
import type { AttachmentType } from '../../lambdas/core/model';
import { explicit, part10, us } from './dicom-fixtures';
import { CORPUS_ROOT } from '../corpus';

/** Objects in memory, with every byte handed out counted. */
class MemoryReader implements ObjectReader {
  bytesRead = 0;
  constructor(
    private readonly objects: Map<string, Uint8Array>,
    private readonly failing = false,
  ) {}
  async head(key: string) {
    const bytes = this.objects.get(key);
    return bytes ? { size: bytes.length, etag: 'e' } : null;
  }
  async readStart(key: string, length: number) {
    const head = await this.head(key);
    return head ? { ...head, bytes: await this.readRange(key, 0, Math.min(length, head.size)) } : null;
  }
  async readRange(key: string, start: number, end: number) {
    if (this.failing) throw new Error('connection reset');
    const bytes = this.objects.get(key)!.subarray(start, end);
    this.bytesRead += bytes.length;
    return bytes;
  }
}

const STUDY = '1.2.826.0.1.3680043.10.543.1';
const SOP = '1.2.826.0.1.3680043.10.543.1.1';

function concat(...parts: (number[] | Uint8Array)[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * An explicit VR little endian image. `privateBytes` puts a private element of that size early in
 * the dataset (before the attributes we read), as vendors' large private headers force a reader on.
 */
function image({ study = STUDY, sop = SOP, privateBytes = 0, pixelBytes = 1024 } = {}): Uint8Array {
  const dataset = concat(
    explicit(0x00080016, 'UI', '1.2.840.10008.5.1.4.1.1.7'), // SOPClassUID: secondary capture
    explicit(0x00080018, 'UI', sop), // SOPInstanceUID
    explicit(0x00080060, 'CS', 'OT'), // Modality
    ...(privateBytes > 0
      ? [
          explicit(0x00090010, 'LO', 'VENDOR PRIVATE'), // private creator
          explicit(0x00091010, 'OB', [], { length: privateBytes }), // private header bytes follow
          new Uint8Array(privateBytes),
        ]
      : []),
    explicit(0x00100010, 'PN', 'Doe^Jane'), // PatientName
    explicit(0x0020000d, 'UI', study), // StudyInstanceUID
    explicit(0x0020000e, 'UI', `${study}.2`), // SeriesInstanceUID
    explicit(0x00280010, 'US', us(16)), // Rows
    explicit(0x00280011, 'US', us(16)), // Columns
    explicit(0x7fe00010, 'OW', [], { length: pixelBytes }), // PixelData header; the pixels follow
  );
  return concat(part10(dataset), new Uint8Array(pixelBytes));
}

function declared(overrides: Partial<FileRecord> = {}): FileRecord {
  return {
    sessionId: 's',
    fileId: 'f',
    clientId: 'c',
    name: 'IM0001',
    kind: 'dicom',
    size: 0,
    studyInstanceUid: STUDY,
    sopInstanceUid: SOP,
    objectKey: 'k',
    status: 'RESERVED',
    createdAt: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

async function verdictOn(bytes: Uint8Array, file: Partial<FileRecord> = {}, allowed: readonly AttachmentType[] = ['pdf', 'jpeg', 'png']) {
  const reader = new MemoryReader(new Map([['k', bytes]]));
  const verdict = await judge(declared({ size: bytes.length, ...file }), bytes.length, reader, 'k', { at: 'now', allowedAttachmentTypes: [...allowed] });
  return { verdict, reader };
}

describe('DICOM verdicts', () => {
  it('verifies a declared image and keeps its header summary; bytes read are the object (< 64 KiB)', async () => {
    const bytes = image();
    const { verdict, reader } = await verdictOn(bytes);
    expect(verdict).toMatchObject({ status: 'VERIFIED', size: bytes.length, inspectionBytesRead: bytes.length });
    expect(verdict.header).toEqual({
      sopClassUid: '1.2.840.10008.5.1.4.1.1.7',
      sopInstanceUid: SOP,
      studyInstanceUid: STUDY,
      seriesInstanceUid: `${STUDY}.2`,
      modality: 'OT',
      patientName: 'Doe^Jane',
      transferSyntaxUid: '1.2.840.10008.1.2.1',
      rows: 16,
      columns: 16,
    });
    expect(reader.bytesRead).toBe(bytes.length);
  });

  it('reads past 64 KiB only for a header that is longer, in 64 KiB steps, and never the pixels', async () => {
    const bytes = image({ privateBytes: 350_000, pixelBytes: 4_000_000 });
    const { verdict, reader } = await verdictOn(bytes);
    expect(verdict.status).toBe('VERIFIED');
    const headerEnd = bytes.length - 4_000_000;
    expect(reader.bytesRead).toBeGreaterThan(350_000);
    expect(reader.bytesRead % FIRST_HEADER_CHUNK).toBe(0);
    expect(reader.bytesRead).toBeLessThanOrEqual(Math.ceil(headerEnd / FIRST_HEADER_CHUNK) * FIRST_HEADER_CHUNK);
  });

  it('bytes the caller already holds (the first ranged GET) are used, not read again, and still counted', async () => {
    const bytes = image({ privateBytes: 100_000, pixelBytes: 1_000_000 });
    const reader = new MemoryReader(new Map([['k', bytes]]));
    const start = (await reader.readStart('k', FIRST_HEADER_CHUNK))!.bytes;
    const held = reader.bytesRead;
    expect(held).toBe(FIRST_HEADER_CHUNK);
    const verdict = await judge(declared({ size: bytes.length }), bytes.length, reader, 'k', { at: 'now', allowedAttachmentTypes: ['pdf'], start });
    expect(verdict.status).toBe('VERIFIED');
    // Only the rest of the header came from the reader; the verdict counts both parts.
    expect(reader.bytesRead - held).toBe(FIRST_HEADER_CHUNK);
    expect(verdict.inspectionBytesRead).toBe(reader.bytesRead);
  });

  it('a size mismatch is rejected before any parsing; only the held bytes count as read', async () => {
    const bytes = image();
    const reader = new MemoryReader(new Map([['k', bytes]]));
    const start = bytes.subarray(0, 1000);
    const verdict = await judge(declared({ size: bytes.length + 1 }), bytes.length, reader, 'k', { at: 'now', allowedAttachmentTypes: ['pdf'], start });
    expect(verdict).toMatchObject({ status: 'REJECTED', reason: { code: 'SIZE_MISMATCH' }, inspectionBytesRead: 1000 });
    expect(reader.bytesRead).toBe(0);
  });

  it('gives up on a "header" longer than MAX_HEADER_BYTES: NOT_DICOM, not a download', async () => {
    const bytes = image({ privateBytes: MAX_HEADER_BYTES + 10, pixelBytes: 2 });
    const { verdict, reader } = await verdictOn(bytes);
    expect(verdict.reason?.code).toBe('NOT_DICOM');
    expect(reader.bytesRead).toBeLessThanOrEqual(MAX_HEADER_BYTES);
  });

  it.each([
    ['another study', { studyInstanceUid: '1.2.3' }, 'STUDY_MISMATCH'],
    ['another image', { sopInstanceUid: '1.2.3' }, 'SOP_MISMATCH'],
    ['another size', { size: 1 }, 'SIZE_MISMATCH'],
  ] as const)('declared %s → %s, with the catalog message and the file id', async (_label, lie, code) => {
    const { verdict } = await verdictOn(image(), lie);
    expect(verdict.status).toBe('REJECTED');
    expect(verdict.reason).toEqual({ code, message: en[code], fileId: 'f' });
  });

  it('a size mismatch reads nothing', async () => {
    const { reader } = await verdictOn(image(), { size: 5 });
    expect(reader.bytesRead).toBe(0);
  });

  it('a DICOM without StudyInstanceUID or SOPInstanceUID is not an image we accept', async () => {
    const noStudy = part10([
      ...explicit(0x00080016, 'UI', '1.2.840.10008.5.1.4.1.1.7'), // SOPClassUID
      ...explicit(0x00080018, 'UI', SOP), // SOPInstanceUID, and no StudyInstanceUID
    ]);
    expect((await verdictOn(noStudy)).verdict.reason?.code).toBe('NOT_DICOM');
  });

  it('a DICOMDIR → DICOMDIR_NOT_ALLOWED', async () => {
    const dicomdir = part10(
      [
        ...explicit(0x00041130, 'CS', 'CD1'), // FileSetID
        ...explicit(0x00041200, 'UL', [0, 0, 0, 0]), // OffsetOfTheFirstDirectoryRecordOfTheRootDirectoryEntity
        ...explicit(0x00041220, 'SQ', [], { length: 0 }), // DirectoryRecordSequence, empty
      ],
      { sopClass: '1.2.840.10008.1.3.10' }, // Media Storage Directory Storage
    );
    expect((await verdictOn(dicomdir)).verdict.reason?.code).toBe('DICOMDIR_NOT_ALLOWED');
  });

  it('a failing read is an error to retry, never a verdict', async () => {
    const bytes = image();
    const reader = new MemoryReader(new Map([['k', bytes]]), true);
    await expect(judge(declared({ size: bytes.length }), bytes.length, reader, 'k', { at: 'now', allowedAttachmentTypes: ['pdf'] })).rejects.toThrow('connection reset');
  });

  it('real corpus files: the UIDs are the oracle\'s', async () => {
    const root = `${CORPUS_ROOT}/`;
    const oracle = JSON.parse(readFileSync(`${root}pydicom-oracle.json`, 'utf8')) as { file: string; attributes: Record<string, string> }[];
    for (const file of ['test_files/CT_small.dcm', 'test_files/MR_small_bigendian.dcm', 'test_files/image_dfl.dcm']) {
      const truth = oracle.find((e) => e.file === file)!.attributes;
      const bytes = new Uint8Array(readFileSync(`${root}pydicom/${file}`));
      const { verdict } = await verdictOn(bytes, { studyInstanceUid: truth.StudyInstanceUID, sopInstanceUid: truth.SOPInstanceUID });
      expect(verdict.status, file).toBe('VERIFIED');
      expect(verdict.header?.modality, file).toBe(truth.Modality);
    }
  });

  it('refuses the corpus\'s DICOM datasets without preamble and meta header (Part 10 only): NOT_PART10', async () => {
    const root = `${CORPUS_ROOT}/`;
    const oracle = JSON.parse(readFileSync(`${root}pydicom-oracle.json`, 'utf8')) as { file: string; kind: string; attributes: Record<string, string> }[];
    const withoutPreamble = oracle.filter((e) => e.kind === 'dicom-no-preamble');
    expect(withoutPreamble.length).toBeGreaterThanOrEqual(3);
    for (const entry of withoutPreamble) {
      const bytes = new Uint8Array(readFileSync(`${root}pydicom/${entry.file}`));
      const { verdict } = await verdictOn(bytes, { studyInstanceUid: entry.attributes.StudyInstanceUID, sopInstanceUid: entry.attributes.SOPInstanceUID });
      expect(verdict.reason, entry.file).toMatchObject({ code: 'NOT_PART10', message: en.NOT_PART10 });
    }
    // The same dataset with the Part 10 file header is verified: only the missing header is refused.
    const dataset = image().subarray(part10([]).length);
    const { verdict } = await verdictOn(dataset);
    expect(verdict.reason?.code).toBe('NOT_PART10');
  });

  it('refuses an executable in the preamble (PE, ELF, Mach-O): EXECUTABLE_PREAMBLE; zeros and a TIFF header pass', async () => {
    const withPreamble = (start: number[]) => {
      const bytes = image();
      bytes.set(start, 0);
      return bytes;
    };
    const executables = {
      pe: [0x4d, 0x5a, 0x90, 0x00], // 'MZ': the DICOM/PE polyglot of CVE-2019-11687
      elf: [0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01], // '\x7fELF', 64-bit little endian
      machO64: [0xcf, 0xfa, 0xed, 0xfe], // MH_MAGIC_64 as stored on little-endian Macs
      machO32: [0xfe, 0xed, 0xfa, 0xce], // MH_MAGIC
      machOFat: [0xca, 0xfe, 0xba, 0xbe], // FAT_MAGIC (universal binary)
    };
    for (const [name, start] of Object.entries(executables)) {
      const { verdict } = await verdictOn(withPreamble(start));
      expect(verdict, name).toMatchObject({ status: 'REJECTED', reason: { code: 'EXECUTABLE_PREAMBLE', message: en.EXECUTABLE_PREAMBLE } });
    }
    for (const start of [[0, 0, 0, 0], [0x49, 0x49, 0x2a, 0x00] /* TIFF little endian: a dual-format file */]) {
      expect((await verdictOn(withPreamble(start))).verdict.status).toBe('VERIFIED');
    }
  });

  it('random and mutated bytes always end in a verdict with a catalog reason, never a throw', async () => {
    const base = image();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 2048 }),
          fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 12 }).map((edits) => {
            const bytes = base.slice();
            for (const [at, byte] of edits) bytes[at] = byte;
            return bytes;
          }),
          fc.nat(base.length).map((n) => base.slice(0, n)),
        ),
        async (bytes) => {
          const { verdict } = await verdictOn(bytes);
          if (verdict.status === 'VERIFIED') {
            expect(verdict.header?.sopInstanceUid).toBe(SOP);
            expect(verdict.header?.studyInstanceUid).toBe(STUDY);
          } else {
            expect(verdict.reason!.message).toBe(en[verdict.reason!.code]);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('attachment verdicts', () => {
  const pdf = new TextEncoder().encode('%PDF-1.7\n%âãÏÓ\n');
  const jpeg = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46]);
  const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
  const zip = Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 20, 0, 0, 0]);
  const elf = Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]);

  it.each([
    ['pdf', pdf],
    ['jpeg', jpeg],
    ['png', png],
  ] as const)('an allowed %s is verified with its detected type', async (type, bytes) => {
    const { verdict } = await verdictOn(bytes, { kind: 'attachment', attachmentType: type });
    expect(verdict).toMatchObject({ status: 'VERIFIED', detectedType: type, inspectionBytesRead: bytes.length });
  });

  it('an allowed type other than the declared one → ATTACHMENT_TYPE_MISMATCH (it was stored with the declared Content-Type)', async () => {
    const { verdict } = await verdictOn(png, { kind: 'attachment', attachmentType: 'pdf' });
    expect(verdict).toMatchObject({ status: 'REJECTED', detectedType: 'png' });
    expect(verdict.reason?.code).toBe('ATTACHMENT_TYPE_MISMATCH');
  });

  it.each([
    ['a ZIP', zip],
    ['an ELF executable', elf],
    ['a DICOM file', image()],
    ['nothing at all', new Uint8Array(0)],
  ])('%s → ATTACHMENT_TYPE_MISMATCH', async (_label, bytes) => {
    const { verdict } = await verdictOn(bytes, { kind: 'attachment', attachmentType: 'pdf' });
    expect(verdict.reason?.code).toBe('ATTACHMENT_TYPE_MISMATCH');
  });

  it('a type the institution does not allow → ATTACHMENT_TYPE_MISMATCH', async () => {
    const { verdict } = await verdictOn(png, { kind: 'attachment', attachmentType: 'png' }, ['pdf']);
    expect(verdict).toMatchObject({ status: 'REJECTED', detectedType: 'png' });
  });

  it('reads only the first bytes of a large attachment', async () => {
    const big = new Uint8Array(5_000_000);
    big.set(pdf);
    const { verdict, reader } = await verdictOn(big, { kind: 'attachment' });
    expect(verdict.status).toBe('VERIFIED');
    expect(reader.bytesRead).toBe(4096);
  });
});

describe('headerSummary', () => {
  it('keeps only the summary fields, and only real strings and finite numbers', () => {
    expect(headerSummary({ sopInstanceUid: '1.2', rows: 5, columns: Number.NaN, specificCharacterSet: 'ISO_IR 100', modality: null, numberOfFrames: '1A' })).toEqual({
      sopInstanceUid: '1.2',
      rows: 5,
    });
  });
});
