/**
 * The delivery stage on a real accepted session: the API and the inspector on the emulators, then
 * deliverAcceptedSession into a real Orthanc. Checks the state in DynamoDB through GET /sessions/{id}
 * (the store and view the API uses), the events, and what Orthanc holds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoSessionStore } from '../../lambdas/adapters/dynamo-session-store';
import { sessionView } from '../../lambdas/core/sessions';
import { studyRef } from '../../lambdas/core/delivery/study-ref';
import { parseInstitutionConfig } from '../../lambdas/core/institution';
import { buildDeliverAcceptedSession, dicomwebTarget } from '../../lambdas/runtime/delivery-deps';
import { corpusFile, realJpeg, realPdf } from '../delivery-fixtures';
import { testInstitution } from './helpers/emulators';
import { deleteStudy, instancesOfStudy, orthanc, simplifiedTags } from './helpers/orthanc';
import { createRig, CT_STUDY_UID, ctStudyEntries, declareCorpusDicom, declareFile, seedSession, uploadAndInspect, type Rig } from './inspection-support';

const ctFiles = ctStudyEntries().map((e) => e.file);

let rig: Rig;
let sessionId: string;
const institution = parseInstitutionConfig(
  { ...testInstitution(), delivery: { type: 'dicomweb', url: 'http://127.0.0.1:1/dicom-web', patientId: 'reference', accessionNumber: 'prefix', prefix: 'EXT-' } },
  'test',
);
const rules = institution.delivery as Extract<NonNullable<typeof institution.delivery>, { type: 'dicomweb' }>;

function delivery(url: string) {
  const infra = { doc: rig.table.doc, tableName: rig.table.tableName, s3: rig.bucket.s3, bucketName: rig.bucket.bucketName, publisher: rig.publisher, observability: rig.observability };
  return buildDeliverAcceptedSession(infra, dicomwebTarget(infra, { ...rules, url }));
}

async function studyView() {
  const state = await new DynamoSessionStore(rig.table.doc, rig.table.tableName).loadState(sessionId);
  return sessionView(state!, institution, new Date()).studies.find((s) => s.studyInstanceUid === CT_STUDY_UID);
}

beforeAll(async () => {
  await deleteStudy(CT_STUDY_UID);
  rig = await createRig('delivery-session');
  ({ sessionId } = await seedSession(rig, { codeReference: 'MRN-4711' }));
  for (const file of ctFiles) {
    const declared = await declareCorpusDicom(rig, sessionId, file);
    await uploadAndInspect(rig, declared.key, corpusFile(file));
  }
  for (const [type, bytes] of [['pdf', realPdf()], ['jpeg', realJpeg()]] as const) {
    const declared = await declareFile(rig, sessionId, { kind: 'attachment', size: bytes.length, studyInstanceUid: CT_STUDY_UID, attachmentType: type });
    await uploadAndInspect(rig, declared.key, bytes);
  }
  const completed = await rig.useCases.completeSession(sessionId, { studies: [{ studyInstanceUid: CT_STUDY_UID }], contact: {}, consent: { privacyPolicy: true, dataSharing: true } });
  expect(completed.status).toBe('ACCEPTED');
});

afterAll(async () => {
  await rig?.drop();
});

describe('delivering an accepted session', () => {
  it('shows PENDING before delivery, FAILED (retryable) while the PACS is unreachable, then DELIVERED once, with events', async () => {
    expect((await studyView())?.delivery).toEqual({ state: 'PENDING' });

    const down = delivery('http://127.0.0.1:9/dicom-web');
    const failed = await down.deliverAcceptedSession(sessionId);
    expect(failed).toMatchObject({ delivered: 0, retryable: 1 });
    expect((await studyView())?.delivery).toMatchObject({ state: 'FAILED', reason: expect.stringMatching(/ECONNREFUSED/) });
    expect(await down.deliveries.sessionsToDeliver()).toContain(sessionId);
    expect(rig.publisher.ofType('UploadStudyDeliveryFailed')).toEqual([expect.objectContaining({ sessionId, studyRef: await studyRef(CT_STUDY_UID), retryable: true })]);

    const up = delivery(orthanc().dicomwebUrl);
    expect(await up.deliverAcceptedSession(sessionId)).toEqual({ delivered: 1, submitted: 0, failed: 0, retryable: 0, skipped: 0, busy: 0 });
    expect((await studyView())?.delivery).toMatchObject({ state: 'DELIVERED', instances: ctFiles.length + 2 });
    expect(await up.deliveries.sessionsToDeliver()).not.toContain(sessionId);
    const delivered = rig.publisher.ofType('UploadStudyDelivered');
    expect(delivered).toEqual([expect.objectContaining({ sessionId, instances: ctFiles.length + 2, target: 'dicomweb' })]);
    // Events and their details carry no header data.
    expect(JSON.stringify(rig.publisher.events)).not.toMatch(/98890234|MRN-4711|1\.3\.6\.1\.4\.1\.5962/);

    const stored = await instancesOfStudy(CT_STUDY_UID);
    expect(stored).toHaveLength(ctFiles.length + 2);
    for (const { id } of stored) expect((await simplifiedTags(id)).PatientID).toBe('MRN-4711');

    // Delivered is final: a repeated run (a redelivered event) sends nothing.
    expect(await up.deliverAcceptedSession(sessionId)).toMatchObject({ delivered: 0, skipped: 1 });
    expect(rig.publisher.ofType('UploadStudyDelivered')).toHaveLength(1);
    expect(await instancesOfStudy(CT_STUDY_UID)).toHaveLength(ctFiles.length + 2);
  });

  it('lets only one of two concurrent runs deliver a study', async () => {
    const other = await seedSession(rig, { codeReference: 'MRN-9' });
    const file = ctFiles[0]!;
    const declared = await declareCorpusDicom(rig, other.sessionId, file);
    await uploadAndInspect(rig, declared.key, corpusFile(file));
    expect((await rig.useCases.completeSession(other.sessionId, { studies: [{ studyInstanceUid: CT_STUDY_UID }], contact: {}, consent: { privacyPolicy: true, dataSharing: true } })).status).toBe('ACCEPTED');
    const { deliverAcceptedSession } = delivery(orthanc().dicomwebUrl);
    const results = await Promise.all([deliverAcceptedSession(other.sessionId), deliverAcceptedSession(other.sessionId)]);
    expect(results.map((r) => r.delivered).sort()).toEqual([0, 1]);
    expect(results.map((r) => r.busy).sort()).toEqual([0, 1]);
  });
});
