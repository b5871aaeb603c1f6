/**
 * The Lambdas' configuration: the one module that reads process.env. Validated with zod the first
 * time it is asked for (on a cold start, before the first request is served); a bad value fails
 * loudly, naming the variable.
 */
import * as z from 'zod';
import { parseInstitutionConfig, type InstitutionConfig } from '../core/institution';

export type LogFormat = 'pretty' | 'json';

export interface AppConfig {
  tableName: string;
  bucketName: string;
  institution: InstitutionConfig;
  /** EventBridge bus for "UploadSessionAccepted"; absent in local mode without a bus. */
  eventBusName?: string;
  region: string;
  /** Emulator endpoints (local mode and tests); absent on AWS. */
  dynamoEndpoint?: string;
  s3Endpoint?: string;
  s3ForcePathStyle: boolean;
  /** Local mode only: SHA-256 hex of the admin token that POST /admin/upload-codes requires. */
  localAdminTokenHash?: string;
  /** AWS: the secret whose value keys the audit trail's client address hashes (lib/audit-trail.ts). */
  clientAddressKeySecretArn?: string;
  /** Local mode: that key itself (derived from the local admin token). */
  localClientAddressKey?: string;
  /** HealthImaging delivery: the role the import job assumes (lib/delivery.ts). */
  importRoleArn?: string;
  /** The worker that finishes completions (lib/completer.ts); only the complete-session function has it. */
  completerFunctionName?: string;
  /** HealthImaging delivery: the delivery queue, where a failed import asks for another run. */
  deliveryQueueUrl?: string;
  logFormat: LogFormat;
}

const logFormat = z.enum(['pretty', 'json']).default('json');

const envSchema = z.object({
  TABLE_NAME: z.string().min(1),
  BUCKET_NAME: z.string().min(1),
  INSTITUTION_CONFIG: z.string().min(2, 'must be the institution JSON'),
  EVENT_BUS_NAME: z.string().min(1).optional(),
  AWS_REGION: z.string().min(1),
  DYNAMODB_ENDPOINT: z.url().optional(),
  S3_ENDPOINT: z.url().optional(),
  S3_FORCE_PATH_STYLE: z.enum(['true', 'false']).optional(),
  LOCAL_ADMIN_TOKEN_HASH: z.string().regex(/^[0-9a-f]{64}$/, 'must be a lowercase SHA-256 hex digest').optional(),
  HEALTHIMAGING_IMPORT_ROLE_ARN: z.string().min(1).optional(),
  CLIENT_ADDRESS_KEY_SECRET_ARN: z.string().min(1).optional(),
  COMPLETER_FUNCTION_NAME: z.string().min(1).optional(),
  DELIVERY_QUEUE_URL: z.url().optional(),
  LOG_FORMAT: logFormat,
});

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid Lambda configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

/** Parses an environment (process.env in Lambda; a literal object in tests and local mode). */
export function parseConfig(env: Record<string, string | undefined>): AppConfig {
  const result = envSchema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`));
  }
  const e = result.data;
  let institutionJson: unknown;
  try {
    institutionJson = JSON.parse(e.INSTITUTION_CONFIG);
  } catch {
    throw new ConfigError(['INSTITUTION_CONFIG: is not valid JSON']);
  }
  return {
    tableName: e.TABLE_NAME,
    bucketName: e.BUCKET_NAME,
    institution: parseInstitutionConfig(institutionJson, 'INSTITUTION_CONFIG'),
    eventBusName: e.EVENT_BUS_NAME,
    region: e.AWS_REGION,
    dynamoEndpoint: e.DYNAMODB_ENDPOINT,
    s3Endpoint: e.S3_ENDPOINT,
    s3ForcePathStyle: e.S3_FORCE_PATH_STYLE === 'true',
    localAdminTokenHash: e.LOCAL_ADMIN_TOKEN_HASH,
    importRoleArn: e.HEALTHIMAGING_IMPORT_ROLE_ARN,
    clientAddressKeySecretArn: e.CLIENT_ADDRESS_KEY_SECRET_ARN,
    completerFunctionName: e.COMPLETER_FUNCTION_NAME,
    deliveryQueueUrl: e.DELIVERY_QUEUE_URL,
    logFormat: e.LOG_FORMAT,
  };
}

let cached: AppConfig | undefined;

/** The validated configuration of this process, read once. */
export function appConfig(): AppConfig {
  return (cached ??= parseConfig(process.env));
}

/** The log format alone: the logger exists before (and even without) the full configuration. */
export function logFormatFromEnv(): LogFormat {
  const result = logFormat.safeParse(process.env.LOG_FORMAT);
  if (!result.success) throw new ConfigError(['LOG_FORMAT: must be "pretty" or "json"']);
  return result.data;
}
