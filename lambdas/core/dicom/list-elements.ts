import { readTag } from './bytes';
import { InvalidDicomError } from './invalid-dicom-error';
import { ITEM, UNDEFINED_LENGTH, VR_UN } from './tags';
import { readElementHeader, skipUndefinedLength, type DatasetEncoding } from './walk-dataset';

/** One top-level element's place in the bytes: [start, end), its value from start + header. */
export interface ElementSpan {
  tag: number;
  start: number;
  end: number;
  header: number;
  undefinedLength: boolean;
}

export type ListOutcome = { kind: 'done'; elements: ElementSpan[]; stop: number } | { kind: 'need'; at: number };

/**
 * Lists the top-level elements from `start` until one whose tag is above `untilTagAbove` (its start is
 * `stop`), the end of the dataset, or an item tag. Asks for more bytes when the prefix ends first.
 */
export function listElements(bytes: Uint8Array, start: number, end: number, encoding: DatasetEncoding, untilTagAbove: number): ListOutcome {
  const elements: ElementSpan[] = [];
  const { explicit, littleEndian: le } = encoding;
  const need = (at: number): void => {
    if (at > end) throw new InvalidDicomError('TRUNCATED', 'the file ends inside the DICOM header');
    if (at > bytes.length) throw new NeedMore(at);
  };
  let pos = start;
  try {
    while (pos < end) {
      need(pos + 8);
      const tag = readTag(bytes, pos, le);
      if (tag > untilTagAbove || tag >= ITEM) break;
      const { vr, length, header } = readElementHeader(bytes, pos, explicit, le, need);
      const undefinedLength = length === UNDEFINED_LENGTH;
      const elementEnd = undefinedLength ? skipUndefinedLength(bytes, pos + header, explicit && vr !== VR_UN, le, need) : pos + header + length;
      need(elementEnd);
      elements.push({ tag, start: pos, end: elementEnd, header, undefinedLength });
      pos = elementEnd;
    }
    return { kind: 'done', elements, stop: Math.min(pos, end) };
  } catch (error) {
    if (error instanceof NeedMore) return { kind: 'need', at: error.at };
    throw error;
  }
}

class NeedMore {
  constructor(readonly at: number) {}
}
