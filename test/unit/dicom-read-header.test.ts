/** Edge cases of readDicomHeader on tiny inline fixtures (one comment per tag). The real files are in corpus-oracle. */
import { deflateSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { InvalidDicomError, readDicomHeader, type CompleteHeader, type HeaderResult } from '../../lambdas/core/dicom';
import {
  DEFLATED,
  EXPLICIT_BE,
  IMPLICIT_LE,
  UNDEFINED,
  explicit,
  explicitBE,
  implicit,
  item,
  part10,
  sequenceDelimiter,
  us,
} from './dicom-fixtures';

function completed(result: HeaderResult): CompleteHeader {
  if (result.status !== 'complete') throw new Error(`expected a complete header, got ${JSON.stringify(result)}`);
  return result;
}

/** Deterministic incompressible bytes. */
function noise(length: number): number[] {
  let state = 12345;
  return Array.from({ length }, () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state >>> 24;
  });
}

function reason(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof InvalidDicomError) return error.reason;
    throw error;
  }
  throw new Error('expected an InvalidDicomError');
}

/** A small explicit VR little endian image: the attributes we read, one we skip, and 16 bytes of Pixel Data. */
const image = [
  ...explicit(0x00080016, 'UI', '1.2.840.10008.5.1.4.1.1.7'), // SOPClassUID
  ...explicit(0x00080018, 'UI', '1.2.3.4.5'), // SOPInstanceUID
  ...explicit(0x00080020, 'DA', '20240131'), // StudyDate
  ...explicit(0x00080060, 'CS', 'OT'), // Modality
  ...explicit(0x00081030, 'LO', 'Knee '), // StudyDescription, trailing pad
  ...explicit(0x00100010, 'PN', 'Doe^Jane'), // PatientName
  ...explicit(0x00100020, 'LO', 'P-1'), // PatientID
  ...explicit(0x0020000d, 'UI', '1.2.3'), // StudyInstanceUID
  ...explicit(0x0020000e, 'UI', '1.2.3.1'), // SeriesInstanceUID
  ...explicit(0x00280008, 'IS', '3 '), // NumberOfFrames
  ...explicit(0x00280010, 'US', us(4)), // Rows
  ...explicit(0x00280011, 'US', us(2)), // Columns
  ...explicit(0x00280100, 'US', us(8)), // BitsAllocated (skipped)
  ...explicit(0x7fe00010, 'OB', new Array(16).fill(7)), // PixelData
];

describe('readDicomHeader', () => {
  it('reads keyword-named fields up to Pixel Data and reports where it stopped', () => {
    const file = part10(image);
    const header = completed(readDicomHeader(file, file.length));
    expect(header.fields).toEqual({
      mediaStorageSopClassUid: '1.2.840.10008.5.1.4.1.1.7',
      transferSyntaxUid: '1.2.840.10008.1.2.1',
      sopClassUid: '1.2.840.10008.5.1.4.1.1.7',
      sopInstanceUid: '1.2.3.4.5',
      studyDate: '20240131',
      modality: 'OT',
      studyDescription: 'Knee',
      patientName: 'Doe^Jane',
      patientId: 'P-1',
      studyInstanceUid: '1.2.3',
      seriesInstanceUid: '1.2.3.1',
      numberOfFrames: 3,
      rows: 4,
      columns: 2,
    });
    expect(header.hasPreamble).toBe(true);
    expect(header.isDicomDir).toBe(false);
    expect(header.pixelDataOffset).toBe(file.length - 16 - 12);
    expect(header.headerBytes).toBe(file.length - 16);
    expect(header.warnings).toEqual([]);
  });

  it('asks for more instead of returning a partial header, and says TRUNCATED when the file itself is short', () => {
    const file = part10(image);
    const full = completed(readDicomHeader(file, file.length));
    const pixelDataEnd = file.length - 16;
    // Until the header of BitsAllocated, the first element past every attribute we read, a prefix is never enough.
    const bitsAllocatedHeaderEnd = pixelDataEnd - 12 - 10 + 8;
    for (let n = 0; n < pixelDataEnd; n++) {
      const result = readDicomHeader(file.subarray(0, n), file.length);
      if (n < bitsAllocatedHeaderEnd) {
        expect(result).toMatchObject({ status: 'need-more' });
        if (result.status === 'need-more') {
          expect(result.bytesNeeded).toBeGreaterThan(n);
          expect(result.bytesNeeded).toBeLessThanOrEqual(file.length);
        }
      } else {
        expect(completed(result).fields).toEqual(full.fields);
        expect(completed(result).headerBytes).toBe(bitsAllocatedHeaderEnd);
      }
    }
    expect(completed(readDicomHeader(file.subarray(0, pixelDataEnd), file.length)).pixelDataOffset).toBe(pixelDataEnd - 12);
    // Cut inside the Rows value: the file is whole at 250-odd bytes, and short.
    const insideRows = pixelDataEnd - 12 - 8 - 10 - 1;
    expect(reason(() => readDicomHeader(file.subarray(0, insideRows), insideRows))).toBe('TRUNCATED');
    // Cut inside the meta group: its group length says there is more.
    expect(reason(() => readDicomHeader(file.subarray(0, 150), 150))).toBe('TRUNCATED');
  });

  it('flags a file that ends inside its Pixel Data, and not a whole one', () => {
    const file = part10(image);
    expect(completed(readDicomHeader(file, file.length)).pixelDataTruncated).toBe(false);
    const cut = file.subarray(0, file.length - 5);
    const header = completed(readDicomHeader(cut, cut.length));
    expect(header.pixelDataTruncated).toBe(true);
    expect(header.warnings).toContain('PIXEL_DATA_TRUNCATED');
    expect(header.fields.rows).toBe(4);
  });

  it('reads a dataset with no preamble in implicit VR little endian', () => {
    const file = new Uint8Array([
      ...implicit(0x00080016, '1.2.840.10008.5.1.4.1.1.481.3\0'), // SOPClassUID
      ...implicit(0x00080060, 'RTSTRUCT'), // Modality
      ...implicit(0x00100010, 'Smith^J'), // PatientName
      ...implicit(0x0020000d, '1.2.9\0'), // StudyInstanceUID
    ]);
    const header = completed(readDicomHeader(file, file.length));
    expect(header.hasPreamble).toBe(false);
    expect(header.fields).toEqual({
      sopClassUid: '1.2.840.10008.5.1.4.1.1.481.3',
      modality: 'RTSTRUCT',
      patientName: 'Smith^J',
      studyInstanceUid: '1.2.9',
    });
    expect(header.headerBytes).toBe(file.length);
  });

  it('reads a dataset with no preamble in explicit VR big endian', () => {
    const file = new Uint8Array([
      ...explicitBE(0x00080060, 'CS', 'CT'), // Modality
      ...explicitBE(0x00100010, 'PN', 'Big^Endian'), // PatientName
      ...explicitBE(0x00280010, 'US', us(512, false)), // Rows, big endian
      ...explicitBE(0x00280011, 'US', us(256, false)), // Columns, big endian
    ]);
    const header = completed(readDicomHeader(file, file.length));
    expect(header.fields).toEqual({ modality: 'CT', patientName: 'Big^Endian', rows: 512, columns: 256 });
  });

  it('reads explicit VR big endian after a little endian meta group', () => {
    const file = part10(
      [
        ...explicitBE(0x00100020, 'LO', 'BE-1'), // PatientID
        ...explicitBE(0x00280010, 'US', us(300, false)), // Rows
        ...explicitBE(0x7fe00010, 'OW', [1, 2]), // PixelData
      ],
      { transferSyntax: EXPLICIT_BE },
    );
    const header = completed(readDicomHeader(file, file.length));
    expect(header.fields.patientId).toBe('BE-1');
    expect(header.fields.rows).toBe(300);
    expect(header.pixelDataOffset).toBeDefined();
  });

  it('falls back to implicit VR little endian when the meta group has no TransferSyntaxUID', () => {
    const file = part10(
      [
        ...implicit(0x00100020, 'ID7'), // PatientID
        ...implicit(0x7fe00010, [0, 0]), // PixelData
      ],
      { transferSyntax: null },
    );
    const header = completed(readDicomHeader(file, file.length));
    expect(header.fields.transferSyntaxUid).toBeUndefined();
    expect(header.fields.patientId).toBe('ID7');
    expect(header.warnings).toContain('TRANSFER_SYNTAX_MISSING');
  });

  it('skips nested undefined-length private sequences in implicit VR and ignores names inside items', () => {
    const file = part10(
      [
        ...implicit(0x00100010, 'Top^Level'), // PatientName
        ...implicit(0x00111010, [], UNDEFINED), // private sequence, undefined length
        ...item([
          ...implicit(0x00100010, 'Inside^Item'), // PatientName inside an item: not the patient's
          ...implicit(0x00111011, [], UNDEFINED), // nested private sequence, undefined length
          ...item([...implicit(0x00111012, 'deep')]), // its item, with a private element
          ...sequenceDelimiter(), // end of the nested sequence
        ]),
        ...sequenceDelimiter(), // end of the outer sequence
        ...implicit(0x00100020, 'After'), // PatientID
        ...implicit(0x7fe00010, [0, 0]), // PixelData
      ],
      { transferSyntax: IMPLICIT_LE },
    );
    const header = completed(readDicomHeader(file, file.length));
    expect(header.fields.patientName).toBe('Top^Level');
    expect(header.fields.patientId).toBe('After');
    expect(header.pixelDataOffset).toBe(file.length - 10);
  });

  it('reads UN of undefined length in explicit VR as an implicit VR sequence', () => {
    const file = part10([
      ...explicit(0x00091001, 'UN', [], { length: UNDEFINED }), // private UN sequence
      ...item([...implicit(0x00091002, 'xy')]), // implicit VR inside
      ...sequenceDelimiter(), // end of sequence
      ...explicit(0x00100020, 'LO', 'UN-ok'), // PatientID
    ]);
    expect(completed(readDicomHeader(file, file.length)).fields.patientId).toBe('UN-ok');
  });

  it('inflates a deflated dataset from a prefix', () => {
    const dataset = new Uint8Array([
      ...explicit(0x00100010, 'PN', 'Deflated^Dora'), // PatientName
      ...explicit(0x0020000d, 'UI', '1.2.840.99'), // StudyInstanceUID
      ...explicit(0x00280010, 'US', us(64)), // Rows
      ...explicit(0x7fe00010, 'OB', noise(200_000)), // PixelData, incompressible
    ]);
    const file = part10(deflateSync(dataset), { transferSyntax: DEFLATED });
    const whole = completed(readDicomHeader(file, file.length));
    expect(whole.deflated).toBe(true);
    expect(whole.fields).toMatchObject({ patientName: 'Deflated^Dora', studyInstanceUid: '1.2.840.99', rows: 64 });
    expect(whole.headerBytes).toBeLessThan(file.length);
    // A prefix that holds the header: complete without the rest of the stream.
    const prefix = file.subarray(0, whole.headerBytes);
    expect(completed(readDicomHeader(prefix, file.length)).fields).toEqual(whole.fields);
    // Too short a prefix: more, never a partial header.
    expect(readDicomHeader(file.subarray(0, 200), file.length).status).toBe('need-more');
  });

  it('flags an invalid IS value instead of turning it into a number', () => {
    const file = part10([
      ...explicit(0x00280008, 'IS', '1A'), // NumberOfFrames, not an integer
      ...explicit(0x00280010, 'US', us(10)), // Rows
    ]);
    const header = completed(readDicomHeader(file, file.length));
    expect(header.fields.numberOfFrames).toBeUndefined();
    expect(header.invalidValues).toEqual({ numberOfFrames: '1A' });
    expect(header.warnings).toContain('INVALID_IS:numberOfFrames');
    expect(header.warnings).toContain('PIXEL_DATA_MISSING');
  });

  it('recognises a DICOMDIR', () => {
    const file = part10(
      [
        ...explicit(0x00041130, 'CS', 'CD1'), // FileSetID
        ...explicit(0x00041220, 'SQ', [], { length: UNDEFINED }), // DirectoryRecordSequence
        ...item([...explicit(0x00100010, 'PN', 'In^Record')]), // a PATIENT record: not a top-level name
        ...sequenceDelimiter(), // end of sequence
      ],
      { sopClass: '1.2.840.10008.1.3.10' },
    );
    const header = completed(readDicomHeader(file, file.length));
    expect(header.isDicomDir).toBe(true);
    expect(header.fields.patientName).toBeUndefined();
    expect(header.headerBytes).toBe(file.length);
  });

  it('stops after the last attribute it reads when the prefix ends, without asking for the rest', () => {
    const file = part10([
      ...explicit(0x0020000d, 'UI', '1.2.5'), // StudyInstanceUID
      ...explicit(0x00321060, 'LO', 'Proc'), // RequestedProcedureDescription: past every field we read
      ...explicit(0x54000100, 'SQ', [], { length: 1_000_000 }), // WaveformSequence, a megabyte we never fetch
    ]);
    const size = file.length + 1_000_000 + 64;
    const header = completed(readDicomHeader(file, size));
    expect(header.fields.studyInstanceUid).toBe('1.2.5');
    expect(header.headerBytes).toBeLessThan(file.length);
  });

  it('rejects what is not DICOM with NOT_DICOM', () => {
    const pdf = new TextEncoder().encode('%PDF-1.7\n' + 'x'.repeat(300));
    expect(reason(() => readDicomHeader(pdf, pdf.length))).toBe('NOT_DICOM');
    expect(reason(() => readDicomHeader(new Uint8Array(0), 0))).toBe('NOT_DICOM');
    expect(reason(() => readDicomHeader(new Uint8Array(300), 300))).toBe('NOT_DICOM');
  });

  it('reports MALFORMED when a sequence holds something other than items', () => {
    const file = part10([
      ...explicit(0x00081110, 'SQ', [], { length: UNDEFINED }), // ReferencedStudySequence
      ...explicit(0x00100010, 'PN', 'Not^AnItem'), // an element where an item must be
    ]);
    expect(reason(() => readDicomHeader(file, file.length))).toBe('MALFORMED');
  });
});

describe('readDicomHeader character sets', () => {
  const named = (characterSet: string, name: number[]) =>
    part10([
      ...explicit(0x00080005, 'CS', characterSet), // SpecificCharacterSet
      ...explicit(0x00100010, 'PN', name), // PatientName
    ]);
  const nameOf = (file: Uint8Array) => completed(readDicomHeader(file, file.length)).fields.patientName;
  const latin = (text: string) => [...text].map((c) => c.charCodeAt(0));

  it.each([
    ['ISO_IR 100', [0x42, 0x75, 0x63, 0x5e, 0x4a, 0xe9, 0x72, 0xf4, 0x6d, 0x65], 'Buc^Jérôme'],
    ['ISO_IR 192', [...new TextEncoder().encode('Wang^XiaoDong=王^小東')], 'Wang^XiaoDong=王^小東'],
    ['ISO_IR 144', [0xbb, 0xee, 0xda, 0x63, 0x65, 0xdc, 0xd1, 0x79, 0x70, 0xd3], 'Люкceмбypг'],
    ['ISO_IR 126', [0xc4, 0xe9, 0xef, 0xed, 0xf5, 0xf3, 0xe9, 0xef, 0xf2], 'Διονυσιος'],
    ['ISO_IR 138', [0xf9, 0xf8, 0xe5, 0xef, 0x5e, 0xe3, 0xe1, 0xe5, 0xf8, 0xe4], 'שרון^דבורה'],
    ['ISO_IR 127', [0xe2, 0xc8, 0xc7, 0xe6, 0xea, 0x5e, 0xe4, 0xe6, 0xd2, 0xc7, 0xd1], 'قباني^لنزار'],
    ['ISO_IR 166', [0xc8, 0xd1, 0xa1, 0xb4, 0xd4, 0xec, 0x5e, 0xca, 0xc1, 0xaa, 0xd2, 0xc2], 'ศักดิ์^สมชาย'],
    ['GB18030', [...latin('Wang^XiaoDong='), 0xcd, 0xf5, 0x5e, 0xd0, 0xa1, 0xb6, 0xab], 'Wang^XiaoDong=王^小东'],
    ['GBK', [0xcd, 0xf5, 0x5e, 0xd0, 0xa1, 0xb6, 0xab], '王^小东'],
    // ISO 2022 IR 87: JIS X 0208 between ESC $ B and ESC ( B, per component group.
    ['\\ISO 2022 IR 87', latin('Yamada^Tarou=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B'), 'Yamada^Tarou=山田^太郎'],
    // ISO 2022 IR 149: KS X 1001 in G1 after ESC $ ) C.
    ['\\ISO 2022 IR 149', [...latin('Hong^Gildong=\x1b$)C'), 0xfb, 0xf3, 0x5e, ...latin('\x1b$)C'), 0xd1, 0xce, 0xd4, 0xd7], 'Hong^Gildong=洪^吉洞'],
    // ISO 2022 IR 13: half-width katakana in G1 without any escape.
    ['ISO 2022 IR 13\\ISO 2022 IR 87', [0xd4, 0xcf, 0xc0, 0xde, 0x5e, 0xc0, 0xdb, 0xb3], 'ﾔﾏﾀﾞ^ﾀﾛｳ'],
  ])('decodes %s', (characterSet, name, expected) => {
    expect(nameOf(named(characterSet, name))).toBe(expected);
  });

  it('drops empty trailing name groups as pydicom does', () => {
    expect(nameOf(named('ISO_IR 100', latin('Wang^XiaoDong==')))).toBe('Wang^XiaoDong');
  });

  it('decodes LO text with the character set and keeps UIDs plain', () => {
    const file = part10([
      ...explicit(0x00080005, 'CS', 'ISO_IR 192'), // SpecificCharacterSet
      ...explicit(0x00081030, 'LO', [...new TextEncoder().encode('Hüfte\\Knie')]), // StudyDescription, two values
      ...explicit(0x0020000d, 'UI', '1.2.3'), // StudyInstanceUID
    ]);
    const header = completed(readDicomHeader(file, file.length));
    expect(header.fields.studyDescription).toBe('Hüfte\\Knie');
    expect(header.fields.specificCharacterSet).toBe('ISO_IR 192');
  });
});
