/**
 * The institution config's `delivery` field: where accepted studies go and how their identifiers are
 * reconciled (IHE Import Reconciliation Workflow: imported objects get the local identifiers, the
 * originals are kept in Other Patient IDs Sequence).
 */
import * as z from 'zod';
import { DEFAULT_MAX_FILES_PER_IMPORT_JOB } from './delivery/import-chunks';

/** Printable ASCII without backslash (the DICOM value separator): safe in LO/SH values in every character set. */
const dicomAscii = /^[\x20-\x5b\x5d-\x7e]*$/;

const identifierRules = {
  /** keep: as uploaded; prefix: `prefix` + the uploaded ID; reference: the code's reference (prefix without one). */
  patientId: z.enum(['keep', 'prefix', 'reference']).default('keep'),
  /** keep: as uploaded; prefix: `prefix` + the uploaded number; remove: emptied (the hospital assigns its own). */
  accessionNumber: z.enum(['keep', 'prefix', 'remove']).default('keep'),
  prefix: z.string().min(1).max(16).regex(dicomAscii, 'must be printable ASCII without a backslash').default('EXT-'),
  /** The hospital's Issuer of Patient ID (0010,0021) for the IDs it assigns; without it the uploaded issuer moves into the sequence. */
  issuerOfPatientId: z.string().min(1).max(64).regex(dicomAscii, 'must be printable ASCII without a backslash').optional(),
};

const secretArn = z.string().regex(/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/, 'must be a Secrets Manager secret ARN');

/** A PACS reachable only inside the hospital's network: the delivery Lambda runs in these subnets (lib/delivery.ts). */
const vpcPlacement = z
  .object({
    vpcId: z.string().regex(/^vpc-[0-9a-f]{8,17}$/, 'must be a VPC id (vpc-…)'),
    subnetIds: z.array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, 'must be subnet ids (subnet-…)')).min(1),
    securityGroupIds: z.array(z.string().regex(/^sg-[0-9a-f]{8,17}$/, 'must be security group ids (sg-…)')).min(1),
  })
  .strict();

const dicomweb = z
  .object({
    type: z.literal('dicomweb'),
    /** The DICOMweb root: STOW-RS goes to <url>/studies. */
    url: z.url('must be a URL').refine((value) => /^https?:\/\//.test(value), 'must be an http(s) URL'),
    auth: z.object({ type: z.enum(['basic', 'bearer']), secretArn: secretArn.optional() }).strict().optional(),
    vpc: vpcPlacement.optional(),
    ...identifierRules,
  })
  .strict();

const healthimaging = z
  .object({
    type: z.literal('healthimaging'),
    datastoreId: z.string().regex(/^[0-9a-z]{32}$/, 'must be a HealthImaging datastore id (32 lowercase letters and digits)'),
    /**
     * Files per import job: HealthImaging's "Maximum number of files in a DICOM import job" (5,000,
     * adjustable; raise it here once AWS raised it). At least 1,000, so a 20,000-file session never
     * needs more than 20 jobs at once (the concurrent-job quota is 20 in ap-southeast-2, 100 elsewhere).
     */
    maxFilesPerImportJob: z.number().int().min(1000, 'must be at least 1000').max(1_000_000).default(DEFAULT_MAX_FILES_PER_IMPORT_JOB),
    ...identifierRules,
  })
  .strict();

export const deliverySchema = z.discriminatedUnion('type', [dicomweb, healthimaging]);

export type DeliveryConfig = z.infer<typeof deliverySchema>;
export type IdentifierRules = Pick<DeliveryConfig, 'patientId' | 'accessionNumber' | 'prefix' | 'issuerOfPatientId'>;
