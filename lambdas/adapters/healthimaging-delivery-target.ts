/**
 * DeliveryTarget on AWS HealthImaging. A study is split into chunks within HealthImaging's import
 * quotas (core/delivery/import-chunks.ts: files and bytes per job); each chunk is staged under its
 * own import prefix in the uploads bucket (core/delivery-staging.ts), then one StartDICOMImportJob
 * imports that prefix. The jobs run asynchronously: the outcome is SUBMITTED with every job, and
 * healthimaging-import-results.ts reads each job's result back when it ends. A redelivery starts
 * only the chunks whose job failed; a chunk already running or imported is left alone.
 *
 * Staging copies each accepted DICOM object server-side (no bytes through the Lambda). When the
 * objects must change first (reconciled identifiers, attachments wrapped as DICOM), `content`
 * produces the bytes to stage instead: that is the seam for the header rewriting. Those bytes are
 * streamed into one PutObject, or into a multipart upload above S3's 5 GiB (s3-staged-object-writer.ts).
 */
import { MedicalImagingClient, StartDICOMImportJobCommand } from '@aws-sdk/client-medical-imaging';
import { CopyObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { DEFAULT_MAX_FILES_PER_IMPORT_JOB, HEALTHIMAGING_MAX_FILE_BYTES, HEALTHIMAGING_MAX_JOB_BYTES, importChunks } from '../core/delivery/import-chunks';
import { importJobToken } from '../core/delivery/import-job-token';
import { IMPORT_ATTEMPTS, studyStateOf } from '../core/delivery/import-jobs';
import { studyRef } from '../core/delivery/study-ref';
import { UndeliverableError } from '../core/delivery/undeliverable-error';
import type { ImportJobState } from '../core/model';
import { stagingLocation, type StagingLocation } from '../core/delivery-staging';
import type { DeliveryObject, DeliveryTarget, StudyDeliveryOutcome, StudyDeliveryRequest } from '../core/ports/delivery-target';
import { forEachInParallel } from './parallel';
import { DEFAULT_STAGING_WRITE_LIMITS, S3StagedObjectWriter, type StagingWriteLimits } from './s3-staged-object-writer';

/** Parallel copies per study: a 20,000-file study stages in about a minute without throttling S3. */
const STAGING_CONCURRENCY = 16;
/** CopyObject copies at most 5 GB in one request (larger objects need a multipart copy). */
export const MAX_SINGLE_COPY_BYTES = 5 * 1024 ** 3;
/** Errors that retrying the same request cannot fix. */
const PERMANENT_ERRORS = new Set(['ValidationException', 'InvalidRequest', 'EntityTooLarge']);

export interface StagedContent {
  body: Readable | Uint8Array;
  contentLength: number;
}

/** The bytes to import for one object, or undefined when the object is not imported (e.g. an attachment with no DICOM form). */
export type ObjectContent = (object: DeliveryObject, request: StudyDeliveryRequest) => Promise<StagedContent | undefined>;

export interface HealthImagingDeliveryTargetOptions {
  s3: S3Client;
  imaging: MedicalImagingClient;
  bucketName: string;
  datastoreId: string;
  /** The role HealthImaging assumes to read the staged inputs and write the results (lib/delivery.ts). */
  dataAccessRoleArn: string;
  /** Produces reconciled bytes; without it, DICOM objects are copied as uploaded and attachments are left out. */
  content?: ObjectContent;
  /** Files per import job (`delivery.maxFilesPerImportJob`, HealthImaging's adjustable quota). */
  maxFilesPerImportJob?: number;
  /** Bytes per import job; HealthImaging's quota unless a test needs small chunks. */
  maxBytesPerImportJob?: number;
  /** When a staged object goes up in parts, and their size; S3's limits unless a test needs small parts. */
  staging?: Partial<StagingWriteLimits>;
}

export { HEALTHIMAGING_MAX_FILE_BYTES };

export class HealthImagingDeliveryTarget implements DeliveryTarget {
  readonly type = 'healthimaging' as const;

  private readonly writer: S3StagedObjectWriter;

  constructor(private readonly options: HealthImagingDeliveryTargetOptions) {
    this.writer = new S3StagedObjectWriter(options.s3, { ...DEFAULT_STAGING_WRITE_LIMITS, ...options.staging });
  }

  async deliverStudy(request: StudyDeliveryRequest): Promise<StudyDeliveryOutcome> {
    // The study's hash names it in keys and job names: stable across redeliveries, no UID.
    const ref = await studyRef(request.studyInstanceUid);
    const overLimit = request.objects.find((o) => o.kind === 'dicom' && o.size > HEALTHIMAGING_MAX_FILE_BYTES);
    if (overLimit) return { state: 'FAILED', reason: `file ${overLimit.fileId} is larger than HealthImaging imports (10 GB per file)`, retryable: false };
    const tooLarge = this.options.content ? undefined : request.objects.find((o) => o.kind === 'dicom' && o.size > MAX_SINGLE_COPY_BYTES);
    if (tooLarge) return { state: 'FAILED', reason: `file ${tooLarge.fileId} is larger than a single S3 copy (5 GB)`, retryable: false };
    // Attachments are importable only as the content seam's DICOM.
    const importable = request.objects.filter((o) => o.kind === 'dicom' || this.options.content);
    if (!importable.some((o) => o.kind === 'dicom')) return { state: 'FAILED', reason: 'the study has no DICOM object to import', retryable: false };
    const chunks = importChunks(importable, {
      maxFiles: this.options.maxFilesPerImportJob ?? DEFAULT_MAX_FILES_PER_IMPORT_JOB,
      maxBytes: this.options.maxBytesPerImportJob ?? HEALTHIMAGING_MAX_JOB_BYTES,
    });
    const jobs: ImportJobState[] = [];
    // One chunk after the other: a chunk's copies already run 16 at a time, and jobs start in order.
    for (const [chunk, objects] of chunks.entries()) {
      const previous = request.imports?.find((j) => j.chunk === chunk);
      if (previous && previous.state !== 'FAILED') {
        jobs.push(previous);
        continue;
      }
      // A study recorded before it had jobs counts its attempts on the study.
      const attempts = previous ? previous.attempts + 1 : request.imports ? 1 : (request.attempt ?? 1);
      jobs.push(await this.deliverChunk({ ...request, objects }, ref, chunk, attempts));
    }
    const study = studyStateOf(jobs);
    return study.state === 'DELIVERED' ? study : { ...study, jobs };
  }

  /** Stages one chunk and starts its job; a failure is the chunk's, recorded on its entry. */
  private async deliverChunk(request: StudyDeliveryRequest, ref: string, chunk: number, attempts: number): Promise<ImportJobState> {
    const location = stagingLocation(request.sessionId, ref, chunk);
    try {
      const staged = await this.stage(request, location);
      if (staged === 0) return { chunk, attempts, state: 'FAILED', reason: 'the import job has no DICOM object to import', retryable: false };
      const jobId = await this.startImport(request.sessionId, ref, chunk, location, attempts);
      return { chunk, jobId, attempts, state: 'SUBMITTED' };
    } catch (error) {
      // An object the reconciliation can never turn into what it must import (the same as DICOMweb delivery).
      if (error instanceof UndeliverableError) return { chunk, attempts, state: 'FAILED', reason: error.message, retryable: false };
      const name = (error as Error)?.name ?? 'Error';
      // The name only: AWS error messages may quote keys or request details. A chunk that could not
      // start counts as an attempt too, so a study whose other jobs ran is not started again forever.
      const reason = `HealthImaging import could not start (${name})`;
      if (PERMANENT_ERRORS.has(name)) return { chunk, attempts, state: 'FAILED', reason, retryable: false };
      return attempts < IMPORT_ATTEMPTS
        ? { chunk, attempts, state: 'FAILED', reason, retryable: true }
        : { chunk, attempts, state: 'FAILED', reason: `${reason} (after ${attempts} import attempts)`, retryable: false };
    }
  }

  /** Stages every importable object under the input prefix; returns how many were staged. */
  private async stage(request: StudyDeliveryRequest, location: StagingLocation): Promise<number> {
    const { s3, bucketName, content } = this.options;
    let staged = 0;
    await forEachInParallel(request.objects, STAGING_CONCURRENCY, async (object) => {
      // Re-staging the same key overwrites the same copy: a redelivery adds no duplicate input.
      const Key = `${location.inputPrefix}${object.fileId}.dcm`;
      if (content) {
        const bytes = await content(object, request);
        if (!bytes) return;
        // Over 5 GiB in parts: one PutObject could not take it.
        await this.writer.write({ bucket: bucketName, key: Key, body: bytes.body, contentLength: bytes.contentLength, contentType: 'application/dicom' });
      } else {
        if (object.kind !== 'dicom') return;
        // REPLACE without tags: the copy must not carry the accepted object's retention tag.
        await s3.send(new CopyObjectCommand({ Bucket: bucketName, Key, CopySource: `${bucketName}/${object.key}`, TaggingDirective: 'REPLACE' }));
      }
      staged += 1;
    });
    return staged;
  }

  private async startImport(sessionId: string, ref: string, chunk: number, location: StagingLocation, attempt: number): Promise<string> {
    const { imaging, bucketName, datastoreId, dataAccessRoleArn } = this.options;
    // Deterministic per chunk and attempt, and within HealthImaging's 64-character limits.
    const token = await importJobToken({ sessionId, studyRef: ref, chunk, attempt });
    const result = await imaging.send(
      new StartDICOMImportJobCommand({
        jobName: token,
        clientToken: token,
        datastoreId,
        dataAccessRoleArn,
        inputS3Uri: `s3://${bucketName}/${location.inputPrefix}`,
        outputS3Uri: `s3://${bucketName}/${location.outputPrefix}`,
      }),
    );
    if (!result.jobId) throw Object.assign(new Error('StartDICOMImportJob returned no job id'), { name: 'MissingJobId' });
    return result.jobId;
  }
}
