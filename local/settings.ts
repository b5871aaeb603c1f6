/**
 * Local mode's settings: the one place `npm start` reads its environment. Bad values fail at start
 * with a message naming the variable.
 */
import * as z from 'zod';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseInstitutionConfig, type InstitutionConfig } from '../lambdas/core/institution';
import type { LogFormat } from '../lambdas/runtime/config';

const port = (name: string) =>
  z.coerce.number({ error: `${name} must be a port number` }).int().min(0, `${name} must be 0–65535`).max(65535, `${name} must be 0–65535`);

const envSchema = z.object({
  PORT: port('PORT').default(5173),
  DATA_DIR: z.string().min(1).default('.data'),
  INSTITUTION: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'INSTITUTION must name a file institutions/<id>.json').default('demo'),
  S3_PORT: port('S3_PORT').optional(),
  DYNAMO_PORT: port('DYNAMO_PORT').optional(),
  /** How often the local sweeper runs (AWS runs it on a schedule). */
  SWEEP_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(300),
  /** Inspector batches run at once (AWS scales its own); 1 lets a test or bench keep uploads ahead of inspection. */
  INSPECTION_CONCURRENCY: z.coerce.number().int().min(1, 'INSPECTION_CONCURRENCY must be 1–16').max(16, 'INSPECTION_CONCURRENCY must be 1–16').default(4),
  /** A PACS's DICOMweb root (e.g. a local Orthanc's http://127.0.0.1:8042/dicom-web): accepted studies are delivered there. */
  DELIVERY_DICOMWEB_URL: z.url('DELIVERY_DICOMWEB_URL must be a URL like http://127.0.0.1:8042/dicom-web').optional(),
  /** The terminal wants readable lines; `json` prints what CloudWatch would get. */
  LOG_FORMAT: z.enum(['pretty', 'json'], { error: 'LOG_FORMAT must be "pretty" or "json"' }).default('pretty'),
});

export interface LocalSettings {
  /** 0 picks a free port. */
  port: number;
  dataDir: string;
  institution: InstitutionConfig;
  institutionFile: string;
  s3Port?: number;
  dynamoPort?: number;
  sweepIntervalMs: number;
  inspectionConcurrency: number;
  logFormat: LogFormat;
  /** The repository root: institutions/ and web/ live here. */
  root: string;
}

export class LocalSettingsError extends Error {}

export function readLocalSettings(env: Record<string, string | undefined>, root = process.cwd()): LocalSettings {
  const blankToUndefined = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === '' ? undefined : v]));
  const parsed = envSchema.safeParse(blankToUndefined);
  if (!parsed.success) throw new LocalSettingsError(parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`).join('; '));
  const e = parsed.data;
  const institutionFile = join(root, 'institutions', `${e.INSTITUTION}.json`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(institutionFile, 'utf8'));
  } catch (error) {
    throw new LocalSettingsError(`INSTITUTION=${e.INSTITUTION}: cannot read ${institutionFile} (${(error as Error).message})`);
  }
  return {
    port: e.PORT,
    dataDir: resolve(root, e.DATA_DIR),
    institution: withLocalDelivery(parseInstitutionConfig(json, institutionFile), e.DELIVERY_DICOMWEB_URL),
    institutionFile,
    ...(e.S3_PORT !== undefined ? { s3Port: e.S3_PORT } : {}),
    ...(e.DYNAMO_PORT !== undefined ? { dynamoPort: e.DYNAMO_PORT } : {}),
    sweepIntervalMs: e.SWEEP_INTERVAL_SECONDS * 1000,
    inspectionConcurrency: e.INSPECTION_CONCURRENCY,
    logFormat: e.LOG_FORMAT,
    root,
  };
}

/**
 * Local mode delivers only where DELIVERY_DICOMWEB_URL points (the config's own URL names the
 * hospital's PACS, not one on this machine); the config's identifier rules still apply.
 */
function withLocalDelivery(institution: InstitutionConfig, url: string | undefined): InstitutionConfig {
  const { delivery, ...rest } = institution;
  if (!url) return rest;
  const rules = delivery ? { patientId: delivery.patientId, accessionNumber: delivery.accessionNumber, prefix: delivery.prefix, issuerOfPatientId: delivery.issuerOfPatientId } : {};
  return parseInstitutionConfig({ ...rest, delivery: { ...rules, type: 'dicomweb', url } }, `DELIVERY_DICOMWEB_URL with ${institution.id}`);
}
