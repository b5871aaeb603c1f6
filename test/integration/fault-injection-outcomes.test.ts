/**
 * Faults the emulators never produce (helpers/faults.ts) at the later steps: the completion (the
 * manifest write and the accepted mark), the delivery (reading objects for the PACS) and the audit
 * trail. Each outcome is retried or reported; nothing is lost and nothing happens twice: one
 * acceptance, one UploadSessionAccepted, one delivered study in Orthanc, one audit record.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseInstitutionConfig } from '../../lambdas/core/institution';
import { buildDeliverAcceptedSession, dicomwebTarget } from '../../lambdas/runtime/delivery-deps';
import { dicomFile, testUid } from './helpers/api';
import { testInstitution } from './helpers/emulators';
import { faults, injectFaults, type FaultPlan } from './helpers/faults';
import { deleteStudy, instancesOfStudy, orthanc } from './helpers/orthanc';
import { corpusBytes, createRig, declareCorpusDicom, oracleOf, seedSession, uploadAndInspect, type Rig } from './inspection-support';

const FILE = 'charset_files/chrH31.dcm';
const STUDY = String(oracleOf(FILE).attributes.StudyInstanceUID);
const CONSENT = { privacyPolicy: true, dataSharing: true };

let rig: Rig;
let inspectionDynamo: FaultPlan;
let inspectionS3: FaultPlan;
let apiDynamo: FaultPlan;

beforeAll(async () => {
  rig = await createRig('faults-later');
  inspectionDynamo = injectFaults(rig.table.doc);
  inspectionS3 = injectFaults(rig.bucket.s3);
  apiDynamo = injectFaults(rig.api!.clients.dynamo);
});
afterAll(async () => rig?.drop());

async function verifiedSession() {
  const { sessionId } = await seedSession(rig);
  const declared = await declareCorpusDicom(rig, sessionId, FILE);
  const { response } = await uploadAndInspect(rig, declared.key, corpusBytes(FILE));
  expect(response.batchItemFailures).toEqual([]);
  return sessionId;
}

const complete = (sessionId: string) => rig.useCases.completeSession(sessionId, { studies: [{ studyInstanceUid: STUDY }], contact: {}, consent: CONSENT });
const acceptedEvents = (sessionId: string) => rig.publisher.ofType('UploadSessionAccepted').filter((e) => e.sessionId === sessionId);

describe('completion under faults', () => {
  it('a manifest write S3 keeps failing is reported, the lock is given back, and the next completion accepts once', async () => {
    const sessionId = await verifiedSession();
    inspectionS3.add({ command: 'PutObjectCommand', times: 1000, answer: faults.s3Status(503) });
    await expect(complete(sessionId)).rejects.toThrow();
    inspectionS3.clear();
    expect((await rig.useCases.sessions.get(sessionId))?.status).toBe('OPEN');
    expect(acceptedEvents(sessionId)).toEqual([]);

    expect(await complete(sessionId)).toMatchObject({ status: 'ACCEPTED' });
    expect(await complete(sessionId)).toMatchObject({ status: 'ACCEPTED' });
    expect(acceptedEvents(sessionId)).toHaveLength(1);
  }, 120_000);

  it('a throttled accepted mark is retried: accepted once, one event', async () => {
    const sessionId = await verifiedSession();
    inspectionDynamo.add({ command: 'UpdateItemCommand', times: 2, answer: faults.dynamoThrottled });
    expect(await complete(sessionId)).toMatchObject({ status: 'ACCEPTED' });
    expect(inspectionDynamo.fired).toEqual(['UpdateItemCommand', 'UpdateItemCommand']);
    inspectionDynamo.clear();
    expect(acceptedEvents(sessionId)).toHaveLength(1);
  });
});

describe('delivery under faults', () => {
  it('objects S3 cannot read fail the study as retryable; the retry delivers it once', async () => {
    await deleteStudy(STUDY);
    const sessionId = await verifiedSession();
    expect(await complete(sessionId)).toMatchObject({ status: 'ACCEPTED' });
    const { table, bucket } = rig;
    const institution = parseInstitutionConfig({ ...testInstitution(), delivery: { type: 'dicomweb', url: orthanc().dicomwebUrl } }, 'test');
    const config = institution.delivery as Extract<NonNullable<typeof institution.delivery>, { type: 'dicomweb' }>;
    const infra = { doc: table.doc, tableName: table.tableName, s3: bucket.s3, bucketName: bucket.bucketName, publisher: rig.publisher, observability: rig.observability };
    const { deliverAcceptedSession } = buildDeliverAcceptedSession(infra, dicomwebTarget(infra, config));

    inspectionS3.add({ command: 'GetObjectCommand', times: 1000, answer: faults.s3Status(500) });
    expect(await deliverAcceptedSession(sessionId)).toMatchObject({ delivered: 0, retryable: 1 });
    inspectionS3.clear();
    expect(await instancesOfStudy(STUDY)).toEqual([]);

    expect(await deliverAcceptedSession(sessionId)).toMatchObject({ delivered: 1, retryable: 0 });
    expect(await deliverAcceptedSession(sessionId)).toMatchObject({ delivered: 0, skipped: 1 });
    expect(await instancesOfStudy(STUDY)).toHaveLength(1);
    expect(rig.publisher.ofType('UploadStudyDelivered').filter((e) => e.sessionId === sessionId)).toHaveLength(1);
  }, 120_000);
});

describe('the audit trail under faults', () => {
  it('a throttled audit write is retried and recorded once; one that keeps failing never fails the request', async () => {
    const { sessionId, token } = await seedSession(rig);
    apiDynamo.add({ command: 'PutItemCommand', times: 2, answer: faults.dynamoThrottled });
    expect((await rig.api!.requestUploads(sessionId, token, [dicomFile(testUid(), 100)])).status).toBe(201);
    expect(apiDynamo.fired).toEqual(['PutItemCommand', 'PutItemCommand']);
    apiDynamo.clear();

    apiDynamo.add({ command: 'PutItemCommand', times: 1000, answer: faults.dynamoThrottled });
    expect((await rig.api!.requestUploads(sessionId, token, [dicomFile(testUid(), 200)])).status).toBe(201);
    apiDynamo.clear();

    const codeId = (await rig.useCases.sessions.get(sessionId))!.codeHash.slice(0, 12);
    const records = (await rig.api!.deps.readAuditTrail({ codeId })).records.filter((r) => r.event === 'FILES_DECLARED');
    expect(records.map((r) => r.bytes)).toEqual([100]);
  }, 120_000);
});
