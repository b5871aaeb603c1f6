/**
 * A study delivered to HealthImaging is counted and announced once, when its import really ended:
 * the delivery Lambda (handler and AWS composition) on real accepted sessions (DynamoDB Local,
 * s3rver, corpus files), printing its real EMF lines (Powertools, read from stdout) and publishing
 * through the real EventBridge client, whose PutEvents requests are captured as they would go out.
 * HealthImaging and SQS answer through recording request handlers (no emulator exists).
 *
 * Submitting the import counts only StudiesSubmittedForImport; the end of the study's last job counts
 * StudiesDelivered (or StudiesDeliveryFailed) and puts one event; a repeated end event, one after the
 * other or two copies at once, counts and puts nothing more (the study's stored delivery state,
 * written conditionally, decides who counts). A PutEvents that fails leaves the study's event pending:
 * the repeated message (or the next run) puts it and counts it then, once.
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { MedicalImagingClient } from '@aws-sdk/client-medical-imaging';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoDeliveryStore } from '../../lambdas/adapters/dynamo-delivery-store';
import { DynamoSessionStore } from '../../lambdas/adapters/dynamo-session-store';
import { DynamoStudyEventOutbox } from '../../lambdas/adapters/dynamo-study-event-outbox';
import { EventBridgePublisher } from '../../lambdas/adapters/eventbridge-publisher';
import { studyRef } from '../../lambdas/core/delivery/study-ref';
import { stagingLocation } from '../../lambdas/core/delivery-staging';
import { parseInstitutionConfig } from '../../lambdas/core/institution';
import { createDeliveryHandler } from '../../lambdas/handlers/delivery';
import { createAwsDeliveryDeps } from '../../lambdas/runtime/delivery-aws-deps';
import { createObservability } from '../../lambdas/runtime/observability';
import { recordingHandler, type CapturedRequest } from './helpers/aws-capture';
import { LOCAL_CREDENTIALS, testConfig, testInstitution } from './helpers/emulators';
import { DATASTORE_ID, DELIVERY_QUEUE_URL, IMPORT_ROLE_ARN } from './helpers/healthimaging';
import { corpusBytes, createRig, CT_STUDY_UID, ctStudyEntries, declareCorpusDicom, seedSession, uploadAndInspect, type Rig } from './inspection-support';

const BUS = 'upload-portal-test';
const ctFiles = ctStudyEntries().map((e) => e.file);

let rig: Rig;
/** Per job: its status as GetDICOMImportJob reports it, and where it imports from and to. */
const jobs = new Map<string, { status: string; message?: string; inputS3Uri: string; outputS3Uri: string }>();
const jobIdFor = (token: string) => createHash('sha256').update(token).digest('hex').slice(0, 32);

const imaging = recordingHandler((request: CapturedRequest) => {
  if (request.path.startsWith('/startDICOMImportJob/')) {
    const body = JSON.parse(request.body) as { clientToken: string; inputS3Uri: string; outputS3Uri: string };
    const jobId = jobIdFor(body.clientToken);
    jobs.set(jobId, { status: 'SUBMITTED', inputS3Uri: body.inputS3Uri, outputS3Uri: body.outputS3Uri });
    return { status: 200, body: { datastoreId: DATASTORE_ID, jobId, jobStatus: 'SUBMITTED', submittedAt: 1 } };
  }
  const jobId = request.path.split('/').pop()!;
  const job = jobs.get(jobId)!;
  const jobProperties = { jobId, jobName: 'x', jobStatus: job.status, datastoreId: DATASTORE_ID, dataAccessRoleArn: IMPORT_ROLE_ARN, submittedAt: 1, inputS3Uri: job.inputS3Uri, outputS3Uri: job.outputS3Uri, ...(job.message ? { message: job.message } : {}) };
  return { status: 200, body: { jobProperties } };
});
const sqs = recordingHandler((request) => {
  const body = JSON.parse(request.body) as { MessageBody: string };
  return { status: 200, body: { MessageId: 'msg-1', MD5OfMessageBody: createHash('md5').update(body.MessageBody).digest('hex') } };
});
/** EventBridge as PutEvents answers: every entry accepted, except while `putEventsFailures` lasts (a 500 after the SDK gave up). */
let putEventsFailures = 0;
const eventBridge = recordingHandler(() =>
  putEventsFailures-- > 0 ? { status: 500, body: { __type: 'InternalException', message: 'injected' } } : { status: 200, body: { FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] } },
);

/** The delivery Lambda as on AWS, with EMF on and the real EventBridge publisher. */
function handler(maxFilesPerImportJob?: number) {
  const institution = parseInstitutionConfig({ ...testInstitution(), delivery: { type: 'healthimaging', datastoreId: DATASTORE_ID } }, 'test');
  // Under the schema's floor on purpose: three jobs from the corpus's 7-file CT study.
  if (maxFilesPerImportJob && institution.delivery?.type === 'healthimaging') institution.delivery.maxFilesPerImportJob = maxFilesPerImportJob;
  const config = { ...testConfig({ tableName: rig.table.tableName, bucketName: rig.bucket.bucketName, institution }), importRoleArn: IMPORT_ROLE_ARN, deliveryQueueUrl: DELIVERY_QUEUE_URL };
  const observability = createObservability({ logLevel: 'SILENT', metrics: true });
  observability.setInstitution(institution.id);
  const client = new EventBridgeClient({ region: 'eu-west-2', credentials: LOCAL_CREDENTIALS, maxAttempts: 1, requestHandler: eventBridge.handler });
  const publisher = new EventBridgePublisher({ client, eventBusName: BUS, institutionId: institution.id });
  const infra = { doc: rig.table.doc, tableName: rig.table.tableName, s3: rig.bucket.s3, bucketName: rig.bucket.bucketName, publisher, observability };
  const clients = {
    imaging: new MedicalImagingClient({ region: 'eu-west-2', credentials: LOCAL_CREDENTIALS, maxAttempts: 1, requestHandler: imaging.handler }),
    sqs: new SQSClient({ region: 'eu-west-2', credentials: LOCAL_CREDENTIALS, maxAttempts: 1, requestHandler: sqs.handler }),
  };
  return { run: createDeliveryHandler(createAwsDeliveryDeps(config, infra, clients)), institutionId: institution.id };
}

type Emf = Record<string, unknown> & { _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] } };
interface PutEntry { EventBusName: string; Source: string; DetailType: string; Detail: string }

/** What `work` printed as EMF on stdout and sent as PutEvents entries. */
async function observe(work: () => Promise<unknown>): Promise<{ emf: Emf[]; entries: PutEntry[] }> {
  const lines: string[] = [];
  const sent = eventBridge.requests.length;
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (lines.push(String(chunk)), true));
  try {
    await work();
  } finally {
    write.mockRestore();
  }
  const emf = lines.flatMap((chunk) => chunk.split('\n')).filter((line) => line.includes('"_aws"')).map((line) => JSON.parse(line) as Emf);
  const requests = eventBridge.requests.slice(sent);
  for (const request of requests) expect(request.headers['x-amz-target']).toBe('AWSEvents.PutEvents');
  return { emf, entries: requests.flatMap((r) => (JSON.parse(r.body) as { Entries: PutEntry[] }).Entries) };
}

/** A metric's total over the EMF documents (Powertools prints a list when a metric was added twice). */
function total(emf: Emf[], name: string): number {
  return emf.reduce((sum, doc) => sum + [doc[name] ?? []].flat().reduce((a: number, b) => a + Number(b), 0), 0);
}

/** The study delivery metrics `emf` counted, by name; absent ones are 0. */
const deliveryCounts = (emf: Emf[]) => ({
  StudiesSubmittedForImport: total(emf, 'StudiesSubmittedForImport'),
  StudiesDelivered: total(emf, 'StudiesDelivered'),
  StudiesDeliveryFailed: total(emf, 'StudiesDeliveryFailed'),
});

const records = (...bodies: string[]): SQSEvent => ({ Records: bodies.map((body, i) => ({ messageId: `m${i}`, body })) }) as unknown as SQSEvent;
const accepted = (sessionId: string) => JSON.stringify({ source: 'upload-portal.demo', 'detail-type': 'UploadSessionAccepted', detail: { sessionId } });
const jobEnded = (jobId: string, failed = false) => JSON.stringify({ source: 'aws.medical-imaging', 'detail-type': failed ? 'Import Job Failed' : 'Import Job Completed', detail: { jobId, datastoreId: DATASTORE_ID } });
const delivery = async (sessionId: string) => (await new DynamoDeliveryStore({ doc: rig.table.doc, tableName: rig.table.tableName }).deliveries(sessionId)).get(CT_STUDY_UID);

/** A session holding the CT study, accepted. */
async function acceptedSession(): Promise<string> {
  const { sessionId } = await seedSession(rig);
  for (const file of ctFiles) {
    const declared = await declareCorpusDicom(rig, sessionId, file);
    await uploadAndInspect(rig, declared.key, corpusBytes(file));
  }
  const completed = await rig.useCases.completeSession(sessionId, { studies: [{ studyInstanceUid: CT_STUDY_UID }], contact: {}, consent: { privacyPolicy: true, dataSharing: true } });
  expect(completed.status).toBe('ACCEPTED');
  return sessionId;
}

/** The job ends: COMPLETED with `imported` lines of success.ndjson, or FAILED with HealthImaging's message. */
async function finish(sessionId: string, jobId: string, chunk: number, imported: number, message?: string) {
  if (message) return void jobs.set(jobId, { ...jobs.get(jobId)!, status: 'FAILED', message });
  jobs.set(jobId, { ...jobs.get(jobId)!, status: 'COMPLETED' });
  const folder = `${stagingLocation(sessionId, await studyRef(CT_STUDY_UID), chunk).outputPrefix}${DATASTORE_ID}-DicomImport-${jobId}/`;
  const lines = Array.from({ length: imported }, (_, i) => JSON.stringify({ inputFile: `input/f${i}.dcm`, importResponse: { imageSetId: 'x', isPrimary: true } })).join('\n');
  await rig.bucket.s3.send(new PutObjectCommand({ Bucket: rig.bucket.bucketName, Key: `${folder}SUCCESS/success.ndjson`, Body: lines }));
}

/** An accepted session whose study's first import job failed with an error worth retrying (not yet handled). */
async function firstImportFailedRetryably() {
  const sessionId = await acceptedSession();
  const { run, institutionId } = handler();
  await observe(() => run(records(accepted(sessionId))));
  const ref = await studyRef(CT_STUDY_UID);
  const first = jobIdFor(`${sessionId}-${ref}`);
  await finish(sessionId, first, 0, 0, 'Internal error while importing');
  return { sessionId, run, institutionId, ref, first };
}

/** The one PutEvents entry a study's end sends: the bus, the stack's source, the type, and the detail in full. */
async function expectedEntry(sessionId: string, institutionId: string, detailType: string, detail: Record<string, unknown>) {
  const session = (await new DynamoSessionStore(rig.table.doc, rig.table.tableName).get(sessionId))!;
  return {
    EventBusName: BUS,
    Source: `upload-portal.${institutionId}`,
    DetailType: detailType,
    Detail: { sessionId, institutionId: session.institutionId, manifestKey: session.manifestKey, studyRef: await studyRef(CT_STUDY_UID), target: 'healthimaging', at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), ...detail },
  };
}
const parsed = (entries: PutEntry[]) => entries.map((e) => ({ ...e, Detail: JSON.parse(e.Detail) as unknown }));

beforeAll(async () => {
  rig = await createRig('healthimaging-metrics');
  expect(ctFiles).toHaveLength(7);
});
afterEach(() => {
  vi.restoreAllMocks();
  putEventsFailures = 0;
});
afterAll(async () => rig?.drop());

describe('HealthImaging delivery counts and announces a study once, when it ends', () => {
  it('counts a one-job study as submitted, then once as delivered when its job completes; the same end event again adds nothing', async () => {
    const sessionId = await acceptedSession();
    const { run, institutionId } = handler();
    const submitted = await observe(() => run(records(accepted(sessionId))));
    expect(await delivery(sessionId)).toMatchObject({ state: 'SUBMITTED' });
    // Submitted is not delivered: no event on the bus, no StudiesDelivered.
    expect(submitted.entries).toEqual([]);
    expect(deliveryCounts(submitted.emf)).toEqual({ StudiesSubmittedForImport: 1, StudiesDelivered: 0, StudiesDeliveryFailed: 0 });
    expect(submitted.emf[0]!._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'UploadPortal', Dimensions: [['institutionId']] });

    const jobId = jobIdFor(`${sessionId}-${await studyRef(CT_STUDY_UID)}`);
    await finish(sessionId, jobId, 0, 7);
    const ended = await observe(async () => expect(await run(records(jobEnded(jobId)))).toEqual({ batchItemFailures: [] }));
    expect(await delivery(sessionId)).toMatchObject({ state: 'DELIVERED', instances: 7 });
    expect(parsed(ended.entries)).toEqual([await expectedEntry(sessionId, institutionId, 'UploadStudyDelivered', { instances: 7, jobId })]);
    expect(deliveryCounts(ended.emf)).toEqual({ StudiesSubmittedForImport: 0, StudiesDelivered: 1, StudiesDeliveryFailed: 0 });

    // EventBridge delivers at least once: the same end again, and a late copy of the accepted event.
    const again = await observe(async () => {
      expect(await run(records(jobEnded(jobId)))).toEqual({ batchItemFailures: [] });
      expect(await run(records(accepted(sessionId)))).toEqual({ batchItemFailures: [] });
    });
    expect(again).toEqual({ emf: [], entries: [] });
  });

  it('counts a study of three jobs once, after the third job completed', async () => {
    const sessionId = await acceptedSession();
    const { run, institutionId } = handler(3);
    const submitted = await observe(() => run(records(accepted(sessionId))));
    expect(submitted.entries).toEqual([]);
    expect(deliveryCounts(submitted.emf)).toEqual({ StudiesSubmittedForImport: 1, StudiesDelivered: 0, StudiesDeliveryFailed: 0 });
    const ref = await studyRef(CT_STUDY_UID);
    const [job0, job1, job2] = [`${sessionId}-${ref}`, `${sessionId}-${ref}-j1`, `${sessionId}-${ref}-j2`].map(jobIdFor) as [string, string, string];
    expect(await delivery(sessionId)).toMatchObject({ state: 'SUBMITTED', jobs: [{ jobId: job0 }, { jobId: job1 }, { jobId: job2 }] });

    await finish(sessionId, job0, 0, 3);
    await finish(sessionId, job1, 1, 3);
    const firstTwo = await observe(async () => {
      expect(await run(records(jobEnded(job0)))).toEqual({ batchItemFailures: [] });
      expect(await run(records(jobEnded(job1)))).toEqual({ batchItemFailures: [] });
    });
    expect(firstTwo).toEqual({ emf: [], entries: [] });

    await finish(sessionId, job2, 2, 1);
    const third = await observe(async () => expect(await run(records(jobEnded(job2)))).toEqual({ batchItemFailures: [] }));
    expect(parsed(third.entries)).toEqual([await expectedEntry(sessionId, institutionId, 'UploadStudyDelivered', { instances: 7, jobId: job2 })]);
    expect(deliveryCounts(third.emf)).toEqual({ StudiesSubmittedForImport: 0, StudiesDelivered: 1, StudiesDeliveryFailed: 0 });

    const repeated = await observe(async () => expect(await run(records(jobEnded(job0), jobEnded(job1), jobEnded(job2)))).toEqual({ batchItemFailures: [] }));
    expect(repeated).toEqual({ emf: [], entries: [] });
  });

  it('counts a study whose job failed for good once as failed and never as delivered', async () => {
    const sessionId = await acceptedSession();
    const { run, institutionId } = handler();
    expect(deliveryCounts((await observe(() => run(records(accepted(sessionId))))).emf)).toEqual({ StudiesSubmittedForImport: 1, StudiesDelivered: 0, StudiesDeliveryFailed: 0 });
    const jobId = jobIdFor(`${sessionId}-${await studyRef(CT_STUDY_UID)}`);
    await finish(sessionId, jobId, 0, 0, 'Access denied to the input bucket');
    const ended = await observe(async () => expect(await run(records(jobEnded(jobId, true)))).toEqual({ batchItemFailures: [] }));
    const reason = 'the import job failed: Access denied to the input bucket';
    expect(await delivery(sessionId)).toMatchObject({ state: 'FAILED', retryable: false, reason });
    expect(parsed(ended.entries)).toEqual([await expectedEntry(sessionId, institutionId, 'UploadStudyDeliveryFailed', { reason, retryable: false })]);
    expect(deliveryCounts(ended.emf)).toEqual({ StudiesSubmittedForImport: 0, StudiesDelivered: 0, StudiesDeliveryFailed: 1 });

    const again = await observe(async () => expect(await run(records(jobEnded(jobId, true)))).toEqual({ batchItemFailures: [] }));
    expect(again).toEqual({ emf: [], entries: [] });
  });

  it('counts a failure worth retrying once as failed (retryable), the import started again as submitted, and the study once as delivered when that import completed', async () => {
    const { sessionId, run, institutionId, ref, first } = await firstImportFailedRetryably();
    const failed = await observe(async () => expect(await run(records(jobEnded(first, true)))).toEqual({ batchItemFailures: [] }));
    const reason = 'the import job failed: Internal error while importing';
    expect(parsed(failed.entries)).toEqual([await expectedEntry(sessionId, institutionId, 'UploadStudyDeliveryFailed', { reason, retryable: true })]);
    expect(deliveryCounts(failed.emf)).toEqual({ StudiesSubmittedForImport: 0, StudiesDelivered: 0, StudiesDeliveryFailed: 1 });

    // The delivery queue hands the retry back: the import starts again, which delivers nothing yet.
    const retry = JSON.parse(sqs.requests.at(-1)!.body) as { MessageBody: string };
    const resubmitted = await observe(async () => expect(await run(records(retry.MessageBody))).toEqual({ batchItemFailures: [] }));
    expect(resubmitted.entries).toEqual([]);
    expect(deliveryCounts(resubmitted.emf)).toEqual({ StudiesSubmittedForImport: 1, StudiesDelivered: 0, StudiesDeliveryFailed: 0 });

    const second = jobIdFor(`${sessionId}-${ref}-2`);
    await finish(sessionId, second, 0, 7);
    const delivered = await observe(async () => expect(await run(records(jobEnded(second), jobEnded(first, true)))).toEqual({ batchItemFailures: [] }));
    expect(parsed(delivered.entries)).toEqual([await expectedEntry(sessionId, institutionId, 'UploadStudyDelivered', { instances: 7, jobId: second })]);
    expect(deliveryCounts(delivered.emf)).toEqual({ StudiesSubmittedForImport: 0, StudiesDelivered: 1, StudiesDeliveryFailed: 0 });
  });

  it('counts once when two copies of the same end event are handled at once: the conditional write lets one through', async () => {
    const sessionId = await acceptedSession();
    const { run } = handler();
    expect((await observe(() => run(records(accepted(sessionId))))).entries).toEqual([]);
    const jobId = jobIdFor(`${sessionId}-${await studyRef(CT_STUDY_UID)}`);
    await finish(sessionId, jobId, 0, 7);
    const both = await observe(async () => {
      // Both copies in one batch run side by side; a copy that lost the write comes back from SQS.
      const batch = await run(records(jobEnded(jobId), jobEnded(jobId)));
      expect(batch.batchItemFailures.length).toBeLessThanOrEqual(1);
      if (batch.batchItemFailures.length > 0) expect(await run(records(jobEnded(jobId)))).toEqual({ batchItemFailures: [] });
    });
    expect(both.entries.map((e) => e.DetailType)).toEqual(['UploadStudyDelivered']);
    expect(deliveryCounts(both.emf)).toEqual({ StudiesSubmittedForImport: 0, StudiesDelivered: 1, StudiesDeliveryFailed: 0 });
  });
  it('a PutEvents that fails when the import completed leaves the event pending: the repeated end event puts it and counts it once (not while another run holds it), a third puts nothing', async () => {
    const sessionId = await acceptedSession();
    const { run, institutionId } = handler();
    await observe(() => run(records(accepted(sessionId))));
    const jobId = jobIdFor(`${sessionId}-${await studyRef(CT_STUDY_UID)}`);
    await finish(sessionId, jobId, 0, 7);
    putEventsFailures = 1;
    const refused = await observe(async () => expect((await run(records(jobEnded(jobId)))).batchItemFailures).toHaveLength(1));
    // The state is recorded; the event was tried once and refused, so nothing is counted yet.
    expect(await delivery(sessionId)).toMatchObject({ state: 'DELIVERED', instances: 7, eventPending: true });
    expect(refused.entries.map((e) => e.DetailType)).toEqual(['UploadStudyDelivered']);
    expect(deliveryCounts(refused.emf)).toEqual({ StudiesSubmittedForImport: 0, StudiesDelivered: 0, StudiesDeliveryFailed: 0 });

    // A run that claimed the event and has not finished (or died) holds it: the end event comes back, putting nothing.
    const { updatedAt } = (await delivery(sessionId))!;
    const outbox = new DynamoStudyEventOutbox(rig.table.doc, rig.table.tableName);
    expect(await outbox.claimStudyEvent(sessionId, CT_STUDY_UID, updatedAt, new Date().toISOString(), updatedAt)).toBe('claimed');
    expect(await observe(async () => expect((await run(records(jobEnded(jobId)))).batchItemFailures).toHaveLength(1))).toEqual({ emf: [], entries: [] });
    await outbox.releaseStudyEventClaim(sessionId, CT_STUDY_UID, updatedAt);

    const retried = await observe(async () => expect(await run(records(jobEnded(jobId)))).toEqual({ batchItemFailures: [] }));
    expect(parsed(retried.entries)).toEqual([await expectedEntry(sessionId, institutionId, 'UploadStudyDelivered', { instances: 7, jobId })]);
    expect(deliveryCounts(retried.emf)).toEqual({ StudiesSubmittedForImport: 0, StudiesDelivered: 1, StudiesDeliveryFailed: 0 });
    expect((await delivery(sessionId))?.eventPending).toBeUndefined();

    const again = await observe(async () => {
      expect(await run(records(jobEnded(jobId), jobEnded(jobId)))).toEqual({ batchItemFailures: [] });
      expect(await run(records(accepted(sessionId)))).toEqual({ batchItemFailures: [] });
    });
    expect(again).toEqual({ emf: [], entries: [] });
  });

  it('a failure event PutEvents refused goes out once before the import starts again: the delivery queue\'s retry puts it, and the end event repeated puts nothing more', async () => {
    const { sessionId, run, institutionId, first } = await firstImportFailedRetryably();
    putEventsFailures = 1;
    const refused = await observe(async () => expect((await run(records(jobEnded(first, true)))).batchItemFailures).toHaveLength(1));
    expect(deliveryCounts(refused.emf).StudiesDeliveryFailed).toBe(0);

    // The retry the failure asked for arrives first: it puts the pending failure, then imports again.
    const retry = JSON.parse(sqs.requests.at(-1)!.body) as { MessageBody: string };
    const resubmitted = await observe(async () => expect(await run(records(retry.MessageBody))).toEqual({ batchItemFailures: [] }));
    const reason = 'the import job failed: Internal error while importing';
    expect(parsed(resubmitted.entries)).toEqual([await expectedEntry(sessionId, institutionId, 'UploadStudyDeliveryFailed', { reason, retryable: true })]);
    expect(deliveryCounts(resubmitted.emf)).toEqual({ StudiesSubmittedForImport: 1, StudiesDelivered: 0, StudiesDeliveryFailed: 1 });
    expect(await delivery(sessionId)).toMatchObject({ state: 'SUBMITTED' });

    const repeated = await observe(async () => expect(await run(records(jobEnded(first, true)))).toEqual({ batchItemFailures: [] }));
    expect(repeated).toEqual({ emf: [], entries: [] });
  });
});
