/**
 * A study delivered to a real PACS (Orthanc over DICOMweb) is announced and counted once, even when
 * PutEvents fails after the delivery was recorded: the delivery use case on DynamoDB Local and the
 * local S3, publishing through the real EventBridge client, whose PutEvents requests are captured as
 * they would go out and refused on demand (no EventBridge emulator exists).
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDeliveryStore } from '../../lambdas/adapters/dynamo-delivery-store';
import { DynamoStudyEventOutbox } from '../../lambdas/adapters/dynamo-study-event-outbox';
import { EventBridgePublisher } from '../../lambdas/adapters/eventbridge-publisher';
import { studyRef } from '../../lambdas/core/delivery/study-ref';
import type { Clock } from '../../lambdas/core/ports';
import { EVENT_CLAIM_TIMEOUT_MS } from '../../lambdas/core/session-rejection';
import { parseInstitutionConfig } from '../../lambdas/core/institution';
import { buildDeliverAcceptedSession, dicomwebTarget } from '../../lambdas/runtime/delivery-deps';
import { faultyEventBridge } from './helpers/aws-capture';
import { LOCAL_CREDENTIALS, testInstitution } from './helpers/emulators';
import { deleteStudy, instancesOfStudy, orthanc } from './helpers/orthanc';
import { corpusBytes, countingObservability, createRig, declareCorpusDicom, oracleOf, seedSession, uploadAndInspect, type Rig } from './inspection-support';

const FILE = 'charset_files/chrH31.dcm';
const STUDY = String(oracleOf(FILE).attributes.StudyInstanceUID);
const BUS = 'upload-portal-test';

let rig: Rig;
/** PutEvents, recorded, refused or slowed on demand. */
const bus = faultyEventBridge();

beforeAll(async () => {
  rig = await createRig('dicomweb-study-event');
});
afterEach(() => bus.reset());
afterAll(async () => rig?.drop());

async function acceptedSession(): Promise<string> {
  await deleteStudy(STUDY);
  const { sessionId } = await seedSession(rig);
  const declared = await declareCorpusDicom(rig, sessionId, FILE);
  expect((await uploadAndInspect(rig, declared.key, corpusBytes(FILE))).response.batchItemFailures).toEqual([]);
  const completed = await rig.useCases.completeSession(sessionId, { studies: [{ studyInstanceUid: STUDY }], contact: {}, consent: { privacyPolicy: true, dataSharing: true } });
  expect(completed.status).toBe('ACCEPTED');
  return sessionId;
}

/** The delivery use case as the Lambda builds it, with its own metric counters and the real EventBridge publisher. */
function delivery(clock?: Clock) {
  const institution = parseInstitutionConfig({ ...testInstitution(), delivery: { type: 'dicomweb', url: orthanc().dicomwebUrl } }, 'test');
  const config = institution.delivery as Extract<NonNullable<typeof institution.delivery>, { type: 'dicomweb' }>;
  const client = new EventBridgeClient({ region: 'eu-west-2', credentials: LOCAL_CREDENTIALS, maxAttempts: 1, requestHandler: bus.handler });
  const publisher = new EventBridgePublisher({ client, eventBusName: BUS, institutionId: institution.id });
  const observability = countingObservability();
  const infra = { doc: rig.table.doc, tableName: rig.table.tableName, s3: rig.bucket.s3, bucketName: rig.bucket.bucketName, publisher, observability, ...(clock ? { clock } : {}) };
  return { ...buildDeliverAcceptedSession(infra, dicomwebTarget(infra, config)), observability };
}

/** The session's UploadStudyDelivered details in the PutEvents requests sent since `from`. */
function putDetails(sessionId: string, from: number) {
  return bus.requests
    .slice(from)
    .map((r) => (JSON.parse(r.body) as { Entries: { DetailType: string; Detail: string }[] }).Entries[0]!)
    .filter((e) => e.DetailType === 'UploadStudyDelivered')
    .map((e) => JSON.parse(e.Detail) as { sessionId: string; studyRef: string; instances: number })
    .filter((d) => d.sessionId === sessionId);
}

describe('a DICOMweb delivery whose event PutEvents refused', () => {
  it('is announced and counted once by the retried message, without delivering again; a repeated message announces nothing', async () => {
    const sessionId = await acceptedSession();
    const { deliverAcceptedSession, deliveries, observability } = delivery();
    const start = bus.requests.length;
    bus.failures = 1;
    // The study reached the PACS and its state is recorded; the run fails, so SQS brings the message back.
    await expect(deliverAcceptedSession(sessionId)).rejects.toThrow();
    expect(await instancesOfStudy(STUDY)).toHaveLength(1);
    expect((await deliveries.deliveries(sessionId)).get(STUDY)).toMatchObject({ state: 'DELIVERED', instances: 1, eventPending: true });
    expect(bus.requests).toHaveLength(start + 1);
    expect(observability.total('StudiesDelivered')).toBe(0);

    expect(await deliverAcceptedSession(sessionId)).toMatchObject({ delivered: 0, skipped: 1, retryable: 0 });
    expect(bus.requests).toHaveLength(start + 2);
    expect(putDetails(sessionId, start + 1)).toEqual([expect.objectContaining({ studyRef: await studyRef(STUDY), instances: 1, target: 'dicomweb' })]);
    expect(observability.total('StudiesDelivered')).toBe(1);
    expect((await deliveries.deliveries(sessionId)).get(STUDY)?.eventPending).toBeUndefined();

    expect(await deliverAcceptedSession(sessionId)).toMatchObject({ delivered: 0, skipped: 1 });
    expect(bus.requests).toHaveLength(start + 2);
    expect(observability.total('StudiesDelivered')).toBe(1);
    expect(await instancesOfStudy(STUDY)).toHaveLength(1);
  }, 120_000);

  it('two runs at once after the refusal announce it once: the claim lets one through', async () => {
    const sessionId = await acceptedSession();
    const { deliverAcceptedSession, observability } = delivery();
    bus.failures = 1;
    await expect(deliverAcceptedSession(sessionId)).rejects.toThrow();
    const start = bus.requests.length;
    bus.delayMs = 500;
    const both = await Promise.all([deliverAcceptedSession(sessionId), deliverAcceptedSession(sessionId)]);
    // One run publishes; the other meets its claim and reports the study busy (its message would come back and find it done).
    expect(both.map((r) => ({ skipped: r.skipped, busy: r.busy })).sort((a, b) => a.busy - b.busy)).toEqual([{ skipped: 1, busy: 0 }, { skipped: 0, busy: 1 }]);
    expect(putDetails(sessionId, start)).toHaveLength(1);
    expect(await deliverAcceptedSession(sessionId)).toMatchObject({ skipped: 1, busy: 0 });
    expect(bus.requests).toHaveLength(start + 1);
    expect(observability.total('StudiesDelivered')).toBe(1);
  }, 120_000);

  it('an event claimed by a run that died holds the study busy, so the message comes back; once the claim is stale a run announces it once', async () => {
    const sessionId = await acceptedSession();
    bus.failures = 1;
    await expect(delivery().deliverAcceptedSession(sessionId)).rejects.toThrow();
    const { updatedAt } = (await new DynamoDeliveryStore({ doc: rig.table.doc, tableName: rig.table.tableName }).deliveries(sessionId)).get(STUDY)!;
    // What a run leaves when it dies between claiming the event and PutEvents.
    const claimedAt = new Date();
    expect(await new DynamoStudyEventOutbox(rig.table.doc, rig.table.tableName).claimStudyEvent(sessionId, STUDY, updatedAt, claimedAt.toISOString(), updatedAt)).toBe('claimed');

    const start = bus.requests.length;
    const now = delivery();
    expect(await now.deliverAcceptedSession(sessionId)).toMatchObject({ busy: 1, skipped: 0 });
    expect(bus.requests).toHaveLength(start);

    const later = delivery({ now: () => new Date(claimedAt.getTime() + EVENT_CLAIM_TIMEOUT_MS + 1000) });
    expect(await later.deliverAcceptedSession(sessionId)).toMatchObject({ busy: 0, skipped: 1 });
    expect(putDetails(sessionId, start)).toHaveLength(1);
    expect(bus.requests).toHaveLength(start + 1);
    expect(now.observability.total('StudiesDelivered') + later.observability.total('StudiesDelivered')).toBe(1);
    expect(await instancesOfStudy(STUDY)).toHaveLength(1);
  }, 120_000);
});
