/**
 * The session store and the file verdicts share DynamoDB calls between the files of one SQS batch: reads of the same
 * turn go out as one BatchGetItem, verdicts of the same moment as one transaction. Each file must
 * still get exactly what a call of its own would have given (DynamoDB Local, real document client).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoFileVerdicts } from '../../lambdas/adapters/dynamo-file-verdicts';
import { DynamoSessionStore } from '../../lambdas/adapters/dynamo-session-store';
import { keys } from '../../lambdas/adapters/table';
import type { Verdict } from '../../lambdas/core/model';
import { createTestTable, type TestTable } from './helpers/emulators';

let table: TestTable;
let sessions: DynamoSessionStore;
let verdicts: DynamoFileVerdicts;
const calls: string[] = [];

beforeAll(async () => {
  table = await createTestTable('verdict-batching');
  table.doc.middlewareStack.add(
    (next, context) => (args) => {
      calls.push(String(context.commandName));
      return next(args);
    },
    { step: 'initialize', name: 'countCalls' },
  );
  sessions = new DynamoSessionStore(table.doc, table.tableName);
  verdicts = new DynamoFileVerdicts(table.doc, table.tableName);
});
afterAll(async () => table?.drop());

async function seed(sessionId: string, files: { fileId: string; status: string; size: number }[]) {
  await table.doc.send(new PutCommand({ TableName: table.tableName, Item: { ...keys.session(sessionId), sessionId, status: 'OPEN', receivedBytes: 0, expiresAt: '2999-01-01T00:00:00.000Z' } }));
  for (const f of files) {
    await table.doc.send(new PutCommand({ TableName: table.tableName, Item: { ...keys.file(sessionId, f.fileId), sessionId, fileId: f.fileId, kind: 'dicom', size: f.size, status: f.status } }));
  }
}

const verified = (size: number): Verdict => ({ status: 'VERIFIED', size, inspectionBytesRead: 100, inspectedAt: '2026-01-01T00:00:00.000Z' });

describe('DynamoSessionStore and DynamoFileVerdicts sharing calls', () => {
  it('reads the files and the session of one turn with one BatchGetItem, each answer its own', async () => {
    await seed('S1', [
      { fileId: 'a', status: 'RESERVED', size: 10 },
      { fileId: 'b', status: 'VERIFIED', size: 20 },
    ]);
    calls.length = 0;
    const [a, b, missing, session, sessionAgain] = await Promise.all([
      sessions.getFile('S1', 'a'),
      sessions.getFile('S1', 'b'),
      sessions.getFile('S1', 'nope'),
      sessions.get('S1'),
      sessions.get('S1'),
    ]);
    expect([a?.status, b?.status, missing, session?.status, sessionAgain?.status]).toEqual(['RESERVED', 'VERIFIED', undefined, 'OPEN', 'OPEN']);
    expect(calls).toEqual(['BatchGetItemCommand']);
  });

  it('records simultaneous verdicts in one transaction; a file that had its verdict, or is repeated, is "already"', async () => {
    await seed('S2', [
      { fileId: 'a', status: 'RESERVED', size: 100 },
      { fileId: 'b', status: 'RECEIVED', size: 200 },
      { fileId: 'c', status: 'VERIFIED', size: 400 },
      { fileId: 'd', status: 'REMOVED', size: 800 },
    ]);
    calls.length = 0;
    const results = await Promise.all([
      verdicts.recordVerdict({ sessionId: 'S2', fileId: 'a', studyInstanceUid: '1.2.3' }, verified(100)),
      verdicts.recordVerdict({ sessionId: 'S2', fileId: 'b', studyInstanceUid: '1.2.3' }, verified(200)),
      verdicts.recordVerdict({ sessionId: 'S2', fileId: 'c', studyInstanceUid: '1.2.3' }, verified(400)),
      verdicts.recordVerdict({ sessionId: 'S2', fileId: 'd', studyInstanceUid: '1.2.3' }, verified(800)),
      verdicts.recordVerdict({ sessionId: 'S2', fileId: 'a', studyInstanceUid: '1.2.3' }, verified(100)),
    ]);
    expect(results).toEqual(['recorded', 'recorded', 'already', 'already', 'already']);
    const session = await table.doc.send(new GetCommand({ TableName: table.tableName, Key: keys.session('S2'), ConsistentRead: true }));
    expect(session.Item?.receivedBytes).toBe(300);
    const file = await table.doc.send(new GetCommand({ TableName: table.tableName, Key: keys.file('S2', 'c'), ConsistentRead: true }));
    expect(file.Item?.inspectedAt).toBeUndefined();
    // a, b, c, d refused (c, d) → a, b written; then the repeated a alone, refused.
    expect(calls.filter((c) => c === 'TransactWriteItemsCommand')).toHaveLength(3);
  });

  it('keeps per-study counters and names each study in the same transactions, once per file whatever repeats', async () => {
    const files = Array.from({ length: 150 }, (_, i) => ({ fileId: `f${i}`, status: 'RESERVED', size: 10 }));
    await seed('S3', files);
    const study = (i: number) => `1.2.${i % 3}`;
    const header = (i: number) => ({ studyInstanceUid: study(i), sopInstanceUid: `1.3.${i}`, patientName: `NAME^${i}`, modality: i % 2 ? 'MR' : 'CT' });
    const judge = (i: number) =>
      verdicts.recordVerdict({ sessionId: 'S3', fileId: `f${i}`, studyInstanceUid: study(i) }, { ...verified(10), ...(i === 149 ? { status: 'REJECTED' as const } : {}), header: header(i) });
    calls.length = 0;
    // Every file twice, as S3's at-least-once delivery may send it, all within one verdict window.
    const results = await Promise.all([...files.keys(), ...files.keys()].map(judge));
    expect(results.filter((r) => r === 'recorded')).toHaveLength(150);
    const writes = calls.filter((c) => c === 'TransactWriteItemsCommand').length;
    // 150 files + session + 3 studies do not fit one transaction of 100 items; the repeats follow.
    expect(writes).toBeGreaterThanOrEqual(4);
    const studies = await sessions.listStudies('S3');
    const byUid = Object.fromEntries(studies.map((s) => [s.studyInstanceUid, s]));
    expect(byUid['1.2.0']).toMatchObject({ verifiedCount: 50, rejectedCount: 0, receivedBytes: 500, header: { patientName: 'NAME^0', modalities: ['CT', 'MR'] } });
    expect(byUid['1.2.1']).toMatchObject({ verifiedCount: 50, rejectedCount: 0, receivedBytes: 500 });
    expect(byUid['1.2.2']).toMatchObject({ verifiedCount: 49, rejectedCount: 1, receivedBytes: 500 });
    const session = await sessions.get('S3');
    expect([session?.verifiedCount, session?.rejectedCount, session?.receivedBytes]).toEqual([149, 1, 1500]);
  });

  it('a verdict for a session that is gone is "already", for every file that shared the transaction', async () => {
    calls.length = 0;
    const results = await Promise.all([verdicts.recordVerdict({ sessionId: 'GONE', fileId: 'x', studyInstanceUid: '1.2.3' }, verified(1)), verdicts.recordVerdict({ sessionId: 'GONE', fileId: 'y', studyInstanceUid: '1.2.3' }, verified(2))]);
    expect(results).toEqual(['already', 'already']);
    expect(calls).toEqual(['TransactWriteItemsCommand']);
  });
});
