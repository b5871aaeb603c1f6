/** Tiny DICOM byte builders for the reader's unit and property tests. Each call is one element; callers comment the tag. */

export type Bytes = number[];

const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
export const UNDEFINED = 0xffffffff;

/** ASCII text, or raw bytes, padded to even length (UIDs with NUL, the rest with a space). */
export function value(text: string | Bytes, vr = 'LO'): Bytes {
  const bytes = typeof text === 'string' ? [...text].map((c) => c.charCodeAt(0)) : [...text];
  if (bytes.length % 2 === 1) bytes.push(vr === 'UI' ? 0 : 0x20);
  return bytes;
}

function u16(n: number, le: boolean): Bytes {
  return le ? [n & 0xff, n >>> 8] : [n >>> 8, n & 0xff];
}

function u32(n: number, le: boolean): Bytes {
  const b = [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24];
  return le ? b : b.reverse();
}

function tagBytes(tag: number, le: boolean): Bytes {
  return [...u16(tag >>> 16, le), ...u16(tag & 0xffff, le)];
}

/** An explicit VR element; `length` overrides the value's length (e.g. UNDEFINED for a sequence). */
export function explicit(tag: number, vr: string, data: string | Bytes, { le = true, length }: { le?: boolean; length?: number } = {}): Bytes {
  const v = value(data, vr);
  const n = length ?? v.length;
  const vrBytes = [vr.charCodeAt(0), vr.charCodeAt(1)];
  const head = LONG_VRS.has(vr) ? [...vrBytes, 0, 0, ...u32(n, le)] : [...vrBytes, ...u16(n, le)];
  return [...tagBytes(tag, le), ...head, ...v];
}

export function explicitBE(tag: number, vr: string, data: string | Bytes, length?: number): Bytes {
  return explicit(tag, vr, data, { le: false, length });
}

/** An implicit VR little endian element. */
export function implicit(tag: number, data: string | Bytes, length?: number): Bytes {
  const v = value(data);
  return [...tagBytes(tag, true), ...u32(length ?? v.length, true), ...v];
}

/** A sequence item (FFFE,E000), undefined length with its delimiter unless `definedLength`. */
export function item(content: Bytes, { definedLength = false, le = true } = {}): Bytes {
  if (definedLength) return [...tagBytes(0xfffee000, le), ...u32(content.length, le), ...content];
  return [...tagBytes(0xfffee000, le), ...u32(UNDEFINED, le), ...content, ...tagBytes(0xfffee00d, le), ...u32(0, le)];
}

export function sequenceDelimiter(le = true): Bytes {
  return [...tagBytes(0xfffee0dd, le), ...u32(0, le)];
}

export function us(n: number, le = true): Bytes {
  return u16(n, le);
}

export const EXPLICIT_LE = '1.2.840.10008.1.2.1';
export const IMPLICIT_LE = '1.2.840.10008.1.2';
export const EXPLICIT_BE = '1.2.840.10008.1.2.2';
export const DEFLATED = '1.2.840.10008.1.2.1.99';

/** 128-byte preamble, 'DICM', and an explicit VR little endian meta group with its group length. */
export function part10(
  dataset: Bytes | Uint8Array,
  { transferSyntax = EXPLICIT_LE as string | null, sopClass = '1.2.840.10008.5.1.4.1.1.7' } = {},
): Uint8Array {
  const meta = [
    ...explicit(0x00020001, 'OB', [0, 1]), // FileMetaInformationVersion
    ...explicit(0x00020002, 'UI', sopClass), // MediaStorageSOPClassUID
    ...explicit(0x00020003, 'UI', '1.2.3.4'), // MediaStorageSOPInstanceUID
    ...(transferSyntax === null ? [] : explicit(0x00020010, 'UI', transferSyntax)), // TransferSyntaxUID
  ];
  const head = [
    ...new Array(128).fill(0),
    ...[0x44, 0x49, 0x43, 0x4d], // 'DICM'
    ...explicit(0x00020000, 'UL', u32(meta.length, true)), // FileMetaInformationGroupLength
    ...meta,
  ];
  const out = new Uint8Array(head.length + dataset.length);
  out.set(head);
  out.set(dataset, head.length);
  return out;
}
