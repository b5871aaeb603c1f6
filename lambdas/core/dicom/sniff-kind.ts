import { startsWith } from './bytes';
import { sniffDatasetEncoding } from './sniff-dataset-encoding';
import type { SniffedKind } from './types';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * What a file is by its first bytes (give it at least 132): DICOM ('DICM' at 128, or a plausible dataset without a
 * preamble), PDF, JPEG, PNG, ZIP, or other. Cheap and never throws; readDicomHeader has the last word on DICOM.
 */
export function sniffKind(prefix: Uint8Array): SniffedKind {
  if (startsWith(prefix, 128, 'DICM') || startsWith(prefix, 0, 'DICM')) return 'dicom';
  if (startsWith(prefix, 0, '%PDF')) return 'pdf';
  if (prefix[0] === 0xff && prefix[1] === 0xd8 && prefix[2] === 0xff) return 'jpeg';
  if (prefix.length >= 8 && PNG_SIGNATURE.every((byte, i) => prefix[i] === byte)) return 'png';
  if (startsWith(prefix, 0, 'PK\x03\x04')) return 'zip';
  if (sniffDatasetEncoding(prefix, Number.MAX_SAFE_INTEGER)) return 'dicom';
  return 'other';
}
