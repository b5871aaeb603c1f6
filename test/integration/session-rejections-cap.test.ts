/**
 * A rule broken by every file of a large session: the session item keeps the first MAX_STORED_REASONS reasons, so it
 * stays far from DynamoDB's 400 KB item limit, and the session is REJECTED all the same (DynamoDB Local).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoSessionRejections, MAX_STORED_REASONS } from '../../lambdas/adapters/dynamo-session-rejections';
import { DynamoSessionStore } from '../../lambdas/adapters/dynamo-session-store';
import { keys } from '../../lambdas/adapters/table';
import { createTestTable, type TestTable } from './helpers/emulators';

let table: TestTable;
let rejections: DynamoSessionRejections;

beforeAll(async () => {
  table = await createTestTable('rejections-cap');
  rejections = new DynamoSessionRejections(table.doc, table.tableName, new DynamoSessionStore(table.doc, table.tableName));
});
afterAll(async () => table?.drop());

const reason = (i: number) => ({ code: 'SESSION_SIZE_LIMIT' as const, message: 'Total file size exceeds the limit', fileId: `file-${String(i).padStart(6, '0')}` });

describe('DynamoSessionRejections at 20,000 files', () => {
  it('stores at most MAX_STORED_REASONS reasons, however many one rejection or many later ones bring', async () => {
    await table.doc.send(new PutCommand({ TableName: table.tableName, Item: { ...keys.session('BIG'), sessionId: 'BIG', status: 'COMPLETING', version: 1 } }));
    const first = await rejections.rejectSession('BIG', Array.from({ length: 20_000 }, (_, i) => reason(i)), 'complete', '2026-01-01T00:00:00.000Z');
    expect(first.transitioned).toBe(true);
    expect(first.session?.status).toBe('REJECTED');
    expect(first.session?.rejection).toHaveLength(MAX_STORED_REASONS);
    expect(first.session?.rejection?.[0]?.fileId).toBe('file-000000');

    // Per-file rejections racing in afterwards add nothing once the list is full.
    const later = await Promise.all([1, 2, 3].map((n) => rejections.rejectSession('BIG', [reason(20_000 + n)], `late-${n}`, '2026-01-01T00:00:01.000Z')));
    expect(later.map((r) => r.transitioned)).toEqual([false, false, false]);
    const item = (await table.doc.send(new GetCommand({ TableName: table.tableName, Key: keys.session('BIG'), ConsistentRead: true }))).Item!;
    expect(item.rejection).toHaveLength(MAX_STORED_REASONS);
    expect(JSON.stringify(item).length).toBeLessThan(40_000);
  });
});
