/**
 * Real attachment bytes and real studies for the delivery tests: a JPEG taken out of a corpus file
 * (dcmtk's baseline JPEG), a PNG written by pngjs, and the corpus's 11-image MR study.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { readDicomHeader } from '../lambdas/core/dicom';
import type { DeliveryObject } from '../lambdas/core/ports/delivery-target';
import { CORPUS_ROOT, readOracle } from './corpus';

export function corpusFile(file: string): Uint8Array {
  return new Uint8Array(readFileSync(join(CORPUS_ROOT, 'pydicom', file)));
}

/** The JPEG inside SC_rgb_jpeg_dcmtk.dcm's second pixel data item (the first is the offset table). */
export function realJpeg(): Uint8Array {
  const file = corpusFile('test_files/SC_rgb_jpeg_dcmtk.dcm');
  const header = readDicomHeader(file, file.length);
  if (header.status !== 'complete' || header.pixelDataOffset === undefined) throw new Error('corpus JPEG file unreadable');
  const view = new DataView(file.buffer, file.byteOffset);
  let pos = header.pixelDataOffset + 12;
  pos += 8 + view.getUint32(pos + 4, true); // skip the Basic Offset Table item
  const length = view.getUint32(pos + 4, true);
  let jpeg = file.subarray(pos + 8, pos + 8 + length);
  // An odd JPEG is padded to even length after its EOI marker.
  while (!(jpeg[jpeg.length - 2] === 0xff && jpeg[jpeg.length - 1] === 0xd9)) jpeg = jpeg.subarray(0, jpeg.length - 1);
  return jpeg;
}

/** A 7×5 RGB gradient PNG. */
export function realPng(): Uint8Array {
  const png = new PNG({ width: 7, height: 5 });
  for (let i = 0; i < 35; i++) png.data.set([i * 7, 255 - i * 7, 128, 255], i * 4);
  return new Uint8Array(PNG.sync.write(png));
}

/** A small but well-formed PDF. */
export function realPdf(text = 'report'): Uint8Array {
  return new TextEncoder().encode(`%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n% ${text}\ntrailer << /Root 1 0 R >>\n%%EOF\n`);
}

/** The corpus's MR study of 11 images (Patient ID 98890234, Accession Number 2). */
export const MR_STUDY_UID = '1.3.6.1.4.1.5962.1.1.0.0.0.1196533885.18148.0.1';

export function mrStudyFiles(): { file: string; sopInstanceUid: string; bytes: Uint8Array }[] {
  return readOracle()
    .filter((e) => e.kind === 'dicom-part10' && e.attributes.StudyInstanceUID === MR_STUDY_UID)
    .map((e) => ({ file: e.file, sopInstanceUid: String(e.attributes.SOPInstanceUID), bytes: corpusFile(e.file) }));
}

/** Delivery objects for files stored under sessions/{sessionId}/files/{fileId}. */
export function deliveryObject(sessionId: string, fileId: string, bytes: Uint8Array, extra: Partial<DeliveryObject>): DeliveryObject {
  return { key: `sessions/${sessionId}/files/${fileId}`, fileId, size: bytes.length, kind: 'dicom', ...extra };
}
