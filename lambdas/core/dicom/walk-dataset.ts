import { looksLikeVr, readTag, u16, u32 } from './bytes';
import { InvalidDicomError } from './invalid-dicom-error';
import {
  DOUBLE_PIXEL_DATA,
  FIELD_BY_TAG,
  FLOAT_PIXEL_DATA,
  hasLongLength,
  ITEM,
  ITEM_DELIMITER,
  LAST_FIELD_TAG,
  PIXEL_DATA,
  SEQUENCE_DELIMITER,
  UNDEFINED_LENGTH,
  VR_UN,
  type FieldSpec,
} from './tags';

/** Raw value bytes of the attributes we read (views into the input, never copies). */
export type RawFields = Map<FieldSpec, Uint8Array>;

export interface DatasetEncoding {
  explicit: boolean;
  littleEndian: boolean;
}

export interface WalkInput extends DatasetEncoding {
  bytes: Uint8Array;
  /** Where the fields found go: a new map unless given (the file meta group's, which the dataset's values then extend). */
  into?: RawFields;
  start: number;
  /** Where the dataset ends: the file size, the inflated size, or Infinity while a deflate stream is unfinished. */
  end: number;
  /** Stop at the first group other than this one (the file meta group, 0x0002); -1 for a whole dataset. */
  onlyGroup?: number;
}

export type WalkOutcome =
  | {
      kind: 'done';
      raw: RawFields;
      stop: number;
      pixelDataOffset?: number;
      /** Where a defined-length Pixel Data value ends; beyond the dataset's end means the file was cut. */
      pixelDataEnd?: number;
      /** The dataset's end was reached. */
      reachedEnd?: boolean;
    }
  | { kind: 'need'; at: number };

/** Thrown inside the walk when a position beyond the available bytes (but inside the dataset) must be read. */
class NeedBytes {
  constructor(readonly at: number) {}
}

/** Nesting we accept in undefined-length sequences; real files use a handful of levels. */
const MAX_DEPTH = 256;
const SEQ = 0;
const ITEM_EXPLICIT = 1;
const ITEM_IMPLICIT = 2;
const ITEM_UNSNIFFED = 3;

/**
 * Walks top-level elements from `start`, keeping the raw bytes of the tags in FIELD_BY_TAG and skipping everything
 * else by its length, until Pixel Data, the end of the dataset, or (with onlyGroup) the end of that group.
 * Once every tag we read has been passed, running out of bytes or meeting garbage ends the walk instead of asking
 * for more: nothing later can change a field. Every step moves forward by at least 8 bytes, so it always ends.
 */
export function walkDataset(input: WalkInput): WalkOutcome {
  const { bytes: b, end, littleEndian: le, explicit } = input;
  const onlyGroup = input.onlyGroup ?? -1;
  const raw: RawFields = input.into ?? new Map();
  let passedFields = false;
  let firstPastFieldsEnd = 0;

  const need = (at: number): void => {
    if (at > end) throw new InvalidDicomError('TRUNCATED', 'the file ends inside the DICOM header');
    if (at > b.length) throw new NeedBytes(at);
  };

  let pos = input.start;
  try {
    for (;;) {
      // The dataset may end right after a value we skipped without reading it: count only bytes we had.
      if (pos === end) return { kind: 'done', raw, stop: Math.min(pos, b.length), reachedEnd: true };
      if (onlyGroup >= 0) {
        need(pos + 2);
        if (u16(b, pos, le) !== onlyGroup) return { kind: 'done', raw, stop: pos };
      }
      need(pos + 8);
      const tag = readTag(b, pos, le);
      // readElementHeader, inlined: this loop runs for every element of every file, mostly before the JIT has warmed up.
      const vr = explicit ? (b[pos + 4]! << 8) | b[pos + 5]! : 0;
      const long = explicit && hasLongLength(vr);
      if (long) need(pos + 12);
      const header = long ? 12 : 8;
      const length = !explicit ? u32(b, pos + 4, le) : long ? u32(b, pos + 8, le) : u16(b, pos + 6, le);
      if (onlyGroup < 0 && (tag === PIXEL_DATA || tag === FLOAT_PIXEL_DATA || tag === DOUBLE_PIXEL_DATA)) {
        const pixelDataEnd = length === UNDEFINED_LENGTH ? undefined : pos + header + length;
        return { kind: 'done', raw, stop: pos + header, pixelDataOffset: pos, pixelDataEnd };
      }
      if (!passedFields && tag > LAST_FIELD_TAG) {
        passedFields = true;
        firstPastFieldsEnd = pos + header;
      }
      if (tag >= ITEM && onlyGroup < 0) {
        throw new InvalidDicomError('MALFORMED', 'an item delimiter outside any sequence');
      }
      if (length === UNDEFINED_LENGTH) {
        pos = skipUndefinedLength(b, pos + header, explicit && vr !== VR_UN, le, need);
        continue;
      }
      const valueEnd = pos + header + length;
      if (!passedFields) {
        const spec = FIELD_BY_TAG.get(tag);
        if (spec) {
          need(valueEnd);
          raw.set(spec, b.subarray(pos + header, valueEnd));
        }
      }
      pos = valueEnd;
    }
  } catch (error) {
    if (passedFields && onlyGroup < 0) return { kind: 'done', raw, stop: firstPastFieldsEnd };
    if (error instanceof NeedBytes) return { kind: 'need', at: error.at };
    throw error;
  }
}

/**
 * Skips an undefined-length value (a sequence, or encapsulated fragments) starting at its first item, and returns
 * the position after its sequence delimiter. Items of undefined length are walked element by element; each one's
 * first element decides explicit or implicit VR, as pydicom does. UN of undefined length holds implicit VR.
 */
export function skipUndefinedLength(
  b: Uint8Array,
  start: number,
  explicit: boolean,
  le: boolean,
  need: (at: number) => void,
): number {
  const stack: number[] = [SEQ];
  const sequenceExplicitStack: boolean[] = [explicit];
  let pos = start;
  let sequenceExplicit = explicit;
  while (stack.length > 0) {
    need(pos + 8);
    const tag = readTag(b, pos, le);
    const top = stack[stack.length - 1]!;
    if (top === SEQ) {
      if (tag === ITEM) {
        const length = u32(b, pos + 4, le);
        pos += 8;
        if (length === UNDEFINED_LENGTH) {
          // Like pydicom: items of an implicit sequence stay implicit; items of an explicit one may turn out implicit.
          stack.push(sequenceExplicit ? ITEM_UNSNIFFED : ITEM_IMPLICIT);
        } else {
          pos += length;
        }
      } else if (tag === SEQUENCE_DELIMITER) {
        stack.pop();
        sequenceExplicitStack.pop();
        pos += 8;
        sequenceExplicit = sequenceExplicitStack[sequenceExplicitStack.length - 1] ?? explicit;
      } else {
        throw new InvalidDicomError('MALFORMED', 'a sequence holds something other than items');
      }
    } else {
      if (tag === ITEM_DELIMITER) {
        stack.pop();
        pos += 8;
        continue;
      }
      if (tag === ITEM || tag === SEQUENCE_DELIMITER) {
        throw new InvalidDicomError('MALFORMED', 'an item ends without its delimiter');
      }
      let inItemExplicit: boolean;
      if (top === ITEM_UNSNIFFED) {
        inItemExplicit = looksLikeVr(b, pos + 4);
        stack[stack.length - 1] = inItemExplicit ? ITEM_EXPLICIT : ITEM_IMPLICIT;
      } else {
        inItemExplicit = top === ITEM_EXPLICIT;
      }
      const { vr, length, header } = readElementHeader(b, pos, inItemExplicit, le, need);
      pos += header;
      if (length === UNDEFINED_LENGTH) {
        if (stack.length >= MAX_DEPTH) throw new InvalidDicomError('MALFORMED', 'sequences nested too deeply');
        sequenceExplicit = inItemExplicit && vr !== VR_UN;
        stack.push(SEQ);
        sequenceExplicitStack.push(sequenceExplicit);
      } else {
        pos += length;
      }
    }
  }
  return pos;
}

/**
 * The VR (0 in implicit VR), value length and header size of the element at `pos`; its first
 * 8 bytes must already be there. The 4-byte length of OB/OW/SQ/UN… asks for 12.
 */
export function readElementHeader(b: Uint8Array, pos: number, explicit: boolean, le: boolean, need: (at: number) => void): { vr: number; length: number; header: number } {
  if (!explicit) return { vr: 0, length: u32(b, pos + 4, le), header: 8 };
  const vr = (b[pos + 4]! << 8) | b[pos + 5]!;
  if (!hasLongLength(vr)) return { vr, length: u16(b, pos + 6, le), header: 8 };
  need(pos + 12);
  return { vr, length: u32(b, pos + 8, le), header: 12 };
}
