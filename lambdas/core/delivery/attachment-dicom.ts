/**
 * Attachments become DICOM in their study, so a PACS shows them next to the images: a PDF as an
 * Encapsulated PDF, a JPEG or PNG as a Secondary Capture image. Patient and study attributes come from
 * the study's own header (reconciled like its images); UIDs derive from the file id, so delivering
 * the same file again replaces the same instance instead of adding one.
 */
import { PNG } from 'pngjs';
import type { AttachmentType } from '../model';
import type { HeaderFields } from '../dicom/types';
import { deterministicUid } from './deterministic-uid';
import { writePart10, type DicomJsonDataset } from './dicom-writer';
import type { IdentifierChanges } from './reconcile-identifiers';
import { readJpegFrame } from './jpeg-frame';
import { UndeliverableError } from './undeliverable-error';
import { EXPLICIT_LITTLE } from '../dicom/tags';

export const ENCAPSULATED_PDF_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.104.1';
export const SECONDARY_CAPTURE_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.7';
const JPEG_BASELINE = '1.2.840.10008.1.2.4.50';
const JPEG_EXTENDED = '1.2.840.10008.1.2.4.51';
/** A decoded PNG lives in memory as RGBA and then RGB: bound it (25 MP is 100 MB + 75 MB). */
export const MAX_PNG_PIXELS = 25_000_000;

/** What every object of the study shares: its UID, the uploaded header of one of its images, the reconciliation. */
export interface StudyContext {
  sessionId: string;
  studyInstanceUid: string;
  fields: HeaderFields;
  changes: IdentifierChanges;
}

export interface AttachmentInstance {
  sopInstanceUid: string;
  bytes: Uint8Array;
}

/** The Part 10 file of an attachment; throws UndeliverableError for an image a PACS could not show. */
export async function attachmentToDicom(study: StudyContext, fileId: string, type: AttachmentType, content: Uint8Array, createdAt: Date): Promise<AttachmentInstance> {
  const sopInstanceUid = await deterministicUid('attachment', fileId);
  const seriesInstanceUid = await deterministicUid('attachment-series', study.sessionId, study.studyInstanceUid, type === 'pdf' ? 'DOC' : 'OT');
  const seriesKind = type === 'pdf' ? 'DOC' : 'OT';
  const common: DicomJsonDataset = {
    ...patientAndStudy(study),
    ...sopCommon(type === 'pdf' ? ENCAPSULATED_PDF_SOP_CLASS : SECONDARY_CAPTURE_SOP_CLASS, sopInstanceUid),
    '00080060': { vr: 'CS', Value: [seriesKind] },
    '0020000E': { vr: 'UI', Value: [seriesInstanceUid] },
    '00200011': { vr: 'IS', Value: [type === 'pdf' ? 9001 : 9002] },
    '00200013': { vr: 'IS', Value: [instanceNumber(fileId)] },
    '00080064': { vr: 'CS', Value: ['WSD'] },
    '00080070': { vr: 'LO', Value: [] },
    '00080023': { vr: 'DA', Value: [dicomDate(createdAt)] },
    '00080033': { vr: 'TM', Value: [dicomTime(createdAt)] },
  };
  if (type === 'pdf') return { sopInstanceUid, bytes: encapsulatedPdf(common, content) };
  const meta = { sopClassUid: SECONDARY_CAPTURE_SOP_CLASS, sopInstanceUid };
  if (type === 'jpeg') {
    const frame = readJpegFrame(content);
    const dataset = { ...common, ...imagePixel(frame.width, frame.height, frame.components, 'YBR_FULL_422') };
    dataset['7FE00010'] = { vr: 'OB', Value: [evenBuffer(content)] };
    // The JPEG stays byte for byte as uploaded (encapsulated), so nothing is lost to re-compression.
    return { sopInstanceUid, bytes: writePart10({ ...meta, transferSyntaxUid: frame.process === 'baseline' ? JPEG_BASELINE : JPEG_EXTENDED }, dataset) };
  }
  const png = decodePng(content);
  const dataset = { ...common, ...imagePixel(png.width, png.height, 3, 'RGB') };
  dataset['7FE00010'] = { vr: 'OB', Value: [png.rgb.buffer] };
  return { sopInstanceUid, bytes: writePart10({ ...meta, transferSyntaxUid: EXPLICIT_LITTLE }, dataset) };
}

function encapsulatedPdf(common: DicomJsonDataset, pdf: Uint8Array): Uint8Array {
  const sopInstanceUid = common['00080018']!.Value![0] as string;
  return writePart10({ sopClassUid: ENCAPSULATED_PDF_SOP_CLASS, sopInstanceUid, transferSyntaxUid: EXPLICIT_LITTLE }, {
    ...common,
    '0008002A': { vr: 'DT', Value: [] },
    '00280301': { vr: 'CS', Value: ['YES'] },
    '00420010': { vr: 'ST', Value: [] },
    '0040A043': { vr: 'SQ', Value: [] },
    '00420012': { vr: 'LO', Value: ['application/pdf'] },
    // The standard pads an odd-length document with one byte and gives its real length here.
    '00420015': { vr: 'UL', Value: [pdf.length] },
    '00420011': { vr: 'OB', Value: [evenBuffer(pdf)] },
  });
}

/** Patient and study modules from the study's header, with the reconciled identifiers and the original ID kept. */
function patientAndStudy(study: StudyContext): DicomJsonDataset {
  const { fields, changes } = study;
  const text = (value: string | undefined) => (value ? [value] : []);
  const dataset: DicomJsonDataset = {
    '00100010': { vr: 'PN', Value: fields.patientName ? [{ Alphabetic: fields.patientName }] : [] },
    '00100020': { vr: 'LO', Value: text(changes.patientId ?? fields.patientId) },
    '00100030': { vr: 'DA', Value: text(fields.patientBirthDate) },
    '00100040': { vr: 'CS', Value: [] },
    '0020000D': { vr: 'UI', Value: [study.studyInstanceUid] },
    '00080020': { vr: 'DA', Value: text(fields.studyDate) },
    '00080030': { vr: 'TM', Value: [] },
    '00080090': { vr: 'PN', Value: [] },
    '00200010': { vr: 'SH', Value: [] },
    '00080050': { vr: 'SH', Value: text(changes.accessionNumber ?? fields.accessionNumber) },
    '00081030': { vr: 'LO', Value: text(fields.studyDescription) },
  };
  if (changes.issuerOfPatientId) dataset['00100021'] = { vr: 'LO', Value: [changes.issuerOfPatientId] };
  if (changes.patientId !== undefined && fields.patientId) {
    dataset['00101002'] = { vr: 'SQ', Value: [{ '00100020': { vr: 'LO', Value: [fields.patientId] }, '00100022': { vr: 'CS', Value: ['TEXT'] } }] };
  }
  return dataset;
}

function sopCommon(sopClassUid: string, sopInstanceUid: string): DicomJsonDataset {
  return {
    // dcmjs writes text as UTF-8, so say so.
    '00080005': { vr: 'CS', Value: ['ISO_IR 192'] },
    '00080016': { vr: 'UI', Value: [sopClassUid] },
    '00080018': { vr: 'UI', Value: [sopInstanceUid] },
  };
}

function imagePixel(width: number, height: number, samples: number, colour: 'RGB' | 'YBR_FULL_422'): DicomJsonDataset {
  const dataset: DicomJsonDataset = {
    '00280002': { vr: 'US', Value: [samples] },
    '00280004': { vr: 'CS', Value: [samples === 1 ? 'MONOCHROME2' : colour] },
    '00280010': { vr: 'US', Value: [height] },
    '00280011': { vr: 'US', Value: [width] },
    '00280100': { vr: 'US', Value: [8] },
    '00280101': { vr: 'US', Value: [8] },
    '00280102': { vr: 'US', Value: [7] },
    '00280103': { vr: 'US', Value: [0] },
  };
  if (samples > 1) dataset['00280006'] = { vr: 'US', Value: [0] };
  return dataset;
}

/** PNG through pngjs (filters, interlacing, palettes, 1–16 bit depths), flattened to 8-bit RGB. */
function decodePng(content: Uint8Array): { width: number; height: number; rgb: Uint8Array } {
  let png: PNG;
  try {
    png = PNG.sync.read(Buffer.from(content.buffer, content.byteOffset, content.byteLength));
  } catch {
    throw new UndeliverableError('UNSUPPORTED_ATTACHMENT', 'a PNG attachment could not be decoded');
  }
  if (png.width * png.height > MAX_PNG_PIXELS) throw new UndeliverableError('UNSUPPORTED_ATTACHMENT', `a PNG attachment has more than ${MAX_PNG_PIXELS} pixels`);
  const pixels = png.width * png.height;
  const rgb = new Uint8Array(pixels * 3 + ((pixels * 3) % 2));
  for (let i = 0; i < pixels; i++) {
    rgb[i * 3] = png.data[i * 4]!;
    rgb[i * 3 + 1] = png.data[i * 4 + 1]!;
    rgb[i * 3 + 2] = png.data[i * 4 + 2]!;
  }
  return { width: png.width, height: png.height, rgb };
}

function evenBuffer(bytes: Uint8Array): ArrayBuffer {
  const out = new Uint8Array(bytes.length + (bytes.length % 2));
  out.set(bytes);
  return out.buffer;
}

/** A stable Instance Number (IS: at most 12 characters) from the file id. */
function instanceNumber(fileId: string): number {
  let n = 0;
  for (const c of fileId) n = (n * 31 + c.charCodeAt(0)) % 1_000_000;
  return n + 1;
}

function dicomDate(d: Date): string {
  return d.toISOString().slice(0, 10).replaceAll('-', '');
}

function dicomTime(d: Date): string {
  return d.toISOString().slice(11, 19).replaceAll(':', '');
}
