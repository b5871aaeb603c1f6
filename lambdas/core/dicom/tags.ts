import type { HeaderFields } from './types';

export const UNDEFINED_LENGTH = 0xffffffff;
export const ITEM = 0xfffee000;
export const ITEM_DELIMITER = 0xfffee00d;
export const SEQUENCE_DELIMITER = 0xfffee0dd;
export const PIXEL_DATA = 0x7fe00010;
export const FLOAT_PIXEL_DATA = 0x7fe00008;
export const DOUBLE_PIXEL_DATA = 0x7fe00009;
/** Transfer syntaxes whose dataset encoding differs from explicit VR little endian. */
export const IMPLICIT_LITTLE = '1.2.840.10008.1.2';
export const EXPLICIT_LITTLE = '1.2.840.10008.1.2.1';
export const EXPLICIT_BIG = '1.2.840.10008.1.2.2';
export const DEFLATED = '1.2.840.10008.1.2.1.99';
export const DICOMDIR_SOP_CLASS = '1.2.840.10008.1.3.10';

/** How a field's bytes become a value: mirrors pydicom 2.3's converters for the VR the dictionary gives the tag. */
export type ValueKind = 'UI' | 'CS' | 'DA' | 'LO' | 'SH' | 'PN' | 'IS' | 'US';

export interface FieldSpec {
  field: keyof HeaderFields;
  kind: ValueKind;
}

/** The attributes we read, by tag; everything else is skipped by its length. */
export const FIELD_BY_TAG = new Map<number, FieldSpec>([
  [0x00020002, { field: 'mediaStorageSopClassUid', kind: 'UI' }],
  [0x00020010, { field: 'transferSyntaxUid', kind: 'UI' }],
  [0x00080005, { field: 'specificCharacterSet', kind: 'CS' }],
  [0x00080016, { field: 'sopClassUid', kind: 'UI' }],
  [0x00080018, { field: 'sopInstanceUid', kind: 'UI' }],
  [0x00080020, { field: 'studyDate', kind: 'DA' }],
  [0x00080050, { field: 'accessionNumber', kind: 'SH' }],
  [0x00080060, { field: 'modality', kind: 'CS' }],
  [0x00081030, { field: 'studyDescription', kind: 'LO' }],
  [0x00100010, { field: 'patientName', kind: 'PN' }],
  [0x00100020, { field: 'patientId', kind: 'LO' }],
  [0x00100030, { field: 'patientBirthDate', kind: 'DA' }],
  [0x0020000d, { field: 'studyInstanceUid', kind: 'UI' }],
  [0x0020000e, { field: 'seriesInstanceUid', kind: 'UI' }],
  [0x00280008, { field: 'numberOfFrames', kind: 'IS' }],
  [0x00280010, { field: 'rows', kind: 'US' }],
  [0x00280011, { field: 'columns', kind: 'US' }],
]);

/** Datasets are sorted by tag: past this one, nothing we read can still come. */
export const LAST_FIELD_TAG = 0x00280011;

/** Explicit VRs with a reserved 2 bytes and a 32-bit length. */
const LONG_VRS = ['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV'];
const LONG_VR_CODES = new Set(LONG_VRS.map((vr) => (vr.charCodeAt(0) << 8) | vr.charCodeAt(1)));
export const VR_UN = (0x55 << 8) | 0x4e;

export function hasLongLength(vrCode: number): boolean {
  return LONG_VR_CODES.has(vrCode);
}

const KNOWN_VRS = new Set(
  [...LONG_VRS, 'AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FL', 'FD', 'IS', 'LO', 'LT', 'PN', 'SH', 'SL', 'SS', 'ST', 'TM', 'UI', 'UL', 'US'].map(
    (vr) => (vr.charCodeAt(0) << 8) | vr.charCodeAt(1),
  ),
);

export function isKnownVr(vrCode: number): boolean {
  return KNOWN_VRS.has(vrCode);
}
