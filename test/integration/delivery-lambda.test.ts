/**
 * The AWS delivery Lambda as deployed: its handler and the AWS composition (delivery-aws-deps.ts)
 * on a real accepted session (API and inspector on DynamoDB Local and s3rver, corpus files).
 * HealthImaging and Secrets Manager have no emulator: their real SDK clients send through a
 * recording request handler (helpers/aws-capture.ts) that answers as AWS documents.
 */
import { MedicalImagingClient } from '@aws-sdk/client-medical-imaging';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDeliveryStore } from '../../lambdas/adapters/dynamo-delivery-store';
import { loadDicomwebCredentials, SecretFormatError } from '../../lambdas/adapters/secrets-manager-dicomweb-credentials';
import { studyRef } from '../../lambdas/core/delivery/study-ref';
import { stagingLocation } from '../../lambdas/core/delivery-staging';
import { parseInstitutionConfig } from '../../lambdas/core/institution';
import { createDeliveryHandler } from '../../lambdas/handlers/delivery';
import { createAwsDeliveryDeps } from '../../lambdas/runtime/delivery-aws-deps';
import { recordingHandler, type CannedAnswer, type CapturedRequest } from './helpers/aws-capture';
import { LOCAL_CREDENTIALS, testConfig, testInstitution } from './helpers/emulators';
import { DATASTORE_ID, IMPORT_ROLE_ARN } from './helpers/healthimaging';
import { corpusBytes, createRig, CT_STUDY_UID, ctStudyEntries, declareCorpusDicom, seedSession, uploadAndInspect, type Rig } from './inspection-support';

const JOB_ID = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const ctFiles = ctStudyEntries().map((e) => e.file);

let rig: Rig;
let sessionId: string;
let jobStatus = 'SUBMITTED';
/** The study's hash in keys and events. */
let ctRef: string;
const imaging = recordingHandler((request) => answerImaging(request));

function answerImaging(request: CapturedRequest): CannedAnswer {
  if (request.path.startsWith('/startDICOMImportJob/')) return { status: 200, body: { datastoreId: DATASTORE_ID, jobId: JOB_ID, jobStatus: 'SUBMITTED', submittedAt: 1 } };
  const { inputPrefix, outputPrefix } = stagingLocation(sessionId, ctRef);
  const jobProperties = {
    jobId: JOB_ID, jobName: 'x', jobStatus, datastoreId: DATASTORE_ID, dataAccessRoleArn: IMPORT_ROLE_ARN, submittedAt: 1,
    inputS3Uri: `s3://${rig.bucket.bucketName}/${inputPrefix}`, outputS3Uri: `s3://${rig.bucket.bucketName}/${outputPrefix}${DATASTORE_ID}-DicomImport-${JOB_ID}/`,
  };
  return { status: 200, body: { jobProperties } };
}

function sqs(...events: unknown[]): SQSEvent {
  return { Records: events.map((body, i) => ({ messageId: `m${i}`, body: JSON.stringify(body) })) } as unknown as SQSEvent;
}
const accepted = () => ({ source: 'upload-portal.demo', 'detail-type': 'UploadSessionAccepted', detail: { sessionId } });
const jobCompleted = () => ({ source: 'aws.medical-imaging', 'detail-type': 'Import Job Completed', detail: { jobId: JOB_ID, datastoreId: DATASTORE_ID, jobStatus: 'COMPLETED' } });

function healthImagingHandler() {
  const institution = parseInstitutionConfig({ ...testInstitution(), delivery: { type: 'healthimaging', datastoreId: DATASTORE_ID } }, 'test');
  const config = { ...testConfig({ tableName: rig.table.tableName, bucketName: rig.bucket.bucketName, institution }), importRoleArn: IMPORT_ROLE_ARN };
  const infra = { doc: rig.table.doc, tableName: rig.table.tableName, s3: rig.bucket.s3, bucketName: rig.bucket.bucketName, publisher: rig.publisher, observability: rig.observability };
  const client = new MedicalImagingClient({ region: 'eu-west-2', credentials: LOCAL_CREDENTIALS, maxAttempts: 1, requestHandler: imaging.handler });
  return createDeliveryHandler(createAwsDeliveryDeps(config, infra, { imaging: client }));
}

async function studyDelivery() {
  return (await new DynamoDeliveryStore({ doc: rig.table.doc, tableName: rig.table.tableName }).deliveries(sessionId)).get(CT_STUDY_UID);
}

beforeAll(async () => {
  expect(ctFiles.length).toBeGreaterThan(1);
  ctRef = await studyRef(CT_STUDY_UID);
  rig = await createRig('delivery-lambda');
  ({ sessionId } = await seedSession(rig));
  for (const file of ctFiles) {
    const declared = await declareCorpusDicom(rig, sessionId, file);
    await uploadAndInspect(rig, declared.key, corpusBytes(file));
  }
  const completed = await rig.useCases.completeSession(sessionId, { studies: [{ studyInstanceUid: CT_STUDY_UID }], contact: {}, consent: { privacyPolicy: true, dataSharing: true } });
  expect(completed.status).toBe('ACCEPTED');
});

afterAll(async () => rig?.drop());

describe('delivery Lambda with HealthImaging', () => {
  it('stages the accepted study, starts one import job and records the study SUBMITTED', async () => {
    const handler = healthImagingHandler();
    expect(await handler(sqs(accepted()))).toEqual({ batchItemFailures: [] });
    expect(await studyDelivery()).toMatchObject({ state: 'SUBMITTED', target: 'healthimaging', jobId: JOB_ID });
    const starts = imaging.requests.filter((r) => r.path.startsWith('/startDICOMImportJob/'));
    expect(starts).toHaveLength(1);
    expect(JSON.parse(starts[0]!.body)).toMatchObject({ dataAccessRoleArn: IMPORT_ROLE_ARN, inputS3Uri: expect.stringContaining(`/deliveries/${sessionId}/${ctRef}/input/`) });
    expect(await rig.bucket.listKeys(stagingLocation(sessionId, ctRef).inputPrefix)).toHaveLength(ctFiles.length);
    // A redelivered accepted event sends nothing again: the study is SUBMITTED.
    expect(await handler(sqs(accepted()))).toEqual({ batchItemFailures: [] });
    expect(imaging.requests.filter((r) => r.path.startsWith('/startDICOMImportJob/'))).toHaveLength(1);
  });

  it('retries a job-end event while the job still runs, then records DELIVERED once from the job\'s output', async () => {
    const handler = healthImagingHandler();
    jobStatus = 'IN_PROGRESS';
    expect(await handler(sqs(jobCompleted()))).toEqual({ batchItemFailures: [{ itemIdentifier: 'm0' }] });
    expect(await studyDelivery()).toMatchObject({ state: 'SUBMITTED' });

    jobStatus = 'COMPLETED';
    const { outputPrefix } = stagingLocation(sessionId, ctRef);
    const lines = ctFiles.map((_, i) => JSON.stringify({ inputFile: `input/f${i}.dcm`, importResponse: { imageSetId: '1'.repeat(32), isPrimary: true } })).join('\n');
    await rig.bucket.s3.send(new PutObjectCommand({ Bucket: rig.bucket.bucketName, Key: `${outputPrefix}${DATASTORE_ID}-DicomImport-${JOB_ID}/SUCCESS/success.ndjson`, Body: lines }));
    const before = rig.publisher.events.length;
    expect(await handler(sqs(jobCompleted()))).toEqual({ batchItemFailures: [] });
    expect(await studyDelivery()).toMatchObject({ state: 'DELIVERED', instances: ctFiles.length, jobId: JOB_ID });
    const published = rig.publisher.events.slice(before);
    expect(published.map((e) => e.detailType)).toEqual(['UploadStudyDelivered']);
    expect(published[0]!.detail).toMatchObject({ sessionId, studyRef: ctRef, target: 'healthimaging', instances: ctFiles.length, jobId: JOB_ID });
    // No UID or header value in the event.
    expect(JSON.stringify(published[0])).not.toContain(CT_STUDY_UID);

    // The same end event again changes nothing and publishes nothing.
    expect(await handler(sqs(jobCompleted()))).toEqual({ batchItemFailures: [] });
    expect(rig.publisher.events.length).toBe(before + 1);
  });
});

describe('DICOMweb credentials from Secrets Manager', () => {
  const ARN = 'arn:aws:secretsmanager:eu-west-2:111122223333:secret:upload-portal/pacs-AbC123';
  const client = (secretString: string) => {
    const recorder = recordingHandler(() => ({ status: 200, body: { ARN, Name: 'upload-portal/pacs', SecretString: secretString, VersionId: 'v1' } }));
    return { recorder, client: new SecretsManagerClient({ region: 'eu-west-2', credentials: LOCAL_CREDENTIALS, maxAttempts: 1, requestHandler: recorder.handler }) };
  };

  it('reads exactly the configured secret with one GetSecretValue', async () => {
    const { recorder, client: sm } = client(JSON.stringify({ username: 'stow', password: 's3cret' }));
    expect(await loadDicomwebCredentials(sm, { type: 'basic', secretArn: ARN })).toEqual({ type: 'basic', username: 'stow', password: 's3cret' });
    expect(recorder.requests).toHaveLength(1);
    expect(recorder.requests[0]!.headers['x-amz-target']).toBe('secretsmanager.GetSecretValue');
    expect(recorder.requests[0]!.headers.host).toBe('secretsmanager.eu-west-2.amazonaws.com');
    expect(JSON.parse(recorder.requests[0]!.body)).toEqual({ SecretId: ARN });
  });

  it('reads a bearer token, and refuses a secret of the wrong shape without quoting it', async () => {
    expect(await loadDicomwebCredentials(client(JSON.stringify({ token: 'tok-123' })).client, { type: 'bearer', secretArn: ARN })).toEqual({ type: 'bearer', token: 'tok-123' });
    await expect(loadDicomwebCredentials(client('{"password":"leaked"}').client, { type: 'basic', secretArn: ARN })).rejects.toThrow(SecretFormatError);
    await expect(loadDicomwebCredentials(client('plain-text-secret').client, { type: 'bearer', secretArn: ARN })).rejects.toThrow(/not JSON/);
    await expect(loadDicomwebCredentials(client('plain-text-secret').client, { type: 'bearer', secretArn: ARN })).rejects.not.toThrow(/plain-text-secret/);
  });
});
