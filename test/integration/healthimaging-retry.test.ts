/**
 * HealthImaging imports that fail: the delivery Lambda (handler and AWS composition) on a real accepted
 * session (DynamoDB Local, s3rver, corpus files), with HealthImaging and SQS behind recording request
 * handlers (no emulator exists): the exact requests are checked. A retryable failure (the job FAILED,
 * or files refused for a server-side reason) asks for another run through the delivery queue after a
 * growing delay, and that run starts a new job (a new client token); after IMPORT_ATTEMPTS the study
 * FAILS for good with the reason. A refusal FAILS at once; a file over HealthImaging's per-file limit
 * FAILS before anything is staged.
 */
import { MedicalImagingClient } from '@aws-sdk/client-medical-imaging';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDeliveryStore } from '../../lambdas/adapters/dynamo-delivery-store';
import { HEALTHIMAGING_MAX_FILE_BYTES, HealthImagingDeliveryTarget } from '../../lambdas/adapters/healthimaging-delivery-target';
import { studyRef } from '../../lambdas/core/delivery/study-ref';
import { stagingLocation } from '../../lambdas/core/delivery-staging';
import { parseInstitutionConfig } from '../../lambdas/core/institution';
import { IMPORT_ATTEMPTS, importRetryDelaySeconds } from '../../lambdas/core/record-import-job';
import { createDeliveryHandler } from '../../lambdas/handlers/delivery';
import { createAwsDeliveryDeps } from '../../lambdas/runtime/delivery-aws-deps';
import { recordingHandler, type CannedAnswer, type CapturedRequest } from './helpers/aws-capture';
import { LOCAL_CREDENTIALS, testConfig, testInstitution } from './helpers/emulators';
import { DATASTORE_ID, DELIVERY_QUEUE_URL, IMPORT_ROLE_ARN } from './helpers/healthimaging';
import { corpusBytes, createRig, CT_STUDY_UID, ctStudyEntries, declareCorpusDicom, seedSession, uploadAndInspect, type Rig } from './inspection-support';

const ctFiles = ctStudyEntries().map((e) => e.file);

let rig: Rig;
/** Per job: its status and message as GetDICOMImportJob reports them, and the session it imports. */
const jobs = new Map<string, { status: string; message?: string; sessionId: string; inputS3Uri: string; outputS3Uri: string }>();
const refs = new Map<string, string>();

/** Job ids HealthImaging hands out: one per client token (the token's attempt suffix, or 1). */
const jobIdFor = (token: string) => createHash('sha256').update(token).digest('hex').slice(0, 32);

const imaging = recordingHandler((request: CapturedRequest): CannedAnswer => {
  if (request.path.startsWith('/startDICOMImportJob/')) {
    const body = JSON.parse(request.body) as { clientToken: string; inputS3Uri: string; outputS3Uri: string };
    const sessionId = [...refs.keys()].find((id) => body.clientToken.startsWith(id))!;
    const jobId = jobIdFor(body.clientToken);
    jobs.set(jobId, { status: 'SUBMITTED', sessionId, inputS3Uri: body.inputS3Uri, outputS3Uri: body.outputS3Uri });
    return { status: 200, body: { datastoreId: DATASTORE_ID, jobId, jobStatus: 'SUBMITTED', submittedAt: 1 } };
  }
  const jobId = request.path.split('/').pop()!;
  const job = jobs.get(jobId)!;
  const jobProperties = {
    jobId, jobName: 'x', jobStatus: job.status, datastoreId: DATASTORE_ID, dataAccessRoleArn: IMPORT_ROLE_ARN, submittedAt: 1, ...(job.message ? { message: job.message } : {}),
    inputS3Uri: job.inputS3Uri, outputS3Uri: job.outputS3Uri,
  };
  return { status: 200, body: { jobProperties } };
});
const sqsRequests = recordingHandler((request) => {
  const body = JSON.parse(request.body) as { MessageBody: string };
  return { status: 200, body: { MessageId: 'msg-1', MD5OfMessageBody: createHash('md5').update(body.MessageBody).digest('hex') } };
});

function handler(maxFilesPerImportJob?: number) {
  const institution = parseInstitutionConfig({ ...testInstitution(), delivery: { type: 'healthimaging', datastoreId: DATASTORE_ID } }, 'test');
  // Under the schema's floor on purpose: three jobs from the corpus's 7-file CT study.
  if (maxFilesPerImportJob && institution.delivery?.type === 'healthimaging') institution.delivery.maxFilesPerImportJob = maxFilesPerImportJob;
  const config = { ...testConfig({ tableName: rig.table.tableName, bucketName: rig.bucket.bucketName, institution }), importRoleArn: IMPORT_ROLE_ARN, deliveryQueueUrl: DELIVERY_QUEUE_URL };
  const infra = { doc: rig.table.doc, tableName: rig.table.tableName, s3: rig.bucket.s3, bucketName: rig.bucket.bucketName, publisher: rig.publisher, observability: rig.observability };
  const clients = {
    imaging: new MedicalImagingClient({ region: 'eu-west-2', credentials: LOCAL_CREDENTIALS, maxAttempts: 1, requestHandler: imaging.handler }),
    sqs: new SQSClient({ region: 'eu-west-2', credentials: LOCAL_CREDENTIALS, maxAttempts: 1, requestHandler: sqsRequests.handler }),
  };
  return createDeliveryHandler(createAwsDeliveryDeps(config, infra, clients));
}

const records = (...bodies: string[]): SQSEvent => ({ Records: bodies.map((body, i) => ({ messageId: `m${i}`, body })) }) as unknown as SQSEvent;
const accepted = (sessionId: string) => JSON.stringify({ source: 'upload-portal.demo', 'detail-type': 'UploadSessionAccepted', detail: { sessionId } });
const jobEnded = (jobId: string) => JSON.stringify({ source: 'aws.medical-imaging', 'detail-type': 'Import Job Completed', detail: { jobId, datastoreId: DATASTORE_ID } });
const starts = () => imaging.requests.filter((r) => r.path.startsWith('/startDICOMImportJob/')).map((r) => JSON.parse(r.body) as Record<string, string>);
const delivery = async (sessionId: string) => (await new DynamoDeliveryStore({ doc: rig.table.doc, tableName: rig.table.tableName }).deliveries(sessionId)).get(CT_STUDY_UID);

/** A session holding the CT study, accepted. */
async function acceptedSession(): Promise<string> {
  const { sessionId } = await seedSession(rig);
  refs.set(sessionId, await studyRef(CT_STUDY_UID));
  for (const file of ctFiles) {
    const declared = await declareCorpusDicom(rig, sessionId, file);
    await uploadAndInspect(rig, declared.key, corpusBytes(file));
  }
  const completed = await rig.useCases.completeSession(sessionId, { studies: [{ studyInstanceUid: CT_STUDY_UID }], contact: {}, consent: { privacyPolicy: true, dataSharing: true } });
  expect(completed.status).toBe('ACCEPTED');
  return sessionId;
}

beforeAll(async () => {
  rig = await createRig('healthimaging-retry');
});
afterAll(async () => rig?.drop());

describe('HealthImaging import failures', () => {
  it('starts the import again after a retryable failure, with a growing delay and a new client token, and fails for good after the last attempt', async () => {
    const sessionId = await acceptedSession();
    const ref = refs.get(sessionId)!;
    const run = handler();
    expect(await run(records(accepted(sessionId)))).toEqual({ batchItemFailures: [] });
    const tokens = [`${sessionId}-${ref}`, `${sessionId}-${ref}-2`, `${sessionId}-${ref}-3`];
    // Three ways a job can fail for a reason worth retrying: HealthImaging's own trouble, throttled files, an internal error.
    const failures: ((jobId: string) => Promise<void>)[] = [
      async (jobId) => void jobs.set(jobId, { ...jobs.get(jobId)!, status: 'FAILED', message: 'Internal error while importing' }),
      async (jobId) => {
        jobs.set(jobId, { ...jobs.get(jobId)!, status: 'COMPLETED' });
        const folder = `${stagingLocation(sessionId, ref).outputPrefix}${DATASTORE_ID}-DicomImport-${jobId}/`;
        const line = JSON.stringify({ inputFile: 'input/f1.dcm', exception: { exceptionType: 'ThrottlingException', message: 'Rate exceeded' } });
        await rig.bucket.s3.send(new PutObjectCommand({ Bucket: rig.bucket.bucketName, Key: `${folder}FAILURE/failure.ndjson`, Body: line }));
      },
      async (jobId) => void jobs.set(jobId, { ...jobs.get(jobId)!, status: 'FAILED', message: 'Internal error while importing' }),
    ];
    for (let attempt = 1; attempt <= IMPORT_ATTEMPTS; attempt++) {
      // The attempt's job: its own client token, the same staged input and output prefixes.
      const start = starts().at(-1)!;
      expect(starts()).toHaveLength(attempt);
      expect(start).toEqual({
        clientToken: tokens[attempt - 1],
        jobName: tokens[attempt - 1],
        dataAccessRoleArn: IMPORT_ROLE_ARN,
        inputS3Uri: `s3://${rig.bucket.bucketName}/${stagingLocation(sessionId, ref).inputPrefix}`,
        outputS3Uri: `s3://${rig.bucket.bucketName}/${stagingLocation(sessionId, ref).outputPrefix}`,
      });
      expect(imaging.requests.filter((r) => r.path.startsWith('/startDICOMImportJob/')).at(-1)!.path).toBe(`/startDICOMImportJob/datastore/${DATASTORE_ID}`);
      const jobId = jobIdFor(tokens[attempt - 1]!);
      expect(await delivery(sessionId)).toMatchObject({ state: 'SUBMITTED', jobId, attempts: attempt });

      await failures[attempt - 1]!(jobId);
      const sent = sqsRequests.requests.length;
      expect(await run(records(jobEnded(jobId)))).toEqual({ batchItemFailures: [] });
      if (attempt < IMPORT_ATTEMPTS) {
        // Exactly one SendMessage to the delivery queue: delayed, the session id only.
        expect(sqsRequests.requests).toHaveLength(sent + 1);
        const request = sqsRequests.requests.at(-1)!;
        expect(request.headers['x-amz-target']).toBe('AmazonSQS.SendMessage');
        const message = JSON.parse(request.body) as { QueueUrl: string; DelaySeconds: number; MessageBody: string };
        expect(message).toEqual({ QueueUrl: DELIVERY_QUEUE_URL, DelaySeconds: importRetryDelaySeconds(attempt), MessageBody: expect.any(String) });
        expect(JSON.parse(message.MessageBody)).toEqual({ source: 'upload-portal.delivery-retry', 'detail-type': 'UploadSessionAccepted', detail: { sessionId } });
        expect(await delivery(sessionId)).toMatchObject({ state: 'FAILED', retryable: true, attempts: attempt });
        // The queue hands the message back after the delay: the next run starts a new job.
        expect(await run(records(message.MessageBody))).toEqual({ batchItemFailures: [] });
      } else {
        expect(sqsRequests.requests).toHaveLength(sent);
        expect(await delivery(sessionId)).toMatchObject({ state: 'FAILED', retryable: false, attempts: IMPORT_ATTEMPTS, reason: `the import job failed: Internal error while importing (after ${IMPORT_ATTEMPTS} import attempts)` });
      }
    }
    expect([importRetryDelaySeconds(1), importRetryDelaySeconds(2)]).toEqual([60, 240]);
    // Failed for good: a late copy of the retry message starts nothing.
    expect(await run(records(accepted(sessionId)))).toEqual({ batchItemFailures: [] });
    expect(starts()).toHaveLength(IMPORT_ATTEMPTS);
    const failedEvents = rig.publisher.events.filter((e) => e.detailType === 'UploadStudyDeliveryFailed' && (e.detail as unknown as { sessionId: string }).sessionId === sessionId);
    expect(failedEvents.map((e) => (e.detail as unknown as { retryable: boolean }).retryable)).toEqual([true, true, false]);
  });

  it('fails at once, without another import, when HealthImaging refused the job', async () => {
    const sessionId = await acceptedSession();
    const run = handler();
    expect(await run(records(accepted(sessionId)))).toEqual({ batchItemFailures: [] });
    const jobId = jobIdFor(`${sessionId}-${refs.get(sessionId)}`);
    jobs.set(jobId, { ...jobs.get(jobId)!, status: 'FAILED', message: 'Access denied to the input bucket' });
    const sent = sqsRequests.requests.length;
    expect(await run(records(jobEnded(jobId)))).toEqual({ batchItemFailures: [] });
    expect(sqsRequests.requests).toHaveLength(sent);
    expect(await delivery(sessionId)).toMatchObject({ state: 'FAILED', retryable: false, attempts: 1, reason: 'the import job failed: Access denied to the input bucket' });
  });

  it('refuses a file over HealthImaging\'s per-file limit before staging anything or starting a job', async () => {
    const before = imaging.requests.length;
    const target = new HealthImagingDeliveryTarget({ s3: rig.bucket.s3, imaging: new MedicalImagingClient({ region: 'eu-west-2', credentials: LOCAL_CREDENTIALS, maxAttempts: 1, requestHandler: imaging.handler }), bucketName: rig.bucket.bucketName, datastoreId: DATASTORE_ID, dataAccessRoleArn: IMPORT_ROLE_ARN });
    // 10 GB is read as 10^9 bytes: one byte over is refused.
    const big = { key: 'sessions/s-big/files/f-big', fileId: 'f-big', size: 10_000_000_001, kind: 'dicom' as const, sopInstanceUid: '1.2.3.4' };
    const small = { key: 'sessions/s-big/files/f-small', fileId: 'f-small', size: 1000, kind: 'dicom' as const, sopInstanceUid: '1.2.3.5' };
    const outcome = await target.deliverStudy({ sessionId: 's-big', studyInstanceUid: '1.2.3', objects: [small, big] });
    expect(outcome).toEqual({ state: 'FAILED', reason: 'file f-big is larger than HealthImaging imports (10 GB per file)', retryable: false });
    expect(big.size).toBe(HEALTHIMAGING_MAX_FILE_BYTES + 1);
    expect(imaging.requests.length).toBe(before);
    expect(await rig.bucket.listKeys('deliveries/s-big/')).toEqual([]);
  });

  it('imports a study in three jobs, reads each job back into the study, restarts only the failed one, and delivers once all imported', async () => {
    const sessionId = await acceptedSession();
    const ref = refs.get(sessionId)!;
    const run = handler(3);
    expect(ctFiles).toHaveLength(7);
    expect(await run(records(accepted(sessionId)))).toEqual({ batchItemFailures: [] });
    const tokens = [`${sessionId}-${ref}`, `${sessionId}-${ref}-j1`, `${sessionId}-${ref}-j2`];
    expect(starts().slice(-3).map((s) => s.clientToken)).toEqual(tokens);
    const [job0, job1, job2] = tokens.map(jobIdFor) as [string, string, string];
    expect(await delivery(sessionId)).toMatchObject({ state: 'SUBMITTED', jobId: job0, jobs: [{ jobId: job0 }, { jobId: job1 }, { jobId: job2 }].map((j, chunk) => ({ ...j, chunk, state: 'SUBMITTED', attempts: 1 })) });

    /** The job ends: COMPLETED with `imported` lines of success.ndjson, or FAILED. */
    const finish = async (jobId: string, chunk: number, imported: number) => {
      if (imported === 0) jobs.set(jobId, { ...jobs.get(jobId)!, status: 'FAILED', message: 'Internal error while importing' });
      else {
        jobs.set(jobId, { ...jobs.get(jobId)!, status: 'COMPLETED' });
        const folder = `${stagingLocation(sessionId, ref, chunk).outputPrefix}${DATASTORE_ID}-DicomImport-${jobId}/`;
        const lines = Array.from({ length: imported }, (_, i) => JSON.stringify({ inputFile: `input/f${i}.dcm`, importResponse: { imageSetId: 'x', isPrimary: true } })).join('\n');
        await rig.bucket.s3.send(new PutObjectCommand({ Bucket: rig.bucket.bucketName, Key: `${folder}SUCCESS/success.ndjson`, Body: lines }));
      }
    };
    const end = async (jobId: string, chunk: number, imported: number) => finish(jobId, chunk, imported).then(() => run(records(jobEnded(jobId))));
    const sent = sqsRequests.requests.length;
    // Two jobs of the study end in one batch, handled at once: neither end may overwrite the other.
    // The one that loses the conditional write fails its record, and SQS brings it back.
    await finish(job1, 1, 0);
    await finish(job0, 0, 3);
    const batch = await run(records(jobEnded(job0), jobEnded(job1)));
    expect(batch.batchItemFailures.length).toBeLessThanOrEqual(1);
    const again = batch.batchItemFailures.map((f) => jobEnded(f.itemIdentifier === 'm0' ? job0 : job1));
    if (again.length > 0) expect(await run(records(...again))).toEqual({ batchItemFailures: [] });
    // One job still runs: the study stays SUBMITTED, no retry asked for yet, no event.
    expect(await delivery(sessionId)).toMatchObject({ state: 'SUBMITTED', jobId: job2, jobs: [{ state: 'DELIVERED', instances: 3 }, { state: 'FAILED', retryable: true }, { state: 'SUBMITTED' }] });
    expect(sqsRequests.requests).toHaveLength(sent);
    // A repeated end event changes nothing.
    expect(await end(job0, 0, 3)).toEqual({ batchItemFailures: [] });
    expect(await end(job2, 2, 1)).toEqual({ batchItemFailures: [] });
    expect(await delivery(sessionId)).toMatchObject({ state: 'FAILED', retryable: true, reason: 'import job 2 of 3: the import job failed: Internal error while importing' });
    expect(sqsRequests.requests).toHaveLength(sent + 1);
    const retry = JSON.parse(sqsRequests.requests.at(-1)!.body) as { DelaySeconds: number; MessageBody: string };
    expect(retry.DelaySeconds).toBe(importRetryDelaySeconds(1));

    const before = starts().length;
    expect(await run(records(retry.MessageBody))).toEqual({ batchItemFailures: [] });
    // Only chunk 1 again, with its second token and its own prefix; chunks 0 and 2 are not imported twice.
    expect(starts().slice(before)).toEqual([{
      clientToken: `${sessionId}-${ref}-j1-2`, jobName: `${sessionId}-${ref}-j1-2`, dataAccessRoleArn: IMPORT_ROLE_ARN,
      inputS3Uri: `s3://${rig.bucket.bucketName}/${stagingLocation(sessionId, ref, 1).inputPrefix}`,
      outputS3Uri: `s3://${rig.bucket.bucketName}/${stagingLocation(sessionId, ref, 1).outputPrefix}`,
    }]);
    const job1again = jobIdFor(`${sessionId}-${ref}-j1-2`);
    expect(await end(job1again, 1, 3)).toEqual({ batchItemFailures: [] });
    expect(await delivery(sessionId)).toMatchObject({ state: 'DELIVERED', instances: 7, jobs: [{ attempts: 1 }, { attempts: 2, jobId: job1again }, { attempts: 1 }] });
    // Announced once, when the last job imported: submitting the jobs announced nothing.
    const deliveredEvents = rig.publisher.events.filter((e) => e.detailType === 'UploadStudyDelivered' && (e.detail as unknown as { sessionId: string }).sessionId === sessionId);
    expect(deliveredEvents.map((e) => (e.detail as unknown as { instances: number }).instances)).toEqual([7]);
  });
});
