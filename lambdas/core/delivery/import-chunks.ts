/**
 * HealthImaging's import quotas (AWS general reference, "AWS HealthImaging endpoints and quotas"):
 * "Maximum size of each DICOM P10 file in a DICOM import job" 10 GB and "Maximum size of all files in
 * a DICOM import job" 10 GB (neither adjustable), "Maximum number of files in a DICOM import job"
 * 5,000 (adjustable). A study is imported in as many jobs (chunks) as these allow. GB is read as
 * 10^9 bytes, the smaller reading, so no chunk can exceed the quota whichever AWS means.
 */
import type { DeliveryObject } from '../ports/delivery-target';

/** 10 GB, decimal: the per-file and the per-job quota. */
export const HEALTHIMAGING_MAX_FILE_BYTES = 10 * 1000 ** 3;
export const HEALTHIMAGING_MAX_JOB_BYTES = 10 * 1000 ** 3;
/** The quota's default; `delivery.maxFilesPerImportJob` follows a raised quota. */
export const DEFAULT_MAX_FILES_PER_IMPORT_JOB = 5000;
/**
 * Reconciling a header (Other Patient IDs Sequence) or wrapping an attachment as DICOM makes the
 * staged file a little larger than the uploaded one: each file counts this much more toward a job.
 */
export const STAGED_GROWTH_BYTES = 64 * 1024;

export interface ChunkLimits {
  maxFiles: number;
  maxBytes: number;
}

/**
 * Splits a study's importable objects into chunks within the limits. Ordered by fileId, so a
 * redelivery of the same accepted study gets the same chunks (chunk k keeps its prefix and token).
 * One pass over the objects: linear in the files.
 */
export function importChunks(objects: readonly DeliveryObject[], limits: ChunkLimits): DeliveryObject[][] {
  const sorted = [...objects].sort((a, b) => (a.fileId < b.fileId ? -1 : a.fileId > b.fileId ? 1 : 0));
  const chunks: DeliveryObject[][] = [];
  let current: DeliveryObject[] = [];
  let bytes = 0;
  for (const object of sorted) {
    const size = object.size + STAGED_GROWTH_BYTES;
    if (current.length > 0 && (current.length >= limits.maxFiles || bytes + size > limits.maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(object);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
