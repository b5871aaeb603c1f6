/**
 * DeliveryTarget on AWS HealthImaging. A study is staged under its own import prefix in the
 * uploads bucket (core/delivery-staging.ts), then one StartDICOMImportJob imports that prefix. The
 * job runs asynchronously: the outcome is SUBMITTED with the job id, and
 * healthimaging-import-results.ts reads the job's result back when it ends.
 *
 * Staging copies each accepted DICOM object server-side (no bytes through the Lambda). When the
 * objects must change first (reconciled identifiers, attachments wrapped as DICOM), `content`
 * produces the bytes to stage instead: that is the seam for the header rewriting.
 */
import { MedicalImagingClient, StartDICOMImportJobCommand } from '@aws-sdk/client-medical-imaging';
import { CopyObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { studyRef } from '../core/delivery/study-ref';
import { stagingLocation, type StagingLocation } from '../core/delivery-staging';
import type { DeliveryObject, DeliveryTarget, StudyDeliveryOutcome, StudyDeliveryRequest } from '../core/ports/delivery-target';
import { forEachInParallel } from './parallel';

/** Parallel copies per study: a 20,000-file study stages in about a minute without throttling S3. */
const STAGING_CONCURRENCY = 16;
/** CopyObject copies at most 5 GB in one request (larger objects need a multipart copy). */
export const MAX_SINGLE_COPY_BYTES = 5 * 1024 ** 3;
/**
 * HealthImaging imports DICOM P10 files of at most 4 GB each ("Maximum size of a DICOM P10 file in an
 * import job", AWS HealthImaging endpoints and quotas, docs/delivery.md): a larger file is refused
 * before anything is staged, not found out after a job ran.
 */
export const HEALTHIMAGING_MAX_FILE_BYTES = 4 * 1024 ** 3;
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
}

export class HealthImagingDeliveryTarget implements DeliveryTarget {
  readonly type = 'healthimaging' as const;

  constructor(private readonly options: HealthImagingDeliveryTargetOptions) {}

  async deliverStudy(request: StudyDeliveryRequest): Promise<StudyDeliveryOutcome> {
    // The study's hash names it in keys and job names: stable across redeliveries, no UID.
    const ref = await studyRef(request.studyInstanceUid);
    const location = stagingLocation(request.sessionId, ref);
    const overLimit = request.objects.find((o) => o.kind === 'dicom' && o.size > HEALTHIMAGING_MAX_FILE_BYTES);
    if (overLimit) return { state: 'FAILED', reason: `file ${overLimit.fileId} is larger than HealthImaging imports (4 GB per file)`, retryable: false };
    const tooLarge = this.options.content ? undefined : request.objects.find((o) => o.kind === 'dicom' && o.size > MAX_SINGLE_COPY_BYTES);
    if (tooLarge) return { state: 'FAILED', reason: `file ${tooLarge.fileId} is larger than a single S3 copy (5 GB)`, retryable: false };
    try {
      const staged = await this.stage(request, location);
      if (staged === 0) return { state: 'FAILED', reason: 'the study has no DICOM object to import', retryable: false };
      const jobId = await this.startImport(request.sessionId, ref, location, request.attempt ?? 1);
      return { state: 'SUBMITTED', jobId };
    } catch (error) {
      const name = (error as Error)?.name ?? 'Error';
      // The name only: AWS error messages may quote keys or request details.
      return { state: 'FAILED', reason: `HealthImaging import could not start (${name})`, retryable: !PERMANENT_ERRORS.has(name) };
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
        await s3.send(new PutObjectCommand({ Bucket: bucketName, Key, Body: bytes.body, ContentLength: bytes.contentLength, ContentType: 'application/dicom' }));
      } else {
        if (object.kind !== 'dicom') return;
        // REPLACE without tags: the copy must not carry the accepted object's retention tag.
        await s3.send(new CopyObjectCommand({ Bucket: bucketName, Key, CopySource: `${bucketName}/${object.key}`, TaggingDirective: 'REPLACE' }));
      }
      staged += 1;
    });
    return staged;
  }

  private async startImport(sessionId: string, ref: string, location: StagingLocation, attempt: number): Promise<string> {
    const { imaging, bucketName, datastoreId, dataAccessRoleArn } = this.options;
    // The same token for the same attempt: a repeated run gets the job that already runs. A new
    // attempt (the last job failed) needs a new token, else HealthImaging answers with the failed job.
    const token = attempt > 1 ? `${sessionId}-${ref}-${attempt}` : `${sessionId}-${ref}`;
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
