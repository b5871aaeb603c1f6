import { u16 } from './bytes';
import { charsetsFor, decodeLatin1, decodeText } from './decode-text';
import type { FieldSpec } from './tags';
import type { HeaderFields, NumericField } from './types';

const BACKSLASH = 0x5c;
const EQUALS = 0x3d;
const CARET = 0x5e;
const NAME_DELIMITERS = [CARET];
const TEXT_DELIMITERS = [0x0d, 0x0a, 0x09, 0x0c];

export interface ConvertedFields {
  fields: HeaderFields;
  invalidValues: Partial<Record<NumericField, string>>;
  warnings: string[];
}

/** Turns the raw bytes of the attributes we read into values, the way pydicom 2.3 presents them. */
export function convertFields(raw: Map<FieldSpec, Uint8Array>, littleEndian: boolean, inheritedCharacterSet?: string): ConvertedFields {
  const fields: HeaderFields = {};
  const invalidValues: Partial<Record<NumericField, string>> = {};
  const warnings: string[] = [];
  let charsets: string[] | undefined;
  for (const [spec, bytes] of raw) {
    if (spec.field === 'specificCharacterSet') charsets = charsetsFor(stripTrailing(decodeLatin1(bytes)));
  }
  charsets ??= charsetsFor(inheritedCharacterSet);
  for (const [spec, bytes] of raw) {
    switch (spec.kind) {
      case 'UI':
      case 'CS':
      case 'DA':
        setString(fields, spec.field, stripTrailing(decodeLatin1(bytes)));
        break;
      case 'LO':
      case 'SH':
        setString(fields, spec.field, splitValues(bytes).map((value) => stripTrailing(decodeText(value, charsets, TEXT_DELIMITERS))).join('\\'));
        break;
      case 'PN':
        setString(fields, spec.field, decodePersonName(bytes, charsets));
        break;
      case 'IS': {
        const text = stripTrailing(decodeLatin1(bytes));
        const field = spec.field as NumericField;
        if (/^\s*[+-]?\d+\s*$/.test(text)) fields[field] = Number.parseInt(text, 10);
        else {
          invalidValues[field] = text;
          warnings.push(`INVALID_IS:${field}`);
        }
        break;
      }
      case 'US': {
        const field = spec.field as NumericField;
        if (bytes.length === 2) fields[field] = u16(bytes, 0, littleEndian);
        else {
          invalidValues[field] = bytes.length === 0 ? '' : Array.from({ length: bytes.length >> 1 }, (_, i) => u16(bytes, i * 2, littleEndian)).join('\\');
          warnings.push(`INVALID_US:${field}`);
        }
        break;
      }
    }
  }
  return { fields, invalidValues, warnings };
}

function setString(fields: HeaderFields, field: keyof HeaderFields, value: string): void {
  (fields as Record<string, string>)[field] = value;
}

/** pydicom's MultiString: drop trailing spaces and NULs (padding). */
function stripTrailing(text: string): string {
  let end = text.length;
  while (end > 0 && (text.charCodeAt(end - 1) === 0x20 || text.charCodeAt(end - 1) === 0)) end--;
  return end === text.length ? text : text.slice(0, end);
}

function splitValues(bytes: Uint8Array): Uint8Array[] {
  const values: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === BACKSLASH) {
      values.push(bytes.subarray(start, i));
      start = i + 1;
    }
  }
  values.push(bytes.subarray(start));
  return values;
}

/** pydicom's PN: one trailing pad byte dropped, values split at '\', groups at '=', empty trailing groups dropped. */
function decodePersonName(bytes: Uint8Array, charsets: string[]): string {
  const last = bytes[bytes.length - 1];
  const trimmed = last === 0x20 || last === 0 ? bytes.subarray(0, bytes.length - 1) : bytes;
  return splitValues(trimmed)
    .map((value) => {
      const groups: string[] = [];
      let start = 0;
      for (let i = 0; i <= value.length; i++) {
        if (i === value.length || value[i] === EQUALS) {
          groups.push(decodeText(value.subarray(start, i), charsets, NAME_DELIMITERS));
          start = i + 1;
        }
      }
      while (groups.length > 0 && groups[groups.length - 1] === '') groups.pop();
      return groups.join('=');
    })
    .join('\\');
}
