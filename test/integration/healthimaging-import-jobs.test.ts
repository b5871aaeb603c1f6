/**
 * A study larger than one HealthImaging import job allows (its quotas: 5,000 files, 10 GB per job):
 * the exact StartDICOMImportJob requests, one per chunk, each with its own staged input prefix and
 * client token; a redelivery starts only a failed chunk's job again. No HealthImaging emulator
 * exists: the real MedicalImagingClient sends through a recording handler. S3 is the s3rver
 * emulator with real corpus files, except for the 10,001-file study at the default quota, whose
 * copies go to a recording S3 handler (synthetic object lists, no real objects).
 */
import { MedicalImagingClient } from '@aws-sdk/client-medical-imaging';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { HttpResponse, type HttpRequest } from '@smithy/protocol-http';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HealthImagingDeliveryTarget, type HealthImagingDeliveryTargetOptions } from '../../lambdas/adapters/healthimaging-delivery-target';
import { STAGED_GROWTH_BYTES } from '../../lambdas/core/delivery/import-chunks';
import { studyRef as studyRefFor } from '../../lambdas/core/delivery/study-ref';
import { stagingLocation } from '../../lambdas/core/delivery-staging';
import type { ImportJobState } from '../../lambdas/core/model';
import type { DeliveryObject, StudyDeliveryRequest } from '../../lambdas/core/ports/delivery-target';
import { recordingHandler } from './helpers/aws-capture';
import { createTestBucket, LOCAL_CREDENTIALS, type TestBucket } from './helpers/emulators';
import { corpusBytes, oracle } from './inspection-support';

const DATASTORE = '0123456789abcdef0123456789abcdef';
const ROLE = 'arn:aws:iam::111122223333:role/UploadPortal-lakeside-ImportRole';
const STUDY = '1.2.826.0.1.3680043.8.498.777';

/** HealthImaging hands out one job id per client token, as its idempotency promises. */
function imagingClient() {
  const ids = new Map<string, string>();
  const { handler, requests } = recordingHandler((request) => {
    const { clientToken } = JSON.parse(request.body) as { clientToken: string };
    if (!ids.has(clientToken)) ids.set(clientToken, `job${String(ids.size).padStart(29, '0')}`);
    return { status: 200, body: { datastoreId: DATASTORE, jobId: ids.get(clientToken), jobStatus: 'SUBMITTED', submittedAt: 1 } };
  });
  const client = new MedicalImagingClient({ region: 'eu-west-2', credentials: LOCAL_CREDENTIALS, maxAttempts: 1, requestHandler: handler });
  return { client, starts: () => requests.map((r) => ({ path: r.path, body: JSON.parse(r.body) as Record<string, string> })) };
}

let bucket: TestBucket;
const dicomFiles = () => oracle().filter((e) => e.kind === 'dicom-part10' && e.attributes.SOPInstanceUID);

/** `count` objects of one study, each a real corpus file uploaded under sessions/{session}/files/. */
async function uploadObjects(sessionId: string, count: number): Promise<DeliveryObject[]> {
  const objects: DeliveryObject[] = [];
  for (let i = 0; i < count; i++) {
    const entry = dicomFiles()[i]!;
    const bytes = corpusBytes(entry.file);
    const key = `sessions/${sessionId}/files/f${i}`;
    await bucket.s3.send(new PutObjectCommand({ Bucket: bucket.bucketName, Key: key, Body: bytes }));
    objects.push({ key, fileId: `f${i}`, size: bytes.length, kind: 'dicom', sopInstanceUid: String(entry.attributes.SOPInstanceUID) });
  }
  return objects;
}

function target(imaging: MedicalImagingClient, options: Partial<HealthImagingDeliveryTargetOptions> = {}) {
  return new HealthImagingDeliveryTarget({ s3: bucket.s3, imaging, bucketName: bucket.bucketName, datastoreId: DATASTORE, dataAccessRoleArn: ROLE, ...options });
}

/** The exact body of chunk k's StartDICOMImportJob. */
function expectedStart(sessionId: string, ref: string, chunk: number, attempt = 1, bucketName = bucket.bucketName) {
  const token = `${sessionId}-${ref}${chunk > 0 ? `-j${chunk}` : ''}${attempt > 1 ? `-${attempt}` : ''}`;
  const { inputPrefix, outputPrefix } = stagingLocation(sessionId, ref, chunk);
  return { jobName: token, clientToken: token, dataAccessRoleArn: ROLE, inputS3Uri: `s3://${bucketName}/${inputPrefix}`, outputS3Uri: `s3://${bucketName}/${outputPrefix}` };
}

beforeAll(async () => {
  bucket = await createTestBucket('healthimaging-jobs');
  expect(dicomFiles().length).toBeGreaterThanOrEqual(5);
});
afterAll(async () => bucket?.drop());

describe('a study imported in several HealthImaging jobs', () => {
  it('splits by file count: three jobs, each its own staged prefix and client token, in fileId order', async () => {
    const sessionId = 'sessionJOBSCOUNTAAAAAAA';
    const objects = await uploadObjects(sessionId, 5);
    const { client, starts } = imagingClient();
    const outcome = await target(client, { maxFilesPerImportJob: 2 }).deliverStudy({ sessionId, studyInstanceUid: STUDY, objects });
    const ref = await studyRefFor(STUDY);

    expect(starts().map((s) => s.path)).toEqual(Array(3).fill(`/startDICOMImportJob/datastore/${DATASTORE}`));
    expect(starts().map((s) => s.body)).toEqual([0, 1, 2].map((chunk) => expectedStart(sessionId, ref, chunk)));
    expect(stagingLocation(sessionId, ref, 2).inputPrefix).toBe(`deliveries/${sessionId}/${ref}/2/input/`);
    const staged = await Promise.all([0, 1, 2].map((chunk) => bucket.listKeys(stagingLocation(sessionId, ref, chunk).inputPrefix)));
    // No prefix lies inside another: each job imports only its own chunk.
    expect(staged.map((keys) => keys.map((k) => k.split('/').pop()))).toEqual([['f0.dcm', 'f1.dcm'], ['f2.dcm', 'f3.dcm'], ['f4.dcm']]);
    expect(outcome).toEqual({
      state: 'SUBMITTED',
      jobId: 'job00000000000000000000000000000',
      jobs: [0, 1, 2].map((chunk) => ({ chunk, jobId: `job${String(chunk).padStart(29, '0')}`, attempts: 1, state: 'SUBMITTED' })),
    });
  });

  it('splits by bytes: three jobs when each file fills a job\'s byte limit', async () => {
    const sessionId = 'sessionJOBSBYTESAAAAAAA';
    const objects = await uploadObjects(sessionId, 3);
    const { client, starts } = imagingClient();
    const maxBytes = Math.max(...objects.map((o) => o.size)) + STAGED_GROWTH_BYTES;
    await target(client, { maxBytesPerImportJob: maxBytes }).deliverStudy({ sessionId, studyInstanceUid: STUDY, objects });
    const ref = await studyRefFor(STUDY);
    expect(starts().map((s) => s.body)).toEqual([0, 1, 2].map((chunk) => expectedStart(sessionId, ref, chunk)));
  });

  it('starts only the failed chunk again, with that chunk\'s next token; a repeated run starts no duplicate job', async () => {
    const sessionId = 'sessionJOBSRETRYAAAAAAA';
    const objects = await uploadObjects(sessionId, 5);
    const ref = await studyRefFor(STUDY);
    const { client, starts } = imagingClient();
    const hi = target(client, { maxFilesPerImportJob: 2 });
    const request: StudyDeliveryRequest = { sessionId, studyInstanceUid: STUDY, objects };
    const first = await hi.deliverStudy(request);
    // The same run repeated (a lost record): the same three tokens, so HealthImaging answers with the same jobs.
    expect(await hi.deliverStudy(request)).toEqual(first);
    expect(new Set(starts().map((s) => s.body.clientToken)).size).toBe(3);

    const imports: ImportJobState[] = [
      { chunk: 0, jobId: 'a'.repeat(32), attempts: 1, state: 'DELIVERED', instances: 2 },
      { chunk: 1, jobId: 'b'.repeat(32), attempts: 1, state: 'FAILED', reason: 'the import job failed', retryable: true },
      { chunk: 2, jobId: 'c'.repeat(32), attempts: 1, state: 'SUBMITTED' },
    ];
    const before = starts().length;
    const retried = await hi.deliverStudy({ ...request, attempt: 2, imports });
    expect(starts().slice(before).map((s) => s.body)).toEqual([expectedStart(sessionId, ref, 1, 2)]);
    expect(retried).toEqual({ state: 'SUBMITTED', jobId: 'job00000000000000000000000000003', jobs: [imports[0], { chunk: 1, jobId: 'job00000000000000000000000000003', attempts: 2, state: 'SUBMITTED' }, imports[2]] });
    // A chunk that could not start on its last attempt fails for good instead of starting forever.
    const refusing = new MedicalImagingClient({ region: 'eu-west-2', credentials: LOCAL_CREDENTIALS, maxAttempts: 1, requestHandler: recordingHandler(() => ({ status: 429, body: { __type: 'ThrottlingException', message: 'Rate exceeded' } })).handler });
    const lastTry = await target(refusing, { maxFilesPerImportJob: 2 }).deliverStudy({ ...request, imports: [imports[0]!, { ...imports[1]!, attempts: 2 }, { ...imports[2]!, state: 'DELIVERED', instances: 1 }] });
    expect(lastTry).toEqual({ state: 'FAILED', reason: 'import job 2 of 3: HealthImaging import could not start (ThrottlingException) (after 3 import attempts)', retryable: false, jobs: [imports[0], { chunk: 1, attempts: 3, state: 'FAILED', reason: 'HealthImaging import could not start (ThrottlingException) (after 3 import attempts)', retryable: false }, { ...imports[2], state: 'DELIVERED', instances: 1 }] });
    // Nothing failed any more: another run starts nothing.
    await hi.deliverStudy({ ...request, attempt: 3, imports: (retried as { jobs: ImportJobState[] }).jobs });
    expect(starts()).toHaveLength(before + 1);
  });

  it('at the default 5,000 files per job, a 10,001-file study starts three jobs of 5,000, 5,000 and 1 files', async () => {
    const copies = new Map<string, number>();
    const s3 = new S3Client({ region: 'eu-west-2', credentials: LOCAL_CREDENTIALS, forcePathStyle: true, maxAttempts: 1, requestHandler: copyRecorder(copies) as never });
    const sessionId = 'sessionJOBSDEFAULTAAAAA';
    const objects: DeliveryObject[] = Array.from({ length: 10_001 }, (_, i) => ({ key: `sessions/${sessionId}/files/f${String(i).padStart(5, '0')}`, fileId: `f${String(i).padStart(5, '0')}`, size: 500_000, kind: 'dicom' }));
    const { client, starts } = imagingClient();
    const hi = new HealthImagingDeliveryTarget({ s3, imaging: client, bucketName: 'uploads', datastoreId: DATASTORE, dataAccessRoleArn: ROLE });
    const outcome = await hi.deliverStudy({ sessionId, studyInstanceUid: STUDY, objects });
    const ref = await studyRefFor(STUDY);
    expect(starts().map((s) => s.body)).toEqual([0, 1, 2].map((chunk) => expectedStart(sessionId, ref, chunk, 1, 'uploads')));
    expect([0, 1, 2].map((chunk) => copies.get(`/uploads/${stagingLocation(sessionId, ref, chunk).inputPrefix}`))).toEqual([5000, 5000, 1]);
    expect(outcome).toMatchObject({ state: 'SUBMITTED', jobs: [{ chunk: 0 }, { chunk: 1 }, { chunk: 2 }] });
  }, 60_000);
});

/** An S3 request handler that answers every CopyObject and counts the copies per destination folder. */
function copyRecorder(copies: Map<string, number>) {
  return {
    async handle(request: HttpRequest) {
      expect(request.method).toBe('PUT');
      expect(request.headers['x-amz-copy-source']).toMatch(/^uploads\/sessions\//);
      const folder = request.path.slice(0, request.path.lastIndexOf('/') + 1);
      copies.set(folder, (copies.get(folder) ?? 0) + 1);
      const body = '<?xml version="1.0" encoding="UTF-8"?><CopyObjectResult><ETag>"0"</ETag><LastModified>2026-01-01T00:00:00.000Z</LastModified></CopyObjectResult>';
      return { response: new HttpResponse({ statusCode: 200, headers: { 'content-type': 'application/xml' }, body: Readable.from([Buffer.from(body)]) }) };
    },
  };
}
