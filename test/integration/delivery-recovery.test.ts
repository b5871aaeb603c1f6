/**
 * A delivery killed in the middle of a study (the Lambda timed out, local mode was killed): its claim
 * stays PENDING with part of the study already in the PACS. Another run leaves it alone while the
 * claim is fresh, takes it over once it is stale, and afterwards Orthanc holds every instance exactly
 * once. Real session (API and inspector on the emulators), real Orthanc, checked in its REST API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DicomwebDeliveryTarget } from '../../lambdas/adapters/dicomweb-delivery-target';
import { DynamoDeliveryStore } from '../../lambdas/adapters/dynamo-delivery-store';
import { S3ObjectReader } from '../../lambdas/adapters/s3-object-reader';
import { S3ObjectStreamer } from '../../lambdas/adapters/s3-object-streamer';
import { makeStudyInstances } from '../../lambdas/core/delivery/study-instances';
import type { StudyDeliveryRequest } from '../../lambdas/core/ports';
import { buildDeliverAcceptedSession, dicomwebTarget } from '../../lambdas/runtime/delivery-deps';
import { corpusFile, realPdf } from '../delivery-fixtures';
import { deleteStudy, instancesOfStudy, orthanc, simplifiedTags } from './helpers/orthanc';
import { createRig, CT_STUDY_UID, ctStudyEntries, declareCorpusDicom, declareFile, seedSession, uploadAndInspect, type Rig } from './inspection-support';

const ctFiles = ctStudyEntries().map((e) => e.file);
const RULES = { patientId: 'reference', accessionNumber: 'prefix', prefix: 'EXT-' } as const;

let rig: Rig;
let sessionId: string;
let now = new Date('2026-12-01T10:00:00Z');
const clock = { now: () => now };

function infra() {
  return { doc: rig.table.doc, tableName: rig.table.tableName, s3: rig.bucket.s3, bucketName: rig.bucket.bucketName, publisher: rig.publisher, observability: rig.observability, clock };
}

beforeAll(async () => {
  await deleteStudy(CT_STUDY_UID);
  rig = await createRig('delivery-recovery');
  ({ sessionId } = await seedSession(rig, { codeReference: 'MRN-RECOVER' }));
  for (const file of ctFiles) {
    const declared = await declareCorpusDicom(rig, sessionId, file);
    await uploadAndInspect(rig, declared.key, corpusFile(file));
  }
  const pdf = realPdf('recovery');
  const declared = await declareFile(rig, sessionId, { kind: 'attachment', size: pdf.length, studyInstanceUid: CT_STUDY_UID, attachmentType: 'pdf' });
  await uploadAndInspect(rig, declared.key, pdf);
  const completed = await rig.useCases.completeSession(sessionId, { studies: [{ studyInstanceUid: CT_STUDY_UID }], contact: {}, consent: { privacyPolicy: true, dataSharing: true } });
  expect(completed.status).toBe('ACCEPTED');
});

afterAll(async () => {
  await rig?.drop();
});

async function until(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('recovering a delivery killed mid-study', () => {
  it('leaves a fresh claim alone, takes a stale one over, and Orthanc ends with every instance exactly once', async () => {
    // The killed run: requests of two instances; after the third instance is prepared it never goes on,
    // like a process that died (nothing recorded, the claim left PENDING).
    const bucket = { s3: rig.bucket.s3, bucketName: rig.bucket.bucketName };
    const inner = makeStudyInstances({ reader: new S3ObjectReader(bucket), streamer: new S3ObjectStreamer(bucket), rules: RULES, now: () => now });
    const dying = async function* (request: StudyDeliveryRequest) {
      let prepared = 0;
      for await (const instance of inner(request)) {
        if (++prepared === 4) await new Promise(() => undefined);
        yield instance;
      }
    };
    const killed = buildDeliverAcceptedSession(infra(), new DicomwebDeliveryTarget({ url: orthanc().dicomwebUrl, studyInstances: dying, maxInstancesPerRequest: 2, attempts: 1 }));
    void killed.deliverAcceptedSession(sessionId);
    await until(async () => (await instancesOfStudy(CT_STUDY_UID)).length === 2);
    const store = new DynamoDeliveryStore({ doc: rig.table.doc, tableName: rig.table.tableName });
    expect((await store.deliveries(sessionId)).get(CT_STUDY_UID)).toMatchObject({ state: 'PENDING' });

    // A run while the claim is fresh (a queue redelivery, local mode's resume) leaves it alone.
    now = new Date(now.getTime() + 60_000);
    const recovery = buildDeliverAcceptedSession(infra(), dicomwebTarget(infra(), { type: 'dicomweb', url: orthanc().dicomwebUrl, ...RULES }));
    expect(await recovery.deliverAcceptedSession(sessionId)).toMatchObject({ delivered: 0, busy: 1 });
    expect(await instancesOfStudy(CT_STUDY_UID)).toHaveLength(2);

    // Past the claim timeout (15 minutes) the claim is stale: the next run takes the study over.
    now = new Date(now.getTime() + 15 * 60_000);
    expect(await recovery.deliverAcceptedSession(sessionId)).toMatchObject({ delivered: 1, busy: 0, retryable: 0 });
    const stored = await instancesOfStudy(CT_STUDY_UID);
    expect(stored).toHaveLength(ctFiles.length + 1);
    expect(new Set(stored.map((s) => s.sopInstanceUid)).size).toBe(ctFiles.length + 1);
    expect((await store.deliveries(sessionId)).get(CT_STUDY_UID)).toMatchObject({ state: 'DELIVERED', instances: ctFiles.length + 1, attempts: 1 });
    for (const { id } of stored) expect((await simplifiedTags(id)).PatientID).toBe('MRN-RECOVER');
  });
});
