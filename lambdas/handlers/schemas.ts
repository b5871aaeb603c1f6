/**
 * Request schemas at the edge (zod, strict): anything that does not match is a 400 before any use
 * case runs. Limits here are about well-formedness (sizes ≤ 10 GB, ≤ 32 files, sane names); the
 * product rules (422) are the rule core's business.
 */
import * as z from 'zod';
import { ID_PATTERN, MAX_FILES_PER_REQUEST, MAX_SESSION_BYTES } from '../core/limits';
import { FILES_CURSOR_PATTERN } from '../core/session-summary';
import { MAX_PARTS, MAX_PARTS_PER_REQUEST, SHA256_BASE64_PATTERN } from '../core/transfers';

/** Session and file ids as we issue them (base64url); anything else cannot exist. */
export const idSchema = z.string().regex(ID_PATTERN, 'must be an id');

export const sessionPathSchema = z.strictObject({ id: idSchema });
/** GET /sessions/{id}'s query: at most a cursor from the page before. */
export const sessionQuerySchema = z.strictObject({ cursor: z.string().regex(FILES_CURSOR_PATTERN, 'must be a nextCursor').optional() });
export const filePathSchema = z.strictObject({ id: idSchema, fileId: idSchema });

/** A DICOM UID: digits and dots, at most 64 characters (PS3.5 §9.1). */
const uid = z
  .string()
  .max(64, 'must be at most 64 characters')
  .regex(/^[0-9]+(\.[0-9]+)*$/, 'must be a DICOM UID (digits and dots)');

/** A file's own name, as the browser reports it: no folders, no control characters. */
const fileName = z
  .string()
  .min(1, 'must not be empty')
  .max(255, 'must be at most 255 characters')
  .refine((name) => !/[\u0000-\u001f\u007f-\u009f/\\]/.test(name), 'must be a file name without path separators or control characters')
  .refine((name) => name !== '.' && name !== '..', 'must be a file name');

const byteSize = z
  .number('must be a number of bytes')
  .int('must be a whole number of bytes')
  .min(1, 'must be at least 1 byte')
  .max(MAX_SESSION_BYTES, 'must be at most 10 GB (10000000000 bytes)');

const contentType = z
  .string()
  .max(100)
  .regex(/^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$/, 'must be a media type like application/pdf');

/** A SHA-256 digest in base64, as S3's x-amz-checksum-sha256 takes it. */
const sha256 = z.string().regex(SHA256_BASE64_PATTERN, 'must be the base64 SHA-256 of the bytes (44 characters)');

const uploadFileSchema = z
  .strictObject({
    clientId: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be 1–64 letters, digits or _ . : -'),
    name: fileName,
    size: byteSize,
    kind: z.enum(['dicom', 'attachment']),
    studyInstanceUid: uid.optional(),
    sopInstanceUid: uid.optional(),
    contentType: contentType.optional(),
    sha256,
  })
  .superRefine((file, ctx) => {
    if (file.kind === 'dicom' && !file.studyInstanceUid) ctx.addIssue({ code: 'custom', path: ['studyInstanceUid'], message: 'is required for a DICOM file' });
    if (file.kind === 'dicom' && !file.sopInstanceUid) ctx.addIssue({ code: 'custom', path: ['sopInstanceUid'], message: 'is required for a DICOM file' });
    if (file.kind === 'attachment' && file.sopInstanceUid) ctx.addIssue({ code: 'custom', path: ['sopInstanceUid'], message: 'is only for DICOM files' });
  });

export const requestUploadsSchema = z
  .strictObject({
    files: z
      .array(uploadFileSchema)
      .min(1, 'must list at least one file')
      .max(MAX_FILES_PER_REQUEST, `must list at most ${MAX_FILES_PER_REQUEST} files per request`),
  })
  .superRefine((body, ctx) => {
    const seen = new Set<string>();
    body.files.forEach((file, index) => {
      if (seen.has(file.clientId)) ctx.addIssue({ code: 'custom', path: ['files', index, 'clientId'], message: 'must be unique within the request' });
      seen.add(file.clientId);
    });
  });

export const createSessionSchema = z.strictObject({
  uploadCode: z.string().min(1, 'must not be empty').max(64, 'is not an upload code'),
});

export const issueUploadCodeSchema = z.strictObject({
  maxSessionBytes: z
    .number('must be a number of bytes')
    .int('must be a whole number of bytes')
    .min(0, 'must not be negative')
    .max(MAX_SESSION_BYTES, 'must be at most 10 GB (10000000000 bytes)')
    .optional(),
  validDays: z.number().int('must be a whole number of days').min(1).max(365).optional(),
  reference: z
    .string()
    .min(1)
    .max(100)
    .refine((text) => !/[\u0000-\u001f\u007f-\u009f]/.test(text), 'must not contain control characters')
    .optional(),
});

/** Exactly one way to name the code(s) to revoke. */
export const revokeUploadCodeSchema = z.union([
  z.strictObject({ code: z.string().min(1).max(64) }),
  z.strictObject({ reference: z.string().min(1).max(100) }),
  z.strictObject({ codeId: z.string().regex(/^[0-9a-f]{12}$/, 'must be the 12-digit code id that list shows') }),
]);

const partNumber = z.number('must be a part number').int('must be a whole number').min(1).max(MAX_PARTS);

export const signPartsSchema = z.strictObject({
  parts: z
    .array(z.strictObject({ partNumber, size: byteSize, sha256 }))
    .min(1, 'must list at least one part')
    .max(MAX_PARTS_PER_REQUEST, `must list at most ${MAX_PARTS_PER_REQUEST} parts per request`)
    .refine((parts) => new Set(parts.map((p) => p.partNumber)).size === parts.length, 'must not list a part twice'),
});

export const finishUploadSchema = z.strictObject({
  parts: z
    .array(z.strictObject({ partNumber, etag: z.string().min(1).max(128).regex(/^"?[A-Za-z0-9+/=-]+"?$/, 'must be the ETag S3 answered for the part') }))
    .min(1, 'must list every part')
    .max(MAX_PARTS),
});

/** GET /admin/audit: one of a hospital reference, a listed code id, or a UTC day of security events. */
export const readAuditTrailSchema = z.union([
  z.strictObject({ reference: z.string().min(1).max(100) }),
  z.strictObject({ codeId: z.string().regex(/^[0-9a-f]{12}$/, 'must be the 12-digit code id that list shows') }),
  z.strictObject({ securityDay: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a day, YYYY-MM-DD') }),
]);
