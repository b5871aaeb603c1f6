/** Attachments as DICOM (pure): Encapsulated PDF and Secondary Capture, deterministic UIDs, refusals with reasons. */
import dcmjs from 'dcmjs';
import { describe, expect, it } from 'vitest';
import { attachmentToDicom, ENCAPSULATED_PDF_SOP_CLASS, SECONDARY_CAPTURE_SOP_CLASS, type StudyContext } from '../../lambdas/core/delivery/attachment-dicom';
import { deterministicUid } from '../../lambdas/core/delivery/deterministic-uid';
import { readJpegFrame } from '../../lambdas/core/delivery/jpeg-frame';
import { UndeliverableError } from '../../lambdas/core/delivery/undeliverable-error';
import { realJpeg, realPdf, realPng } from '../delivery-fixtures';

const study: StudyContext = {
  sessionId: 's1',
  studyInstanceUid: '1.2.3.4.5',
  fields: { patientId: 'P-1', patientName: 'Müller^Jörg', patientBirthDate: '19700101', accessionNumber: 'ACC7', studyDate: '20240102', studyDescription: 'CT' },
  changes: { patientId: 'MRN-4711', accessionNumber: 'EXT-ACC7' },
};
const at = new Date('2026-12-01T10:11:12Z');

function read(bytes: Uint8Array): Record<string, { Value?: unknown[] }> {
  return dcmjs.data.DicomMessage.readFile(bytes.slice().buffer).dict as Record<string, { Value?: unknown[] }>;
}

describe('attachmentToDicom', () => {
  it('wraps a PDF as an Encapsulated PDF in the study, with the reconciled identifiers and the original kept', async () => {
    const pdf = realPdf();
    const { sopInstanceUid, bytes } = await attachmentToDicom(study, 'file-1', 'pdf', pdf, at);
    const dict = read(bytes);
    expect(dict['00080016']!.Value).toEqual([ENCAPSULATED_PDF_SOP_CLASS]);
    expect(dict['00080018']!.Value).toEqual([sopInstanceUid]);
    expect(dict['0020000D']!.Value).toEqual(['1.2.3.4.5']);
    expect(dict['00100020']!.Value).toEqual(['MRN-4711']);
    expect(dict['00080050']!.Value).toEqual(['EXT-ACC7']);
    expect((dict['00100010']!.Value as { Alphabetic: string }[])[0]!.Alphabetic).toBe('Müller^Jörg');
    expect((dict['00101002']!.Value as Record<string, { Value: unknown[] }>[])[0]!['00100020']!.Value).toEqual(['P-1']);
    const document = new Uint8Array((dict['00420011']!.Value as ArrayBuffer[])[0]!);
    expect([...document.subarray(0, pdf.length)]).toEqual([...pdf]);
    expect(dict['00420015']!.Value).toEqual([pdf.length]);
  });

  it('gives the same file the same UIDs every time, and other files other ones', async () => {
    const a = await attachmentToDicom(study, 'file-1', 'pdf', realPdf(), at);
    const again = await attachmentToDicom(study, 'file-1', 'pdf', realPdf(), new Date());
    const other = await attachmentToDicom(study, 'file-2', 'pdf', realPdf(), at);
    expect(again.sopInstanceUid).toBe(a.sopInstanceUid);
    expect(other.sopInstanceUid).not.toBe(a.sopInstanceUid);
    expect(read(other.bytes)['0020000E']!.Value).toEqual(read(a.bytes)['0020000E']!.Value);
    expect(a.sopInstanceUid).toMatch(/^2\.25\.[1-9]\d{0,38}$/);
    expect(a.sopInstanceUid.length).toBeLessThanOrEqual(64);
  });

  it('encapsulates a baseline JPEG byte for byte and decodes a PNG to RGB, both as Secondary Capture', async () => {
    const jpeg = await attachmentToDicom(study, 'file-3', 'jpeg', realJpeg(), at);
    const jpegDict = read(jpeg.bytes);
    expect(jpegDict['00080016']!.Value).toEqual([SECONDARY_CAPTURE_SOP_CLASS]);
    expect(jpegDict['00280010']!.Value).toEqual([100]);
    expect(jpegDict['00280004']!.Value).toEqual(['YBR_FULL_422']);
    const png = read((await attachmentToDicom(study, 'file-4', 'png', realPng(), at)).bytes);
    expect([png['00280011']!.Value, png['00280010']!.Value, png['00280004']!.Value]).toEqual([[7], [5], ['RGB']]);
    const pixels = new Uint8Array((png['7FE00010']!.Value as ArrayBuffer[])[0]!);
    expect([...pixels.subarray(0, 6)]).toEqual([0, 255, 128, 7, 248, 128]);
  });

  it('refuses images a PACS could not show, with a reason', async () => {
    const progressive = Uint8Array.from([0xff, 0xd8, 0xff, 0xc2, 0, 11, 8, 0, 1, 0, 1, 3, 0, 0, 0]);
    expect(() => readJpegFrame(progressive)).toThrow(/progressive/);
    await expect(attachmentToDicom(study, 'f', 'png', Uint8Array.from([0x89, 0x50, 0x4e, 0x47]), at)).rejects.toThrow(UndeliverableError);
  });
});

describe('deterministicUid', () => {
  it('is a 2.25 UID of at most 39 digits, stable for the same parts', async () => {
    expect(await deterministicUid('a', 'b')).toBe(await deterministicUid('a', 'b'));
    expect(await deterministicUid('a', 'b')).not.toBe(await deterministicUid('ab'));
    expect((await deterministicUid('x')).length).toBeLessThanOrEqual(44);
  });
});
