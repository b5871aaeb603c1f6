/**
 * A session's final event (UploadSessionRejected, UploadSessionAccepted) is never lost to a run that died
 * holding its claim, and never published twice: the inspector, the completion and the sweep on DynamoDB Local
 * and the local S3, publishing through the real EventBridge client, whose PutEvents requests are captured as
 * they would go out and refused or slowed on demand (no EventBridge emulator exists). A dead run is what it
 * leaves in the table: a claim on the session's event and no PutEvents.
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DynamoEventOutbox } from '../../lambdas/adapters/dynamo-event-outbox';
import { EventBridgePublisher } from '../../lambdas/adapters/eventbridge-publisher';
import { createInspectorHandler } from '../../lambdas/handlers/inspector';
import { EVENT_CLAIM_TIMEOUT_MS } from '../../lambdas/core/session-rejection';
import { FINAL_EVENTS_PER_SWEEP } from '../../lambdas/core/sweep-expired';
import { buildInspectionUseCases } from '../../lambdas/runtime/inspection-deps';
import { faultyEventBridge } from './helpers/aws-capture';
import { LOCAL_CREDENTIALS } from './helpers/emulators';
import {
  corpusBytes,
  countingObservability,
  createRig,
  declareCorpusDicom,
  oracleOf,
  putObject,
  seedSession,
  sqsEvent,
  sqsMessage,
  type Rig,
  type StoredObject,
} from './inspection-support';

const FILE = 'charset_files/chrH31.dcm';
const STUDY = String(oracleOf(FILE).attributes.StudyInstanceUID);
const CONSENT = { privacyPolicy: true, dataSharing: true };
const AFTER_TIMEOUT_MS = EVENT_CLAIM_TIMEOUT_MS + 1000;

let rig: Rig;
/** PutEvents, recorded, refused or slowed on demand. */
const bus = faultyEventBridge();

beforeAll(async () => {
  rig = await createRig('session-event-outbox');
});
afterEach(() => bus.reset());
afterAll(async () => rig?.drop());

/** The inspection half as the Lambdas build it, with the real EventBridge publisher and a clock `aheadMs` in the future. */
function lambdas(aheadMs = 0) {
  const client = new EventBridgeClient({ region: 'eu-west-2', credentials: LOCAL_CREDENTIALS, maxAttempts: 1, requestHandler: bus.handler });
  const publisher = new EventBridgePublisher({ client, eventBusName: 'upload-portal-test', institutionId: 'demo' });
  const observability = countingObservability();
  const useCases = buildInspectionUseCases({
    doc: rig.table.doc,
    tableName: rig.table.tableName,
    s3: rig.bucket.s3,
    bucketName: rig.bucket.bucketName,
    publisher,
    observability,
    clock: { now: () => new Date(Date.now() + aheadMs) },
  });
  return { ...useCases, inspector: createInspectorHandler({ inspectObject: useCases.inspectObject, observability }) };
}

/** The session's final events in the PutEvents requests sent since `from`. */
function putEvents(sessionId: string, from: number) {
  return bus.requests
    .slice(from)
    .map((r) => (JSON.parse(r.body) as { Entries: { DetailType: string; Detail: string }[] }).Entries[0]!)
    .map((e): Record<string, unknown> => ({ type: e.DetailType, ...(JSON.parse(e.Detail) as Record<string, unknown>) }))
    .filter((d) => d.sessionId === sessionId);
}

/** What a run leaves when it dies between claiming the session's event and PutEvents. */
async function deadRunClaims(sessionId: string): Promise<Date> {
  const claimedAt = new Date();
  expect(await new DynamoEventOutbox(rig.table.doc, rig.table.tableName).claimEventPublication(sessionId, claimedAt.toISOString(), claimedAt.toISOString())).toBe('claimed');
  return claimedAt;
}

/** A session rejected by the inspector (a file shorter than declared) whose event PutEvents refused; its message came back. */
async function rejectedSession(): Promise<{ sessionId: string; object: StoredObject }> {
  const { sessionId } = await seedSession(rig);
  const declared = await declareCorpusDicom(rig, sessionId, FILE, { size: 6 });
  const object = await putObject(rig, declared.key, randomBytes(5));
  bus.failures = 1;
  const response = await lambdas().inspector(sqsEvent([sqsMessage(rig.bucket.bucketName, object)]));
  expect(response.batchItemFailures).toHaveLength(1);
  expect((await rig.useCases.sessions.get(sessionId))?.status).toBe('REJECTED');
  return { sessionId, object };
}

/** A session accepted by the completion whose UploadSessionAccepted PutEvents refused. */
async function acceptedSession(): Promise<string> {
  const { sessionId } = await seedSession(rig);
  const declared = await declareCorpusDicom(rig, sessionId, FILE);
  const object = await putObject(rig, declared.key, corpusBytes(FILE));
  expect((await rig.inspector(sqsEvent([sqsMessage(rig.bucket.bucketName, object)]))).batchItemFailures).toEqual([]);
  bus.failures = 1;
  await expect(lambdas().completeSession(sessionId, { studies: [{ studyInstanceUid: STUDY }], contact: {}, consent: CONSENT })).rejects.toThrow();
  expect((await rig.useCases.sessions.get(sessionId))?.status).toBe('ACCEPTED');
  return sessionId;
}

describe('the inspector, when a run died holding the rejection event', () => {
  it('does not acknowledge the message while the claim is fresh; the message after the claim timeout publishes once; later ones publish nothing', async () => {
    const { sessionId, object } = await rejectedSession();
    await deadRunClaims(sessionId);
    const start = bus.requests.length;
    const message = sqsMessage(rig.bucket.bucketName, object);

    expect((await lambdas().inspector(sqsEvent([message]))).batchItemFailures).toEqual([{ itemIdentifier: message.messageId }]);
    expect(bus.requests).toHaveLength(start);

    expect((await lambdas(AFTER_TIMEOUT_MS).inspector(sqsEvent([message]))).batchItemFailures).toEqual([]);
    expect(putEvents(sessionId, start)).toEqual([expect.objectContaining({ type: 'UploadSessionRejected', reasonCodes: ['SIZE_MISMATCH'] })]);
    expect((await rig.useCases.sessions.get(sessionId))?.eventPublishedAt).toBeDefined();

    expect((await lambdas(AFTER_TIMEOUT_MS).inspector(sqsEvent([message]))).batchItemFailures).toEqual([]);
    expect(bus.requests).toHaveLength(start + 1);
  }, 60_000);

  it('two messages at once publish once: the other is not acknowledged, and finds it published when it comes back', async () => {
    const { sessionId, object } = await rejectedSession();
    const start = bus.requests.length;
    bus.delayMs = 500;
    const messages = [sqsMessage(rig.bucket.bucketName, object), sqsMessage(rig.bucket.bucketName, object)];
    const responses = await Promise.all(messages.map((m) => lambdas().inspector(sqsEvent([m]))));
    expect(responses.map((r) => r.batchItemFailures.length).sort()).toEqual([0, 1]);
    expect(putEvents(sessionId, start)).toHaveLength(1);

    const back = messages[responses.findIndex((r) => r.batchItemFailures.length === 1)]!;
    expect((await lambdas().inspector(sqsEvent([back]))).batchItemFailures).toEqual([]);
    expect(bus.requests).toHaveLength(start + 1);
  }, 60_000);
});

describe('the completion and the sweep, when a run died holding the final event', () => {
  it('a completion answers ACCEPTED without publishing; the sweep leaves a fresh claim alone, publishes once after the timeout, then never again', async () => {
    const sessionId = await acceptedSession();
    await deadRunClaims(sessionId);
    const start = bus.requests.length;

    // The uploader's repeated POST and the completer's retry: the answer stands, the event is not theirs to publish now.
    expect(await lambdas().completeSession(sessionId, { studies: [{ studyInstanceUid: STUDY }], contact: {}, consent: CONSENT })).toMatchObject({ status: 'ACCEPTED' });
    const session = (await rig.useCases.sessions.get(sessionId))!;
    expect(await lambdas().finishCompletion({ sessionId, lockedAt: session.completedAt!, request: { studies: [], contact: {} } })).toMatchObject({ status: 'ACCEPTED' });
    expect(await lambdas().sweep.sweepAll()).toMatchObject({ eventsPublished: 0 });
    expect(bus.requests).toHaveLength(start);

    expect(await lambdas(AFTER_TIMEOUT_MS).sweep.sweepAll()).toMatchObject({ eventsPublished: 1, failed: 0 });
    expect(putEvents(sessionId, start)).toEqual([
      expect.objectContaining({ type: 'UploadSessionAccepted', studies: 1, dicomFiles: 1, attachments: 0, bytes: oracleOf(FILE).size, completedAt: session.completedAt }),
    ]);

    expect(await lambdas(AFTER_TIMEOUT_MS).sweep.sweepAll()).toMatchObject({ eventsPublished: 0 });
    expect(await lambdas(AFTER_TIMEOUT_MS).completeSession(sessionId, { studies: [{ studyInstanceUid: STUDY }], contact: {}, consent: CONSENT })).toMatchObject({ status: 'ACCEPTED' });
    expect(bus.requests).toHaveLength(start + 1);
  }, 60_000);

  it('a rejection whose run died is published by the sweep with its reasons and its own time, once, even by two sweeps at once', async () => {
    const { sessionId } = await rejectedSession();
    const { rejectedAt } = (await rig.useCases.sessions.get(sessionId))!;
    await deadRunClaims(sessionId);
    const start = bus.requests.length;
    bus.delayMs = 500;
    const both = await Promise.all([lambdas(AFTER_TIMEOUT_MS).sweep.sweepAll(), lambdas(AFTER_TIMEOUT_MS).sweep.sweepAll()]);
    expect(both.map((r) => r.failed)).toEqual([0, 0]);
    expect(putEvents(sessionId, start)).toEqual([expect.objectContaining({ type: 'UploadSessionRejected', reasonCodes: ['SIZE_MISMATCH'], rejectedAt })]);
    expect(await rig.bucket.listKeys(`sessions/${sessionId}/`)).toEqual([]);
  }, 60_000);

  it('the sweep publishes nothing that went out already', async () => {
    const { sessionId, object } = await rejectedSession();
    const before = bus.requests.length;
    expect((await lambdas().inspector(sqsEvent([sqsMessage(rig.bucket.bucketName, object)]))).batchItemFailures).toEqual([]);
    const start = bus.requests.length;
    expect(putEvents(sessionId, before)).toEqual([expect.objectContaining({ type: 'UploadSessionRejected' })]);
    await lambdas(AFTER_TIMEOUT_MS).sweep.sweepAll();
    expect(putEvents(sessionId, start)).toEqual([]);
  }, 60_000);

  it(`publishes at most ${FINAL_EVENTS_PER_SWEEP} left-over events per pass; the next pass publishes the rest, each once`, async () => {
    // Decided sessions as a dead run leaves them: REJECTED, nothing published (no decision time either: due at once).
    const ids = await Promise.all(Array.from({ length: FINAL_EVENTS_PER_SWEEP + 1 }, async () => (await seedSession(rig, { status: 'REJECTED' })).sessionId));
    const start = bus.requests.length;
    expect(await lambdas().sweep.sweepAll()).toMatchObject({ eventsPublished: FINAL_EVENTS_PER_SWEEP, failed: 0 });
    expect(await lambdas().sweep.sweepAll()).toMatchObject({ eventsPublished: 1, failed: 0 });
    expect(await lambdas().sweep.sweepAll()).toMatchObject({ eventsPublished: 0 });
    expect(ids.map((id) => putEvents(id, start).length)).toEqual(ids.map(() => 1));
  }, 60_000);
});
