/**
 * Reads a HealthImaging import job back into a study's delivery outcome. GetDICOMImportJob tells
 * whether the job ran; a COMPLETED job may still have refused files, so the per-file results are
 * read from the job's output, laid out as AWS documents it ("Understanding import jobs"):
 *
 *   {outputS3Uri}{datastoreId}-DicomImport-{jobId}/job-output-manifest.json
 *                                                 /SUCCESS/success.ndjson  {"inputFile", "importResponse": {"imageSetId", "isPrimary"}}
 *                                                 /FAILURE/failure.ndjson  {"inputFile", "exception": {"exceptionType", "message"}}
 */
import { GetDICOMImportJobCommand, type MedicalImagingClient } from '@aws-sdk/client-medical-imaging';
import { GetObjectCommand, NoSuchKey, type S3Client } from '@aws-sdk/client-s3';
import { parseStagingKey } from '../core/delivery-staging';
import type { StudyDeliveryOutcome } from '../core/ports/delivery-target';
import type { ImportJobResult, ImportJobResults } from '../core/ports/import-job-results';

export interface ImportFailure {
  inputFile: string;
  exceptionType: string;
  message: string;
}

export interface ImportJobOutput {
  /** Input files HealthImaging imported (success.ndjson lines). */
  imported: string[];
  failed: ImportFailure[];
}

/** Failures a new import of the same files may get past (server-side trouble, not the file itself). */
const RETRYABLE_EXCEPTIONS = new Set(['InternalServerException', 'ThrottlingException', 'ServiceUnavailableException']);
/** A failed job whose message names one of these was refused (the role, the input): importing again cannot help. */
const PERMANENT_JOB_FAILURE = /access|denied|not authori[sz]ed|permission|invalid|validation/i;
/** A reason stays short: it is stored in the study's delivery state and shown to staff. */
const MAX_REASON_LENGTH = 300;

/**
 * One line of success.ndjson or failure.ndjson. AWS's own samples print Python-style `True`/`False`
 * for isPrimary, so a line that is not JSON gets one more try with those literals lowered.
 */
export function parseOutputLine(line: string): Record<string, unknown> {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return JSON.parse(line.replace(/([:[,]\s*)(True|False)(?=\s*[,}\]])/g, (_m, lead: string, word: string) => `${lead}${word.toLowerCase()}`)) as Record<string, unknown>;
  }
}

function lines(text: string): string[] {
  return text.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
}

/** Parses the two ndjson files of a job's output. */
export function parseImportOutput(successNdjson: string, failureNdjson: string): ImportJobOutput {
  const imported = lines(successNdjson).map((line) => String(parseOutputLine(line).inputFile ?? ''));
  const failed = lines(failureNdjson).map((line) => {
    const record = parseOutputLine(line);
    const exception = (record.exception ?? {}) as { exceptionType?: unknown; message?: unknown };
    return { inputFile: String(record.inputFile ?? ''), exceptionType: String(exception.exceptionType ?? 'Unknown'), message: String(exception.message ?? '') };
  });
  return { imported, failed };
}

/** DELIVERED when every staged file was imported; otherwise FAILED with the first refusal as the reason. */
export function outcomeOfOutput(output: ImportJobOutput): StudyDeliveryOutcome {
  if (output.failed.length === 0 && output.imported.length > 0) return { state: 'DELIVERED', instances: output.imported.length };
  if (output.failed.length === 0) return { state: 'FAILED', reason: 'the import job imported no file', retryable: false };
  const first = output.failed[0]!;
  const total = output.imported.length + output.failed.length;
  const reason = `${output.failed.length} of ${total} files were not imported (${first.exceptionType}: ${first.message})`;
  return {
    state: 'FAILED',
    reason: reason.length > MAX_REASON_LENGTH ? `${reason.slice(0, MAX_REASON_LENGTH - 1)}…` : reason,
    retryable: output.failed.every((f) => RETRYABLE_EXCEPTIONS.has(f.exceptionType)),
  };
}

/** The job's own output folder: GetDICOMImportJob returns it; older answers gave only the prefix we passed. */
export function jobOutputLocation(outputS3Uri: string, datastoreId: string, jobId: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([^/]+)\/(.*)$/.exec(outputS3Uri);
  if (!match) throw new Error('the import job has no s3:// output URI');
  const folder = `${datastoreId}-DicomImport-${jobId}/`;
  let prefix = match[2]!;
  if (prefix && !prefix.endsWith('/')) prefix += '/';
  return { bucket: match[1]!, prefix: prefix.endsWith(folder) ? prefix : `${prefix}${folder}` };
}

export class HealthImagingImportResults implements ImportJobResults {
  constructor(private readonly options: { s3: S3Client; imaging: MedicalImagingClient; datastoreId: string }) {}

  /** The job's result; SUBMITTED while it still runs (its end event comes later). */
  async read(jobId: string): Promise<ImportJobResult> {
    const { imaging, datastoreId } = this.options;
    const { jobProperties: job } = await imaging.send(new GetDICOMImportJobCommand({ datastoreId, jobId }));
    if (!job) throw new Error('GetDICOMImportJob returned no job properties');
    const study = parseStagingKey(job.inputS3Uri ?? '');
    const result = (outcome: StudyDeliveryOutcome): ImportJobResult => ({ jobId, ...(study ? { study } : {}), outcome });
    if (job.jobStatus === 'SUBMITTED' || job.jobStatus === 'IN_PROGRESS') return result({ state: 'SUBMITTED', jobId });
    if (job.jobStatus === 'FAILED') {
      // A job that failed as a whole without naming a refusal is HealthImaging's trouble: worth another import.
      const message = job.message ?? '';
      return result({ state: 'FAILED', reason: `the import job failed${message ? `: ${message.slice(0, 200)}` : ''}`, retryable: !PERMANENT_JOB_FAILURE.test(message) });
    }
    const { bucket, prefix } = jobOutputLocation(job.outputS3Uri ?? '', datastoreId, jobId);
    const [success, failure] = await Promise.all([this.text(bucket, `${prefix}SUCCESS/success.ndjson`), this.text(bucket, `${prefix}FAILURE/failure.ndjson`)]);
    return result(outcomeOfOutput(parseImportOutput(success, failure)));
  }

  /** An output file's text; a file the job did not write (no successes, or no failures) reads as empty. */
  private async text(bucket: string, key: string): Promise<string> {
    try {
      const object = await this.options.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return (await object.Body?.transformToString('utf8')) ?? '';
    } catch (error) {
      if (error instanceof NoSuchKey || (error as Error)?.name === 'NoSuchKey') return '';
      throw error;
    }
  }
}
