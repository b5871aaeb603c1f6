import { UndeliverableError } from './undeliverable-error';

export interface JpegFrame {
  width: number;
  height: number;
  components: number;
  /** Which DICOM transfer syntax can carry the JPEG as it is: baseline (SOF0) or extended (SOF1, 8-bit). */
  process: 'baseline' | 'extended';
}

/**
 * Reads the frame header (SOF) of a JPEG. Only what DICOM's JPEG transfer syntaxes still carry and
 * PACS viewers decode is accepted: baseline and 8-bit extended sequential. Progressive, lossless or
 * 12-bit JPEGs are refused with a reason rather than re-compressed.
 */
export function readJpegFrame(jpeg: Uint8Array): JpegFrame {
  const refuse = (why: string) => new UndeliverableError('UNSUPPORTED_ATTACHMENT', `a JPEG attachment ${why}`);
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw refuse('does not start with a JPEG marker');
  let pos = 2;
  while (pos + 4 <= jpeg.length) {
    if (jpeg[pos] !== 0xff) throw refuse('has a malformed marker segment');
    const marker = jpeg[pos + 1]!;
    if (marker === 0xff) {
      pos++;
      continue;
    }
    const length = (jpeg[pos + 2]! << 8) | jpeg[pos + 3]!;
    if (marker === 0xc0 || marker === 0xc1) {
      if (pos + 10 > jpeg.length) break;
      const precision = jpeg[pos + 4]!;
      const height = (jpeg[pos + 5]! << 8) | jpeg[pos + 6]!;
      const width = (jpeg[pos + 7]! << 8) | jpeg[pos + 8]!;
      const components = jpeg[pos + 9]!;
      if (precision !== 8) throw refuse('is not 8-bit');
      if (width === 0 || height === 0 || (components !== 1 && components !== 3)) throw refuse('has an unsupported frame');
      return { width, height, components, process: marker === 0xc0 ? 'baseline' : 'extended' };
    }
    if (marker >= 0xc2 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      throw refuse('is progressive, lossless or arithmetic-coded, which DICOM viewers do not decode');
    }
    if (marker === 0xda || marker === 0xd9) break;
    pos += 2 + length;
  }
  throw refuse('has no frame header');
}
