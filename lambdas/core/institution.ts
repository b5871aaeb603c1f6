/**
 * The institution config schema: one file per hospital in institutions/<id>.json. The CDK app,
 * the Lambdas (through their config module) and local mode all read it through this one schema.
 */
import * as z from 'zod';
import { deliverySchema } from './delivery-config';
import { MAX_FILES_PER_REQUEST, MAX_SESSION_BYTES } from './limits';
import type { AttachmentType, Limits } from './model';
import { DEFAULT_MULTIPART_THRESHOLD_BYTES, MIN_PART_BYTES } from './transfers';

const origin = z
  .string()
  .refine((value) => {
    try {
      const url = new URL(value);
      const local = url.hostname === 'localhost' || url.hostname === '127.0.0.1';
      return (url.protocol === 'https:' || (local && url.protocol === 'http:')) && url.origin === value;
    } catch {
      return false;
    }
  }, 'must be an origin like https://upload.hospital.example (https, no path, no trailing slash; http only for localhost)');

const bytes = z.number().int('must be a whole number of bytes').min(0, 'must not be negative');

export const attachmentTypes = ['pdf', 'jpeg', 'png'] as const;

export const institutionSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'must be 1–32 lowercase letters, digits or dashes'),
    name: z.string().min(1).max(200),
    contact: z.object({
      phone: z.string().min(3).max(40),
      email: z.email('must be an e-mail address'),
    }).strict(),
    manualUrl: z.url('must be a URL'),
    privacyPolicyUrl: z.url('must be a URL').optional(),
    portalOrigin: origin,
    /** ACM certificate (us-east-1, as CloudFront requires) for portalOrigin's host; without it the portal is served on its CloudFront name. */
    portalCertificateArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate\/[0-9a-f-]{36}$/, 'must be an ACM certificate ARN in us-east-1 (CloudFront only uses certificates from us-east-1)')
      .optional(),
    alarmEmail: z.email('must be an e-mail address'),
    /** GuardDuty Malware Protection for S3 on the uploads bucket (billed per GB scanned by AWS). */
    malwareProtection: z.boolean().default(false),
    limits: z
      .object({
        maxSessionBytes: bytes.max(MAX_SESSION_BYTES, 'must be at most 10 GB (10000000000 bytes)'),
        maxStudyBytes: bytes.max(MAX_SESSION_BYTES, 'must be at most 10 GB (10000000000 bytes)').optional(),
        // Never more than one upload request carries: a higher value could never be honoured.
        maxDicomFilesAtOnce: z
          .number()
          .int()
          .min(1)
          .max(MAX_FILES_PER_REQUEST, `must be at most ${MAX_FILES_PER_REQUEST} (the files one upload request may carry)`)
          .default(10),
        maxAttachmentsPerStudy: z.number().int().min(0).max(100).default(10),
        maxAttachmentBytes: bytes.max(MAX_SESSION_BYTES).default(50_000_000),
        allowedAttachmentTypes: z.array(z.enum(attachmentTypes)).default(['pdf', 'jpeg', 'png']),
        multipartThresholdBytes: bytes
          .min(MIN_PART_BYTES, `must be at least ${MIN_PART_BYTES} bytes (S3's smallest part)`)
          .max(5 * 1024 ** 3, 'must be at most 5 GiB (S3\'s largest single PUT)')
          .default(DEFAULT_MULTIPART_THRESHOLD_BYTES),
      })
      .strict(),
    codes: z
      .object({
        validDays: z.number().int().min(1).max(365).default(14),
      })
      .strict()
      .default({ validDays: 14 }),
    retention: z
      .object({
        acceptedDays: z.number().int().min(1).max(3650).default(30),
        pendingDays: z.number().int().min(1).max(30).default(7),
        /** How long audit records are kept (six years: HIPAA's documentation retention). */
        auditDays: z.number().int().min(365).max(3650).default(2190),
      })
      .strict()
      .default({ acceptedDays: 30, pendingDays: 7, auditDays: 2190 }),
    session: z
      .object({
        uploadUrlExpirySeconds: z.number().int().min(60).max(3600).default(300),
        sessionHours: z.number().int().min(1).max(720).default(48),
      })
      .strict()
      .default({ uploadUrlExpirySeconds: 300, sessionHours: 48 }),
    /** Where accepted studies are delivered (delivery-config.ts); without it they stay in the bucket. */
    delivery: deliverySchema.optional(),
  })
  .strict();

export type InstitutionConfig = z.infer<typeof institutionSchema>;

export class InstitutionConfigError extends Error {
  constructor(
    readonly source: string,
    readonly issues: { field: string; problem: string }[],
  ) {
    super(`${source}: ${issues.map((i) => `${i.field}: ${i.problem}`).join('; ')}`);
    this.name = 'InstitutionConfigError';
  }
}

/** Validates a parsed config; a bad one throws an error that names the source and every bad field. */
export function parseInstitutionConfig(input: unknown, source = 'institution config'): InstitutionConfig {
  const result = institutionSchema.safeParse(input);
  if (!result.success) {
    throw new InstitutionConfigError(
      source,
      result.error.issues.map((issue) => ({ field: issue.path.join('.') || '(root)', problem: issue.message })),
    );
  }
  const config = result.data;
  const study = config.limits.maxStudyBytes;
  if (study !== undefined && study > config.limits.maxSessionBytes) {
    throw new InstitutionConfigError(source, [{ field: 'limits.maxStudyBytes', problem: 'must not exceed limits.maxSessionBytes' }]);
  }
  return config;
}

/** The effective limits for a session; a code may lower or raise the session limit within 0–10 GB. */
export function limitsFor(config: InstitutionConfig, codeMaxSessionBytes?: number): Limits {
  const maxSessionBytes = codeMaxSessionBytes ?? config.limits.maxSessionBytes;
  return {
    maxSessionBytes,
    maxStudyBytes: Math.min(config.limits.maxStudyBytes ?? maxSessionBytes, maxSessionBytes),
    maxDicomFilesAtOnce: config.limits.maxDicomFilesAtOnce,
    maxAttachmentsPerStudy: config.limits.maxAttachmentsPerStudy,
    maxAttachmentBytes: config.limits.maxAttachmentBytes,
    allowedAttachmentTypes: [...config.limits.allowedAttachmentTypes] as AttachmentType[],
    multipartThresholdBytes: config.limits.multipartThresholdBytes,
  };
}
