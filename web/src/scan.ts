/**
 * Decides what a picked file is (DICOM image, DICOMDIR, attachment, ZIP, unsupported) from its
 * first bytes, with the same header reader as the inspector. Runs inside the header worker; pure
 * apart from the read function it is given, so Node tests use it on real files too.
 */
import { part10Refusal, readHeaderFrom, sniffKind } from '../../lambdas/core/dicom';
import type { AttachmentType } from '../../lambdas/core/model';
import type { DicomInfo, SkipReason } from './selection';
import { blobReader, entryDataStart, entryReader, listZipEntries, type ReadFn, type ZipEntry } from './zip';

export type ScanResult =
  | { kind: 'dicom'; dicom: DicomInfo }
  | { kind: 'dicomdir' }
  | { kind: 'attachment'; attachmentType: AttachmentType; contentType: string }
  | { kind: 'zip' }
  | { kind: 'skip'; reason: SkipReason };

/** The first read: enough to sniff the kind and, for most DICOM files, to hold the whole header. */
const HEADER_CHUNK = 16 * 1024;

export const contentTypes: Record<AttachmentType, string> = {
  pdf: 'application/pdf',
  jpeg: 'image/jpeg',
  png: 'image/png',
};

/** Classifies one file or entry; never throws (a broken file is a skip with a reason). */
export async function classify(read: ReadFn, size: number): Promise<ScanResult> {
  try {
    const prefix = await read(0, Math.min(size, HEADER_CHUNK));
    const kind = sniffKind(prefix);
    if (kind === 'pdf' || kind === 'jpeg' || kind === 'png') {
      return { kind: 'attachment', attachmentType: kind, contentType: contentTypes[kind] };
    }
    if (kind === 'zip') return { kind: 'zip' };
    if (kind !== 'dicom') return { kind: 'skip', reason: 'unsupported' };
    // Reads within the first chunk are served from it: one file read per typical header.
    const cached: ReadFn = (start, end) => (end <= prefix.length ? Promise.resolve(prefix.subarray(start, end)) : read(start, end));
    const header = await readHeaderFrom(cached, size, HEADER_CHUNK);
    // The inspector refuses these too; saying so before upload spares the whole session a rejection.
    const refusal = part10Refusal(prefix, header);
    if (refusal) return { kind: 'skip', reason: refusal };
    if (header.isDicomDir) return { kind: 'dicomdir' };
    if (!header.isDicom) return { kind: 'skip', reason: 'unsupported' };
    const f = header.fields;
    // The API only takes files it can place: a valid study and image UID.
    if (!isUid(f.studyInstanceUid) || !isUid(f.sopInstanceUid)) return { kind: 'skip', reason: 'no-study' };
    return {
      kind: 'dicom',
      dicom: {
        studyInstanceUid: f.studyInstanceUid,
        sopInstanceUid: f.sopInstanceUid,
        seriesInstanceUid: f.seriesInstanceUid || undefined,
        modality: f.modality || undefined,
        patientId: f.patientId || undefined,
        patientName: f.patientName || undefined,
        patientBirthDate: f.patientBirthDate || undefined,
        studyDate: f.studyDate || undefined,
        accessionNumber: f.accessionNumber || undefined,
        studyDescription: f.studyDescription || undefined,
      },
    };
  } catch {
    return { kind: 'skip', reason: 'unreadable' };
  }
}

/** A DICOM UID as the API accepts it (PS3.5 §9.1): digits and dots, at most 64 characters. */
export function isUid(value: string | undefined): value is string {
  return value !== undefined && value.length <= 64 && /^[0-9]+(\.[0-9]+)*$/.test(value);
}

export interface ZipEntryScan {
  entry: ZipEntry;
  dataStart: number;
  result: ScanResult;
}

/** Lists a ZIP and classifies each entry in turn, inflating only each entry's header prefix. */
export async function* scanZip(archive: Blob): AsyncGenerator<ZipEntryScan> {
  const read = blobReader(archive);
  const entries = await listZipEntries(read, archive.size);
  for (const entry of entries) {
    let dataStart = 0;
    let result: ScanResult;
    try {
      dataStart = await entryDataStart(read, entry);
      result = await classify(entryReader(read, entry, dataStart), entry.size);
      // A ZIP inside a ZIP is not opened: memory would no longer be bounded.
      if (result.kind === 'zip') result = { kind: 'skip', reason: 'unsupported' };
    } catch {
      result = { kind: 'skip', reason: 'unreadable' };
    }
    yield { entry, dataStart, result };
  }
}

/**
 * Classifies many files with a few reads in flight, handing results over in batches (so the page
 * re-renders a few times, not once per file). Every job gets exactly one result.
 */
export async function classifyAll(
  jobs: readonly { id: string; blob: Blob }[],
  onResults: (results: { id: string; result: ScanResult }[]) => void,
  options: { readsInFlight?: number; batchSize?: number } = {},
): Promise<void> {
  const batchSize = options.batchSize ?? 100;
  let pending: { id: string; result: ScanResult }[] = [];
  let next = 0;
  const flush = () => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    onResults(batch);
  };
  const lane = async () => {
    while (next < jobs.length) {
      const job = jobs[next++]!;
      // Await first: `pending` is replaced on flush, so it must be read after the await.
      const result = await classify(blobReader(job.blob), job.blob.size);
      pending.push({ id: job.id, result });
      if (pending.length >= batchSize) flush();
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.readsInFlight ?? 8, jobs.length) }, lane));
  flush();
}
