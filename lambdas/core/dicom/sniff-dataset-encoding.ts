import { looksLikeVr, u16, u32 } from './bytes';
import { hasLongLength, isKnownVr } from './tags';
import type { DatasetEncoding } from './walk-dataset';

/** A dataset without a preamble starts with a low, even group: the meta group (0002) or, nearly always, 0008. */
function plausibleFirstGroup(group: number): boolean {
  return group >= 0x0002 && group <= 0x0028 && (group & 1) === 0;
}

/**
 * Guesses how a dataset with no preamble and no 'DICM' is encoded from its first element (and its second, when the
 * bytes are there): little endian implicit VR, or explicit VR in either byte order. Null when it does not look like
 * a dataset at all.
 */
export function sniffDatasetEncoding(b: Uint8Array, fileSize: number): DatasetEncoding | null {
  if (b.length < 8) return null;
  const candidates: DatasetEncoding[] = [];
  const explicitVr = looksLikeVr(b, 4) && isKnownVr((b[4]! << 8) | b[5]!);
  if (plausibleFirstGroup(u16(b, 0, true))) candidates.push({ explicit: explicitVr, littleEndian: true });
  if (explicitVr && plausibleFirstGroup(u16(b, 0, false))) candidates.push({ explicit: true, littleEndian: false });
  return candidates.find((encoding) => firstElementsFit(b, fileSize, encoding)) ?? null;
}

function firstElementsFit(b: Uint8Array, fileSize: number, { explicit, littleEndian: le }: DatasetEncoding): boolean {
  let previousTag = -1;
  let pos = 0;
  for (let n = 0; n < 2 && pos + 12 <= b.length; n++) {
    const tag = u16(b, pos, le) * 0x10000 + u16(b, pos + 2, le);
    if (tag <= previousTag) return false;
    let length: number;
    let header = 8;
    if (explicit) {
      const vr = (b[pos + 4]! << 8) | b[pos + 5]!;
      if (n > 0 && !isKnownVr(vr)) return false;
      if (hasLongLength(vr)) {
        length = u32(b, pos + 8, le);
        header = 12;
      } else length = u16(b, pos + 6, le);
    } else length = u32(b, pos + 4, le);
    if (length === 0xffffffff) return true;
    pos += header + length;
    if (pos > fileSize) return false;
    previousTag = tag;
  }
  return true;
}
