/**
 * The audit trail of a HealthImaging delivery: the delivery Lambda (handler and AWS composition, as
 * deliveryDeps wires it with the audit trail) on real accepted sessions (DynamoDB Local, s3rver,
 * corpus files). HealthImaging has no emulator: its real SDK client sends through a recording
 * request handler that answers as AWS documents. The end of an import job is audited as the
 * study's DELIVERED or FAILED record, as a DICOMweb delivery is, once however often its event comes.
 */
import { MedicalImagingClient } from '@aws-sdk/client-medical-imaging';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { SQSEvent } from 'aws-lambda';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../lambdas/core/audit';
import { codeIdOf } from '../../lambdas/core/code-admin';
import { studyRef } from '../../lambdas/core/delivery/study-ref';
import { stagingLocation } from '../../lambdas/core/delivery-staging';
import { parseInstitutionConfig } from '../../lambdas/core/institution';
import { createDeliveryHandler } from '../../lambdas/handlers/delivery';
import { createAwsDeliveryDeps } from '../../lambdas/runtime/delivery-aws-deps';
import { recordingHandler, type CannedAnswer, type CapturedRequest } from './helpers/aws-capture';
import { LOCAL_CREDENTIALS, testConfig, testInstitution } from './helpers/emulators';
import { DATASTORE_ID, IMPORT_ROLE_ARN } from './helpers/healthimaging';
import { corpusBytes, createRig, CT_STUDY_UID, ctStudyEntries, declareCorpusDicom, seedSession, uploadAndInspect, type Rig } from './inspection-support';

const ct = ctStudyEntries();

let rig: Rig;
/** Per job: GetDICOMImportJob's status and the staging prefixes of the session it imports. */
const jobs = new Map<string, { status: string; sessionId: string }>();
const jobIdFor = (token: string) => createHash('sha256').update(token).digest('hex').slice(0, 32);

const imaging = recordingHandler((request: CapturedRequest): CannedAnswer => {
  if (request.path.startsWith('/startDICOMImportJob/')) {
    const body = JSON.parse(request.body) as { clientToken: string; inputS3Uri: string };
    const jobId = jobIdFor(body.clientToken);
    const sessionId = /deliveries\/([^/]+)\//.exec(body.inputS3Uri)![1]!;
    if (!jobs.has(jobId)) jobs.set(jobId, { status: 'SUBMITTED', sessionId });
    return { status: 200, body: { datastoreId: DATASTORE_ID, jobId, jobStatus: 'SUBMITTED', submittedAt: 1 } };
  }
  const jobId = request.path.split('/').at(-1)!;
  const job = jobs.get(jobId)!;
  const { inputPrefix, outputPrefix } = stagingLocation(job.sessionId, ref);
  const jobProperties = {
    jobId, jobName: 'x', jobStatus: job.status, datastoreId: DATASTORE_ID, dataAccessRoleArn: IMPORT_ROLE_ARN, submittedAt: 1,
    inputS3Uri: `s3://${rig.bucket.bucketName}/${inputPrefix}`, outputS3Uri: `s3://${rig.bucket.bucketName}/${outputPrefix}${DATASTORE_ID}-DicomImport-${jobId}/`,
  };
  return { status: 200, body: { jobProperties } };
});
let ref: string;

function handler() {
  const institution = parseInstitutionConfig({ ...testInstitution(), delivery: { type: 'healthimaging', datastoreId: DATASTORE_ID } }, 'test');
  const config = { ...testConfig({ tableName: rig.table.tableName, bucketName: rig.bucket.bucketName, institution }), importRoleArn: IMPORT_ROLE_ARN };
  const infra = { doc: rig.table.doc, tableName: rig.table.tableName, s3: rig.bucket.s3, bucketName: rig.bucket.bucketName, publisher: rig.publisher, observability: rig.observability };
  const client = new MedicalImagingClient({ region: 'eu-west-2', credentials: LOCAL_CREDENTIALS, maxAttempts: 1, requestHandler: imaging.handler });
  return createDeliveryHandler({ ...createAwsDeliveryDeps(config, infra, { imaging: client }), audit: rig.api!.deps.audit });
}

const sqs = (...bodies: unknown[]): SQSEvent => ({ Records: bodies.map((body, i) => ({ messageId: `m${i}`, body: JSON.stringify(body) })) }) as unknown as SQSEvent;
const accepted = (sessionId: string) => ({ source: 'upload-portal.demo', 'detail-type': 'UploadSessionAccepted', detail: { sessionId } });
const jobEnded = (jobId: string) => ({ source: 'aws.medical-imaging', 'detail-type': 'Import Job Completed', detail: { jobId, datastoreId: DATASTORE_ID, jobStatus: 'COMPLETED' } });

/** A session holding the CT study, accepted, and its code's audit records. */
async function acceptedSession(): Promise<{ sessionId: string; audit: () => Promise<AuditEntry[]> }> {
  const { sessionId } = await seedSession(rig, { codeReference: 'MRN-4711' });
  for (const entry of ct) {
    const declared = await declareCorpusDicom(rig, sessionId, entry.file);
    await uploadAndInspect(rig, declared.key, corpusBytes(entry.file));
  }
  const completed = await rig.useCases.completeSession(sessionId, { studies: [{ studyInstanceUid: CT_STUDY_UID }], contact: {}, consent: { privacyPolicy: true, dataSharing: true } });
  expect(completed.status).toBe('ACCEPTED');
  const codeId = codeIdOf((await rig.useCases.sessions.get(sessionId))!.codeHash);
  const audit = async () => (await rig.api!.deps.readAuditTrail({ codeId })).records.filter((r) => r.event.startsWith('STUDY_'));
  return { sessionId, audit };
}

/** Submits the session's study, then ends its one job: `output` is written as the job's SUCCESS or FAILURE file. */
async function importEnds(sessionId: string, output: { file: 'SUCCESS/success.ndjson' | 'FAILURE/failure.ndjson'; lines: string }): Promise<string> {
  const run = handler();
  expect(await run(sqs(accepted(sessionId)))).toEqual({ batchItemFailures: [] });
  const jobId = [...jobs].find(([, job]) => job.sessionId === sessionId)![0];
  jobs.get(jobId)!.status = 'COMPLETED';
  const folder = `${stagingLocation(sessionId, ref).outputPrefix}${DATASTORE_ID}-DicomImport-${jobId}/`;
  await rig.bucket.s3.send(new PutObjectCommand({ Bucket: rig.bucket.bucketName, Key: `${folder}${output.file}`, Body: output.lines }));
  expect(await run(sqs(jobEnded(jobId)))).toEqual({ batchItemFailures: [] });
  return jobId;
}

/** What a record may hold: the code, the study's UID and counts; never the patient (docs/operations.md). */
function expectNoPatientData(records: AuditEntry[]): void {
  const text = JSON.stringify(records);
  for (const entry of ct) {
    for (const value of [entry.attributes.PatientName, entry.attributes.PatientID, entry.attributes.SOPInstanceUID]) {
      if (typeof value === 'string' && value.trim().length > 2) expect(text).not.toContain(value.trim());
    }
  }
}

beforeAll(async () => {
  expect(ct.length).toBeGreaterThan(1);
  ref = await studyRef(CT_STUDY_UID);
  rig = await createRig('healthimaging-audit');
});
afterAll(async () => rig?.drop());

describe('audit of a HealthImaging import', () => {
  it('records the study DELIVERED when its import job ends, once however often the end event comes', async () => {
    const { sessionId, audit } = await acceptedSession();
    const lines = ct.map((_, i) => JSON.stringify({ inputFile: `input/f${i}.dcm`, importResponse: { imageSetId: '1'.repeat(32), isPrimary: true } })).join('\n');
    const jobId = await importEnds(sessionId, { file: 'SUCCESS/success.ndjson', lines });
    expect(await handler()(sqs(jobEnded(jobId), jobEnded(jobId)))).toEqual({ batchItemFailures: [] });

    const records = await audit();
    expect(records.map((r) => r.event)).toEqual(['STUDY_DELIVERY_SUBMITTED', 'STUDY_DELIVERED']);
    expect(records[1]).toMatchObject({
      actor: 'delivery', outcome: 'success', sessionId, reference: 'MRN-4711',
      studyInstanceUid: CT_STUDY_UID, target: 'healthimaging', instances: ct.length,
    });
    expectNoPatientData(records);
  });

  it('records the study FAILED when HealthImaging refused its files', async () => {
    const { sessionId, audit } = await acceptedSession();
    const line = JSON.stringify({ inputFile: 'input/f0.dcm', exception: { exceptionType: 'ValidationException', message: 'DICOM attribute TransferSyntaxUID does not exist' } });
    await importEnds(sessionId, { file: 'FAILURE/failure.ndjson', lines: line });

    const records = await audit();
    expect(records.map((r) => r.event)).toEqual(['STUDY_DELIVERY_SUBMITTED', 'STUDY_DELIVERY_FAILED']);
    expect(records[1]).toMatchObject({ actor: 'delivery', outcome: 'failure', sessionId, studyInstanceUid: CT_STUDY_UID, target: 'healthimaging' });
    // The refusal's reason stays on the study's delivery state; the record says only that it failed.
    expect(JSON.stringify(records)).not.toContain('TransferSyntaxUID');
    expectNoPatientData(records);
  });
});
