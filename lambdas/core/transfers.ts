/**
 * How a declared file travels to the bucket: one presigned PUT, or a multipart upload of parts of a
 * fixed size. Every write is pinned to the declared bytes (length and SHA-256), never replaces an
 * object (If-None-Match: *), and carries a Content-Type the server chose from the declared kind.
 */
import type { AttachmentType, FileKind, Limits } from './model';

/** Base64 of a SHA-256 digest: 43 characters and one `=`. */
export const SHA256_BASE64_PATTERN = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

/** S3's and Uppy's threshold: below it one PUT is as fast and simpler; above it a part is what a drop costs. */
export const DEFAULT_MULTIPART_THRESHOLD_BYTES = 100 * 1024 * 1024;
/** S3's limits for multipart uploads. */
export const MIN_PART_BYTES = 5 * 1024 * 1024;
export const MAX_PARTS = 10_000;
/** The part size we aim for: few enough requests, little to resend after a drop (see README). */
export const PREFERRED_PART_BYTES = 16 * 1024 * 1024;
/** Part URLs one request may ask for: 100 × 16 MiB is 1.6 GB ahead, signed in well under a second. */
export const MAX_PARTS_PER_REQUEST = 100;

const CONTENT_TYPES: Record<AttachmentType, string> = { pdf: 'application/pdf', jpeg: 'image/jpeg', png: 'image/png' };

/**
 * The Content-Type an upload is signed with. Never the uploader's claim: DICOM is application/dicom,
 * an attachment the type its declaration resolved to (the inspector's magic bytes must agree), and
 * anything else bytes to download, never a type a browser would render.
 */
export function uploadContentType(file: { kind: FileKind; attachmentType?: AttachmentType }): string {
  if (file.kind === 'dicom') return 'application/dicom';
  return file.attachmentType ? CONTENT_TYPES[file.attachmentType] : 'application/octet-stream';
}

export function multipartThreshold(limits: Pick<Limits, 'multipartThresholdBytes'>): number {
  return limits.multipartThresholdBytes ?? DEFAULT_MULTIPART_THRESHOLD_BYTES;
}

export interface PartPlan {
  partSize: number;
  partCount: number;
}

/** Parts of PREFERRED_PART_BYTES, larger (in whole MiB) when a file would otherwise need more than MAX_PARTS. */
export function planParts(size: number): PartPlan {
  const mib = 1024 * 1024;
  const partSize = Math.max(PREFERRED_PART_BYTES, Math.ceil(size / MAX_PARTS / mib) * mib);
  return { partSize, partCount: Math.max(1, Math.ceil(size / partSize)) };
}

/** The exact size of part `partNumber` (1-based) of a file of `size` bytes. */
export function partSizeOf(plan: PartPlan, size: number, partNumber: number): number {
  return partNumber < plan.partCount ? plan.partSize : size - plan.partSize * (plan.partCount - 1);
}

/** A declared part that is not part of the plan: why, for the 400. */
export function partProblem(plan: PartPlan, size: number, part: { partNumber: number; size: number }): string | undefined {
  if (!Number.isInteger(part.partNumber) || part.partNumber < 1 || part.partNumber > plan.partCount) return `partNumber must be 1–${plan.partCount}`;
  const expected = partSizeOf(plan, size, part.partNumber);
  if (part.size !== expected) return `part ${part.partNumber} must be ${expected} bytes`;
  return undefined;
}

/** The multipart upload a file travels by: S3's upload id and the plan the client follows. */
export interface MultipartTransfer extends PartPlan {
  uploadId: string;
}
