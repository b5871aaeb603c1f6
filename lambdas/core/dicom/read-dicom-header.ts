import { Inflate } from 'fflate';
import { looksLikeVr, startsWith, u16, u32 } from './bytes';
import { convertFields } from './convert-fields';
import { decodeLatin1 } from './decode-text';
import { InvalidDicomError } from './invalid-dicom-error';
import { sniffDatasetEncoding } from './sniff-dataset-encoding';
import { DEFLATED, DICOMDIR_SOP_CLASS, EXPLICIT_BIG, FIELD_BY_TAG, IMPLICIT_LITTLE } from './tags';
import type { CompleteHeader, HeaderResult } from './types';
import { walkDataset, type DatasetEncoding, type RawFields, type WalkOutcome } from './walk-dataset';

const TRANSFER_SYNTAX = FIELD_BY_TAG.get(0x00020010)!;

/** A deflated header this large is not a header; stops a small prefix inflating without bound. */
const MAX_INFLATED_HEADER = 64 * 1024 * 1024;
const INFLATE_SLICE = 16 * 1024;
/** Passed where the meta group's fields are already in the walked map; never written. */
const NO_META_FIELDS: RawFields = new Map();

/**
 * Reads the DICOM header from the first bytes of a file of `fileSize` bytes. Returns the header once the prefix
 * reaches Pixel Data (or the end of the dataset, or past every attribute we read), else how long a prefix to try
 * next. Never returns a partial header: a prefix that is the whole file and still too short throws TRUNCATED.
 * Throws only InvalidDicomError.
 */
export function readDicomHeader(prefix: Uint8Array, fileSize: number): HeaderResult {
  const size = Number.isFinite(fileSize) && fileSize >= prefix.length ? Math.floor(fileSize) : prefix.length;
  if (size === 0) throw new InvalidDicomError('NOT_DICOM', 'the file is empty');
  const probe = Math.min(132, size);
  if (prefix.length < probe) return { status: 'need-more', bytesNeeded: probe };

  let metaStart: number;
  let hasPreamble = false;
  if (startsWith(prefix, 128, 'DICM')) {
    metaStart = 132;
    hasPreamble = true;
  } else if (startsWith(prefix, 0, 'DICM')) {
    metaStart = 4;
  } else if (prefix.length >= 8 && u16(prefix, 0, true) === 0x0002 && looksLikeVr(prefix, 4)) {
    metaStart = 0;
  } else {
    const encoding = sniffDatasetEncoding(prefix, size);
    if (!encoding) throw new InvalidDicomError('NOT_DICOM', 'neither a DICOM Part 10 file nor a DICOM dataset');
    const walked = walkDataset({ bytes: prefix, start: 0, end: size, ...encoding });
    if (walked.kind === 'need') return { status: 'need-more', bytesNeeded: walked.at };
    return complete(walked, new Map(), encoding.littleEndian, { hasPreamble: false, deflated: false, warnings: [], end: size });
  }

  if (prefix.length < Math.min(metaStart + 6, size)) return { status: 'need-more', bytesNeeded: metaStart + 6 };
  const meta = walkDataset({
    bytes: prefix,
    start: metaStart,
    end: size,
    explicit: metaStart + 6 > size || looksLikeVr(prefix, metaStart + 4),
    littleEndian: true,
    onlyGroup: 0x0002,
  });
  if (meta.kind === 'need') return { status: 'need-more', bytesNeeded: meta.at };
  const datasetStart = meta.stop;
  if (declaredMetaEnd(prefix, metaStart) > size || datasetStart === size) {
    // A Part 10 file with no dataset, or shorter than its own meta group length, was cut short.
    throw new InvalidDicomError('TRUNCATED', 'the file ends inside or right after its file meta information');
  }
  const metaRaw = meta.raw;
  const transferSyntax = rawUid(metaRaw, TRANSFER_SYNTAX);
  const warnings: string[] = [];
  if (transferSyntax === undefined) warnings.push('TRANSFER_SYNTAX_MISSING');

  if (transferSyntax === DEFLATED) {
    return readDeflated(prefix, size, datasetStart, metaRaw, { hasPreamble, warnings });
  }

  const encoding: DatasetEncoding = {
    explicit: transferSyntax !== undefined && transferSyntax !== IMPLICIT_LITTLE,
    littleEndian: transferSyntax !== EXPLICIT_BIG,
  };
  // As pydicom and dcmdump do: the first element shows whether the VR really is explicit.
  if (datasetStart + 6 <= size) {
    if (prefix.length < datasetStart + 6) return { status: 'need-more', bytesNeeded: datasetStart + 6 };
    const explicitFound = looksLikeVr(prefix, datasetStart + 4);
    if (explicitFound !== encoding.explicit) {
      warnings.push(explicitFound ? 'EXPLICIT_VR_DESPITE_TRANSFER_SYNTAX' : 'IMPLICIT_VR_DESPITE_TRANSFER_SYNTAX');
      encoding.explicit = explicitFound;
    }
  }
  // The dataset's fields join the meta group's map (a dataset's value replaces the meta group's in its place): no
  // merged copy. A walk that needs more bytes leaves the map behind, since the next attempt walks from the start.
  const walked = walkDataset({ bytes: prefix, start: datasetStart, end: size, ...encoding, into: metaRaw });
  if (walked.kind === 'need') return { status: 'need-more', bytesNeeded: walked.at };
  return complete(walked, NO_META_FIELDS, encoding.littleEndian, { hasPreamble, deflated: false, warnings, end: size });
}

interface Context {
  hasPreamble: boolean;
  deflated: boolean;
  warnings: string[];
  /** The dataset's end (the file size; the inflated size, or Infinity while unknown, when deflated). */
  end: number;
}

function complete(
  walked: Extract<WalkOutcome, { kind: 'done' }>,
  metaRaw: RawFields,
  littleEndian: boolean,
  context: Context,
  headerBytes = walked.stop,
): CompleteHeader {
  const raw: RawFields = metaRaw.size === 0 ? walked.raw : mergedFields(metaRaw, walked.raw);
  const { fields, invalidValues, warnings } = convertFields(raw, littleEndian);
  const header: CompleteHeader = {
    status: 'complete',
    isDicom: true,
    isDicomDir: fields.mediaStorageSopClassUid === DICOMDIR_SOP_CLASS,
    hasPreamble: context.hasPreamble,
    // The commonest cut file, a partial copy, ends inside Pixel Data: its header is whole, the file is not.
    pixelDataTruncated: walked.pixelDataEnd !== undefined && walked.pixelDataEnd > context.end,
    deflated: context.deflated,
    fields,
    invalidValues,
    headerBytes,
    warnings: context.warnings.length === 0 ? warnings : [...context.warnings, ...warnings],
  };
  if (walked.pixelDataOffset !== undefined && !context.deflated) header.pixelDataOffset = walked.pixelDataOffset;
  if (header.pixelDataTruncated) header.warnings.push('PIXEL_DATA_TRUNCATED');
  // An image whose dataset ends without Pixel Data may have been cut at an element boundary: say so.
  if (walked.reachedEnd && walked.pixelDataOffset === undefined && (fields.rows !== undefined || fields.columns !== undefined)) {
    header.warnings.push('PIXEL_DATA_MISSING');
  }
  return header;
}

/** The file meta group's fields, then the dataset's (a dataset's value replaces the meta group's in its place). */
function mergedFields(meta: RawFields, dataset: RawFields): RawFields {
  const merged = new Map(meta);
  for (const [spec, bytes] of dataset) merged.set(spec, bytes);
  return merged;
}

/** Where (0002,0000) FileMetaInformationGroupLength says the meta group ends; 0 when it is absent. */
function declaredMetaEnd(b: Uint8Array, metaStart: number): number {
  if (b.length < metaStart + 12 || u16(b, metaStart, true) !== 0x0002 || u16(b, metaStart + 2, true) !== 0x0000) return 0;
  if (!startsWith(b, metaStart + 4, 'UL') || u16(b, metaStart + 6, true) !== 4) return 0;
  return metaStart + 12 + u32(b, metaStart + 8, true);
}

function rawUid(raw: RawFields, spec: typeof TRANSFER_SYNTAX): string | undefined {
  const bytes = raw.get(spec);
  return bytes === undefined ? undefined : decodeLatin1(bytes).replace(/[\0 ]+$/, '');
}

/**
 * Deflated explicit VR little endian: inflates the compressed part of the prefix slice by slice (fflate streams
 * partial input, as a sync flush would) only as far as the walk needs. headerBytes counts compressed bytes fed.
 */
function readDeflated(
  prefix: Uint8Array,
  size: number,
  datasetStart: number,
  metaRaw: RawFields,
  context: Omit<Context, 'deflated' | 'end'>,
): HeaderResult {
  const compressed = prefix.subarray(datasetStart);
  const wholeFile = prefix.length === size;
  let out = new Uint8Array(Math.max(4096, compressed.length * 4));
  let outLength = 0;
  let finished = false;
  const inflater = new Inflate((chunk, final) => {
    if (outLength + chunk.length > out.length) {
      const grown = new Uint8Array(Math.max(out.length * 2, outLength + chunk.length));
      grown.set(out.subarray(0, outLength));
      out = grown;
    }
    out.set(chunk, outLength);
    outLength += chunk.length;
    if (final) finished = true;
  });
  let fed = 0;
  let target = 64 * 1024;
  for (;;) {
    try {
      while (!finished && outLength < target && fed < compressed.length) {
        const next = Math.min(compressed.length, fed + INFLATE_SLICE);
        inflater.push(compressed.subarray(fed, next), wholeFile && next === compressed.length);
        fed = next;
      }
    } catch (error) {
      const code = (error as { code?: number }).code;
      throw new InvalidDicomError(code === 0 ? 'TRUNCATED' : 'MALFORMED', 'the deflated dataset does not inflate');
    }
    const end = finished ? outLength : Infinity;
    const walked = walkDataset({ bytes: out.subarray(0, outLength), start: 0, end, explicit: true, littleEndian: true });
    if (walked.kind === 'done') {
      return complete(walked, metaRaw, true, { ...context, deflated: true, end }, datasetStart + fed);
    }
    if (walked.at > MAX_INFLATED_HEADER) throw new InvalidDicomError('MALFORMED', 'the deflated header is implausibly large');
    if (!finished && fed < compressed.length) {
      target = Math.max(walked.at, target * 2);
      continue;
    }
    if (wholeFile || finished) throw new InvalidDicomError('TRUNCATED', 'the deflated dataset ends inside the header');
    return { status: 'need-more', bytesNeeded: Math.min(size, Math.max(prefix.length * 2, prefix.length + 64 * 1024)) };
  }
}
