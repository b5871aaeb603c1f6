import { u16 } from './bytes';
import { charsetsFor, decodeLatin1, decodeText } from './decode-text';
import { FIELD_BY_TAG, type FieldSpec } from './tags';
import type { HeaderFields, NumericField } from './types';

const BACKSLASH = 0x5c;
const EQUALS = 0x3d;
const CARET = 0x5e;
const NAME_DELIMITERS = [CARET];
const TEXT_DELIMITERS = [0x0d, 0x0a, 0x09, 0x0c];
const SPECIFIC_CHARACTER_SET = FIELD_BY_TAG.get(0x00080005)!;

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
  const characterSet = raw.get(SPECIFIC_CHARACTER_SET);
  const charsets = charsetsFor(characterSet === undefined ? inheritedCharacterSet : stripTrailing(decodeLatin1(characterSet)));
  for (const [spec, bytes] of raw) {
    switch (spec.kind) {
      case 'UI':
      case 'CS':
      case 'DA':
        setString(fields, spec.field, stripTrailing(decodeLatin1(bytes)));
        break;
      case 'LO':
      case 'SH':
        setString(fields, spec.field, decodeTextValues(bytes, charsets));
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

/** LO and SH: each value (split at '\\') decoded with the charsets, its padding dropped. */
function decodeTextValues(bytes: Uint8Array, charsets: string[]): string {
  let out = '';
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === BACKSLASH) {
      if (start > 0) out += '\\';
      out += stripTrailing(decodeText(bytes.subarray(start, i), charsets, TEXT_DELIMITERS));
      start = i + 1;
    }
  }
  return out;
}

/**
 * pydicom's PN: one trailing pad byte dropped, values split at '\\', groups at '=', empty trailing groups dropped.
 * Plain loops rather than split/map/join: this runs for every file, and the compiled code stays small and stable.
 */
function decodePersonName(bytes: Uint8Array, charsets: string[]): string {
  const last = bytes[bytes.length - 1];
  const trimmed = last === 0x20 || last === 0 ? bytes.subarray(0, bytes.length - 1) : bytes;
  let out = '';
  let start = 0;
  for (let i = 0; i <= trimmed.length; i++) {
    if (i === trimmed.length || trimmed[i] === BACKSLASH) {
      if (start > 0) out += '\\';
      out += personNameValue(trimmed.subarray(start, i), charsets);
      start = i + 1;
    }
  }
  return out;
}

/** One PN value: its groups (split at '=') decoded and joined, without the empty groups at its end. */
function personNameValue(value: Uint8Array, charsets: string[]): string {
  let joined = '';
  let upToLastNonEmpty = '';
  let start = 0;
  for (let i = 0; i <= value.length; i++) {
    if (i === value.length || value[i] === EQUALS) {
      const group = decodeText(value.subarray(start, i), charsets, NAME_DELIMITERS);
      joined = start === 0 ? group : `${joined}=${group}`;
      if (group !== '') upToLastNonEmpty = joined;
      start = i + 1;
    }
  }
  return upToLastNonEmpty;
}
