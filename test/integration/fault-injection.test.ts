/**
 * Faults the emulators never produce, injected between the SDK's retry logic and the real DynamoDB
 * Local and S3 emulator (helpers/faults.ts): throttling, cancelled transactions, S3 500/503 and
 * timeouts, and a Lambda whose process dies mid-batch. Each outcome is retried or reported; nothing
 * is lost and nothing is counted twice (reservations, verdicts and their received bytes).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { dicomFile, testUid } from './helpers/api';
import { faults, injectFaults, type FaultPlan } from './helpers/faults';
import { corpusBytes, createRig, declareCorpusDicom, putObject, seedSession, sqsEvent, sqsMessage, type Rig } from './inspection-support';

const CT = 'test_files/CT_small.dcm';
const MR = 'test_files/MR_small.dcm';
const RTPLAN = 'test_files/rtplan.dcm';

let rig: Rig;
let apiDynamo: FaultPlan;
let inspectionDynamo: FaultPlan;
let inspectionS3: FaultPlan;

beforeAll(async () => {
  rig = await createRig('faults');
  apiDynamo = injectFaults(rig.api!.clients.dynamo);
  inspectionDynamo = injectFaults(rig.table.doc);
  inspectionS3 = injectFaults(rig.bucket.s3);
});
afterAll(async () => rig?.drop());

const inspect = async (event: SQSEvent) => (await rig.inspector(event)) as SQSBatchResponse;

async function usage(sessionId: string): Promise<{ reservedBytes: number; receivedBytes: number; files: { fileId: string; status: string; size: number }[] }> {
  const res = await rig.api!.getSession(sessionId, rig.tokens.get(sessionId)!);
  expect(res.status).toBe(200);
  return { reservedBytes: res.body.usage.reservedBytes, receivedBytes: res.body.usage.receivedBytes, files: res.body.files };
}

describe('reservations under DynamoDB faults', () => {
  it('throttled transactions are retried: the upload request succeeds and reserves its bytes once', async () => {
    const { sessionId, token } = await seedSession(rig);
    apiDynamo.add({ command: 'TransactWriteItemsCommand', times: 2, answer: faults.dynamoThrottled });
    const res = await rig.api!.requestUploads(sessionId, token, [dicomFile(testUid(), 700), dicomFile(testUid(), 300)]);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(apiDynamo.fired).toEqual(['TransactWriteItemsCommand', 'TransactWriteItemsCommand']);
    expect((await usage(sessionId)).reservedBytes).toBe(1000);
    apiDynamo.clear();
  });

  it('a transaction cancelled by a conflicting writer is retried, never reserved twice', async () => {
    const { sessionId, token } = await seedSession(rig);
    apiDynamo.add({ command: 'TransactWriteItemsCommand', times: 2, answer: faults.transactionConflict });
    const res = await rig.api!.requestUploads(sessionId, token, [dicomFile(testUid(), 400)]);
    expect(apiDynamo.fired.length).toBe(2);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const after = await usage(sessionId);
    expect(after.reservedBytes).toBe(400);
    expect(after.files).toHaveLength(1);
    apiDynamo.clear();
  });

  it('throttling that outlasts the retries is reported (5xx INTERNAL, no internals) and reserves nothing', async () => {
    const { sessionId, token } = await seedSession(rig);
    apiDynamo.add({ command: 'TransactWriteItemsCommand', times: 1000, answer: faults.dynamoThrottled });
    const res = await rig.api!.requestUploads(sessionId, token, [dicomFile(testUid(), 400)]);
    apiDynamo.clear();
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe('INTERNAL');
    expect(JSON.stringify(res.body)).not.toMatch(/Throughput|dynamo/i);
    const after = await usage(sessionId);
    expect(after.reservedBytes).toBe(0);
    expect(after.files).toEqual([]);
    // The same request goes through once DynamoDB recovers.
    expect((await rig.api!.requestUploads(sessionId, token, [dicomFile(testUid(), 400)])).status).toBe(201);
  }, 120_000);
});

describe('inspection under S3 and DynamoDB faults', () => {
  async function uploaded(files: string[]) {
    const { sessionId } = await seedSession(rig);
    const declared = [];
    for (const file of files) declared.push(await declareCorpusDicom(rig, sessionId, file));
    const objects = [];
    for (const [i, d] of declared.entries()) objects.push(await putObject(rig, d.key, corpusBytes(files[i]!)));
    return { sessionId, declared, event: sqsEvent(objects.map((o) => sqsMessage(rig.bucket.bucketName, o))) };
  }

  it('S3 503 and 500 on the header read are retried by the SDK: verified in one delivery', async () => {
    const { sessionId, declared, event } = await uploaded([CT]);
    inspectionS3.add({ command: 'GetObjectCommand', times: 1, answer: faults.s3Status(503) });
    inspectionS3.add({ command: 'GetObjectCommand', times: 1, answer: faults.s3Status(500) });
    expect(await inspect(event)).toEqual({ batchItemFailures: [] });
    expect(inspectionS3.fired).toEqual(['GetObjectCommand', 'GetObjectCommand']);
    const after = await usage(sessionId);
    expect(after.files.map((f) => f.status)).toEqual(['VERIFIED']);
    expect(after.receivedBytes).toBe(declared[0]!.size);
    inspectionS3.clear();
  });

  it('S3 timeouts beyond the retries are reported for redelivery; the redelivery verifies, counted once', async () => {
    const { sessionId, declared, event } = await uploaded([CT, MR]);
    inspectionS3.add({ command: 'GetObjectCommand', times: 1000, answer: faults.timeout });
    const first = await inspect(event);
    inspectionS3.clear();
    expect(first.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(event.Records.map((r) => r.messageId).sort());
    const between = await usage(sessionId);
    expect(between.files.map((f) => f.status)).toEqual(['RESERVED', 'RESERVED']);
    expect(between.receivedBytes).toBe(0);

    expect(await inspect(event)).toEqual({ batchItemFailures: [] });
    expect(await inspect(event)).toEqual({ batchItemFailures: [] }); // S3 delivers at least once
    const after = await usage(sessionId);
    expect(after.files.map((f) => f.status)).toEqual(['VERIFIED', 'VERIFIED']);
    expect(after.receivedBytes).toBe(declared[0]!.size + declared[1]!.size);
  }, 120_000);

  it('a verdict transaction cancelled by a conflict is retried or reported, and its bytes count once', async () => {
    const { sessionId, declared, event } = await uploaded([CT]);
    inspectionDynamo.add({ command: 'TransactWriteItemsCommand', times: 1, answer: faults.transactionConflict });
    const first = await inspect(event);
    expect(inspectionDynamo.fired).toEqual(['TransactWriteItemsCommand']);
    inspectionDynamo.clear();
    if (first.batchItemFailures.length > 0) expect(await inspect(event)).toEqual({ batchItemFailures: [] });
    const after = await usage(sessionId);
    expect(after.files.map((f) => f.status)).toEqual(['VERIFIED']);
    expect(after.receivedBytes).toBe(declared[0]!.size);
  });

  it('a Lambda dying mid-batch: SQS redelivers the whole batch, and every verdict and byte counts once', async () => {
    const { sessionId, declared, event } = await uploaded([CT, MR, RTPLAN]);
    // The process dies when it writes the batch's verdicts (one session's verdicts go in one transaction).
    inspectionDynamo.add({ command: 'TransactWriteItemsCommand', times: 1000, answer: faults.processDied });
    await inspect(event).catch(() => undefined);
    inspectionDynamo.clear();
    const between = await usage(sessionId);
    expect(between.files.filter((f) => f.status === 'VERIFIED').length).toBeLessThan(3);
    expect(between.receivedBytes).toBe(between.files.filter((f) => f.status === 'VERIFIED').reduce((n, f) => n + f.size, 0));

    // No batch response reached SQS: after the visibility timeout every message comes back.
    expect(await inspect(event)).toEqual({ batchItemFailures: [] });
    const after = await usage(sessionId);
    expect(after.files.map((f) => f.status)).toEqual(['VERIFIED', 'VERIFIED', 'VERIFIED']);
    expect(after.receivedBytes).toBe(declared.reduce((n, d) => n + d.size, 0));
  });
});
