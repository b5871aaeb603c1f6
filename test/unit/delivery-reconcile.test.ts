/** Identifier reconciliation as a header splice: pure, on tiny inline files and real corpus files. */
import { describe, expect, it } from 'vitest';
import { identifierChanges, spliceIdentifiers, concat, type IdentifierChanges } from '../../lambdas/core/delivery/reconcile-identifiers';
import { UndeliverableError } from '../../lambdas/core/delivery/undeliverable-error';
import type { IdentifierRules } from '../../lambdas/core/delivery-config';
import { readDicomHeader, type CompleteHeader } from '../../lambdas/core/dicom';
import { corpusFile } from '../delivery-fixtures';
import { EXPLICIT_BE, IMPLICIT_LE, explicit, explicitBE, implicit, item, part10, sequenceDelimiter, UNDEFINED } from './dicom-fixtures';

const rules = (patientId: IdentifierRules['patientId'], accessionNumber: IdentifierRules['accessionNumber'], extra: Partial<IdentifierRules> = {}): IdentifierRules => ({
  patientId,
  accessionNumber,
  prefix: 'EXT-',
  ...extra,
});

function headerOf(bytes: Uint8Array): CompleteHeader {
  const result = readDicomHeader(bytes, bytes.length);
  if (result.status !== 'complete') throw new Error('incomplete header');
  return result;
}

/** The delivered file: the new header, then the original bytes from restFrom. */
function reconcile(bytes: Uint8Array, changes: IdentifierChanges): Uint8Array {
  const result = spliceIdentifiers(bytes, bytes.length, headerOf(bytes), changes);
  if (result.status !== 'ready') throw new Error(`needs ${result.bytesNeeded} bytes`);
  return concat([result.header, bytes.subarray(result.restFrom)]);
}

const PIXELS = [1, 2, 3, 4, 5, 6, 7, 8];
const MODIFIED_AT = '20261201100000+0000';

type Encoding = 'explicit' | 'implicit' | 'big';
/** An element in the given encoding (the VR is written only where the encoding has one). */
function el(encoding: Encoding, tag: number, vr: string, data: string | number[], length?: number): number[] {
  if (encoding === 'implicit') return implicit(tag, data, length);
  return encoding === 'big' ? explicitBE(tag, vr, data, length) : explicit(tag, vr, data, length === undefined ? {} : { length });
}

/** (0400,0561) with one item: the replaced elements as uploaded, when, by what, why (COERCE). */
function originalAttributes(encoding: Encoding, originals: number[], modifiedAt = ''): number[] {
  const le = encoding !== 'big';
  return [
    ...el(encoding, 0x04000561, 'SQ', [], UNDEFINED), // OriginalAttributesSequence
    ...item(
      [
        ...el(encoding, 0x04000550, 'SQ', [], UNDEFINED), // ModifiedAttributesSequence
        ...item(originals, { definedLength: true, le }),
        ...sequenceDelimiter(le),
        ...el(encoding, 0x04000562, 'DT', modifiedAt), // AttributeModificationDateTime
        ...el(encoding, 0x04000563, 'LO', 'DICOM Upload Portal'), // ModifyingSystem
        ...el(encoding, 0x04000564, 'LO', ''), // SourceOfPreviousValues (type 2: empty)
        ...el(encoding, 0x04000565, 'CS', 'COERCE'), // ReasonForTheAttributeModification
      ],
      { definedLength: true, le },
    ),
    ...sequenceDelimiter(le),
  ];
}
const explicitFile = () =>
  part10([
    ...explicit(0x00080000, 'UL', [0x40, 0, 0, 0]), // group length (0008): retired, wrong once a value changes
    ...explicit(0x00080018, 'UI', '1.2.3.4'), // SOPInstanceUID
    ...explicit(0x00080050, 'SH', 'ACC7'), // AccessionNumber
    ...explicit(0x00100010, 'PN', 'Doe^Jane'), // PatientName
    ...explicit(0x00100020, 'LO', 'P-1'), // PatientID
    ...explicit(0x00100021, 'LO', 'OTHERHOSP'), // IssuerOfPatientID
    ...explicit(0x0020000d, 'UI', '1.2.3'), // StudyInstanceUID
    ...explicit(0x7fe00010, 'OB', PIXELS), // PixelData
  ]);

describe('identifierChanges', () => {
  const fields = { patientId: 'P-1', accessionNumber: 'ACC7' };
  it('keep changes nothing; prefix prefixes both; reference uses the code reference, the prefix without one', () => {
    expect(identifierChanges(rules('keep', 'keep'), fields, 'MRN-4711')).toEqual({});
    expect(identifierChanges(rules('prefix', 'prefix'), fields, 'MRN-4711')).toEqual({ patientId: 'EXT-P-1', accessionNumber: 'EXT-ACC7' });
    expect(identifierChanges(rules('reference', 'remove'), fields, 'MRN-4711')).toEqual({ patientId: 'MRN-4711', accessionNumber: '' });
    expect(identifierChanges(rules('reference', 'keep'), fields, undefined)).toEqual({ patientId: 'EXT-P-1' });
    expect(identifierChanges(rules('reference', 'keep', { issuerOfPatientId: 'HOSP' }), fields, 'M1')).toEqual({ patientId: 'M1', issuerOfPatientId: 'HOSP' });
  });
  it('leaves an empty accession number empty, and refuses values too long for their VR', () => {
    expect(identifierChanges(rules('keep', 'prefix'), { patientId: 'P' }, undefined)).toEqual({});
    expect(() => identifierChanges(rules('keep', 'prefix'), { accessionNumber: '1234567890123' }, undefined)).toThrow(UndeliverableError);
    expect(() => identifierChanges(rules('reference', 'keep'), { patientId: 'P' }, 'M'.repeat(65))).toThrow(/64 characters/);
  });
});

describe('spliceIdentifiers', () => {
  it('changes Patient ID and Accession Number, moves the original ID and issuer into (0010,1002), drops the group length, keeps everything else', () => {
    const original = explicitFile();
    const out = reconcile(original, { patientId: 'MRN-4711', accessionNumber: 'EXT-ACC7', modifiedAt: MODIFIED_AT });
    const expected = part10([
      ...explicit(0x00080018, 'UI', '1.2.3.4'), // SOPInstanceUID
      ...explicit(0x00080050, 'SH', 'EXT-ACC7'), // AccessionNumber, prefixed
      ...explicit(0x00100010, 'PN', 'Doe^Jane'), // PatientName, untouched
      ...explicit(0x00100020, 'LO', 'MRN-4711'), // PatientID, the hospital's
      // IssuerOfPatientID went with the original ID
      ...explicit(0x00101002, 'SQ', [], { length: UNDEFINED }), // OtherPatientIDsSequence
      ...item(
        [
          ...explicit(0x00100020, 'LO', 'P-1'), // the original PatientID, byte for byte
          ...explicit(0x00100021, 'LO', 'OTHERHOSP'), // its issuer
          ...explicit(0x00100022, 'CS', 'TEXT'), // TypeOfPatientID
        ],
        { definedLength: true },
      ),
      ...sequenceDelimiter(),
      ...explicit(0x0020000d, 'UI', '1.2.3'), // StudyInstanceUID
      // The replaced elements as uploaded: Accession Number, Patient ID, its issuer
      ...originalAttributes('explicit', [...explicit(0x00080050, 'SH', 'ACC7'), ...explicit(0x00100020, 'LO', 'P-1'), ...explicit(0x00100021, 'LO', 'OTHERHOSP')], MODIFIED_AT),
      ...explicit(0x7fe00010, 'OB', PIXELS), // PixelData, streamed unchanged
    ]);
    expect([...out]).toEqual([...expected]);
  });

  it('sets the hospital issuer when configured, and appends to an existing sequence', () => {
    const original = part10([
      ...explicit(0x00100020, 'LO', 'P-1'), // PatientID
      ...explicit(0x00101002, 'SQ', [...item([...explicit(0x00100020, 'LO', 'OLD')])], { length: UNDEFINED }), // OtherPatientIDsSequence
      ...sequenceDelimiter(),
      ...explicit(0x7fe00010, 'OB', PIXELS), // PixelData
    ]);
    const out = reconcile(original, { patientId: 'M1', issuerOfPatientId: 'HOSP' });
    const expected = part10([
      ...explicit(0x00100020, 'LO', 'M1'), // PatientID
      ...explicit(0x00100021, 'LO', 'HOSP'), // IssuerOfPatientID: the hospital's
      ...explicit(0x00101002, 'SQ', [], { length: UNDEFINED }), // OtherPatientIDsSequence
      ...item([...explicit(0x00100020, 'LO', 'OLD')]), // the item it had
      ...item([...explicit(0x00100020, 'LO', 'P-1'), ...explicit(0x00100022, 'CS', 'TEXT')], { definedLength: true }), // the new one
      ...sequenceDelimiter(),
      ...originalAttributes('explicit', explicit(0x00100020, 'LO', 'P-1')), // the sequence only gained an item: not an original
      ...explicit(0x7fe00010, 'OB', PIXELS), // PixelData
    ]);
    expect([...out]).toEqual([...expected]);
  });

  it('writes implicit VR little endian and explicit VR big endian in their own encoding', () => {
    const implicitFile = part10([...implicit(0x00100020, 'P-1'), ...implicit(0x7fe00010, PIXELS)], { transferSyntax: IMPLICIT_LE });
    expect([...reconcile(implicitFile, { patientId: 'M1' })]).toEqual([
      ...part10(
        [
          ...implicit(0x00100020, 'M1'), // PatientID
          ...implicit(0x00101002, [], UNDEFINED), // OtherPatientIDsSequence, undefined length
          ...item([...implicit(0x00100020, 'P-1'), ...implicit(0x00100022, 'TEXT')], { definedLength: true }),
          ...sequenceDelimiter(),
          ...originalAttributes('implicit', implicit(0x00100020, 'P-1')),
          ...implicit(0x7fe00010, PIXELS), // PixelData
        ],
        { transferSyntax: IMPLICIT_LE },
      ),
    ]);
    const bigEndian = part10([...explicitBE(0x00100020, 'LO', 'P-1'), ...explicitBE(0x7fe00010, 'OB', PIXELS)], { transferSyntax: EXPLICIT_BE });
    expect([...reconcile(bigEndian, { patientId: 'M1' })]).toEqual([
      ...part10(
        [
          ...explicitBE(0x00100020, 'LO', 'M1'),
          ...explicitBE(0x00101002, 'SQ', [], UNDEFINED),
          ...item([...explicitBE(0x00100020, 'LO', 'P-1'), ...explicitBE(0x00100022, 'CS', 'TEXT')], { definedLength: true, le: false }),
          ...sequenceDelimiter(false),
          ...originalAttributes('big', explicitBE(0x00100020, 'LO', 'P-1')),
          ...explicitBE(0x7fe00010, 'OB', PIXELS),
        ],
        { transferSyntax: EXPLICIT_BE },
      ),
    ]);
  });

  it('sends a file whose identifiers stay as they are without touching it', () => {
    const original = explicitFile();
    const result = spliceIdentifiers(original, original.length, headerOf(original), {});
    expect(result).toEqual({ status: 'ready', header: new Uint8Array(0), restFrom: 0 });
  });

  it('keeps an existing Original Attributes Sequence and adds its own item; only the Accession Number when only it changes', () => {
    const earlier = originalAttributes('explicit', explicit(0x00100010, 'PN', 'Old^Name'), '20200101000000+0000').slice(12, -8); // its one item
    const original = part10([
      ...explicit(0x00080050, 'SH', 'ACC7'), // AccessionNumber
      ...explicit(0x00100020, 'LO', 'P-1'), // PatientID
      ...explicit(0x04000561, 'SQ', earlier, { length: UNDEFINED }), // OriginalAttributesSequence from an earlier modification
      ...sequenceDelimiter(),
      ...explicit(0x7fe00010, 'OB', PIXELS), // PixelData
    ]);
    const out = reconcile(original, { accessionNumber: 'EXT-ACC7', modifiedAt: MODIFIED_AT });
    const ours = originalAttributes('explicit', explicit(0x00080050, 'SH', 'ACC7'), MODIFIED_AT);
    expect([...out]).toEqual([
      ...part10([
        ...explicit(0x00080050, 'SH', 'EXT-ACC7'),
        ...explicit(0x00100020, 'LO', 'P-1'), // Patient ID unchanged: no Other Patient IDs item
        ...ours.slice(0, 12), // (0400,0561), undefined length
        ...earlier, // the item it had
        ...ours.slice(12), // ours, then the delimiter
        ...explicit(0x7fe00010, 'OB', PIXELS),
      ]),
    ]);
  });

  it('asks for more bytes when the prefix ends before (0400,0561) is passed', () => {
    const original = explicitFile();
    const header = headerOf(original);
    const result = spliceIdentifiers(original.subarray(0, 200), original.length, header, { patientId: 'M1' });
    expect(result.status).toBe('need-more');
  });

  it('rewrites only the header of real corpus files: the bytes from Pixel Data on are the original ones', () => {
    for (const file of ['test_files/CT_small.dcm', 'test_files/MR_small_implicit.dcm', 'test_files/MR_small_bigendian.dcm', 'test_files/JPEG2000.dcm']) {
      const original = corpusFile(file);
      const out = reconcile(original, { patientId: 'MRN-4711', accessionNumber: '' });
      const before = headerOf(original);
      const after = headerOf(out);
      expect(after.fields).toMatchObject({ ...before.fields, patientId: 'MRN-4711', accessionNumber: before.fields.accessionNumber === undefined ? undefined : '' });
      expect([...out.subarray(after.pixelDataOffset)]).toEqual([...original.subarray(before.pixelDataOffset)]);
    }
  });
});
