/**
 * Local mode's provisioning and restart recovery against the emulators: the table is created with
 * its TTL once and left alone after; uploads whose S3 events were lost while local mode was down
 * are found again, and only those.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeleteTableCommand, DescribeTimeToLiveCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { keys, TTL_ATTRIBUTE } from '../../lambdas/adapters/table';
import { objectKeyFor } from '../../lambdas/core/model';
import { ensureTable, findLostObjectEvents } from '../../local/provision';
import { createTestBucket, createTestTable, emulators, LOCAL_CREDENTIALS, LOCAL_REGION, type TestBucket, type TestTable } from './helpers/emulators';

describe('ensureTable', () => {
  it('creates the table with TTL on the first start and leaves it as it is on the next', async () => {
    const client = new DynamoDBClient({ endpoint: emulators().dynamoEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    const tableName = `ensure-${randomBytes(4).toString('hex')}`;
    try {
      expect(await ensureTable(client, tableName)).toBe('created');
      expect(await ensureTable(client, tableName)).toBe('existing');
      const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
      expect(ttl.TimeToLiveDescription).toMatchObject({ TimeToLiveStatus: 'ENABLED', AttributeName: TTL_ATTRIBUTE });
    } finally {
      await client.send(new DeleteTableCommand({ TableName: tableName })).catch(() => undefined);
      client.destroy();
    }
  });
});

describe('findLostObjectEvents', () => {
  let table: TestTable;
  let bucket: TestBucket;
  const now = new Date().toISOString();

  async function session(sessionId: string, status: string) {
    await table.doc.send(new PutCommand({ TableName: table.tableName, Item: { ...keys.session(sessionId), sessionId, status, ttl: 0 } }));
  }
  async function file(sessionId: string, fileId: string, status: string, uploaded: boolean) {
    const objectKey = objectKeyFor(sessionId, fileId);
    await table.doc.send(
      new PutCommand({
        TableName: table.tableName,
        Item: { ...keys.file(sessionId, fileId), sessionId, fileId, objectKey, status, kind: 'dicom', size: 3, createdAt: now, ttl: 0 },
      }),
    );
    if (uploaded) await bucket.s3.send(new PutObjectCommand({ Bucket: bucket.bucketName, Key: objectKey, Body: Buffer.from('abc') }));
  }

  beforeAll(async () => {
    table = await createTestTable('lost-events');
    bucket = await createTestBucket('lost-events');
  });
  afterAll(async () => {
    await table?.drop();
    await bucket?.drop();
  });

  it('re-announces declared uploads that arrived but were never inspected, in open sessions only', async () => {
    await session('open1', 'OPEN');
    await file('open1', 'arrived', 'RESERVED', true); // the event was lost: must come back
    await file('open1', 'halfway', 'RECEIVED', true); // the inspector stopped midway: must come back
    await file('open1', 'notyet', 'RESERVED', false); // never uploaded: nothing to inspect
    await file('open1', 'done', 'VERIFIED', true); // already judged
    await session('closing', 'COMPLETING');
    await file('closing', 'late', 'RESERVED', true);
    await session('over', 'ACCEPTED');
    await file('over', 'kept', 'RESERVED', true); // a finished session is not reopened by a late event

    const records = await findLostObjectEvents({ dynamo: table.client, s3: bucket.s3, tableName: table.tableName, bucketName: bucket.bucketName });
    expect(records.map((r) => r.s3.object.key).sort()).toEqual(
      [objectKeyFor('closing', 'late'), objectKeyFor('open1', 'arrived'), objectKeyFor('open1', 'halfway')].sort(),
    );
    for (const record of records) {
      expect(record.eventName).toBe('ObjectCreated:Put');
      expect(record.s3.bucket.name).toBe(bucket.bucketName);
      expect(record.s3.object.size).toBe(3);
      expect(record.s3.object.eTag).toMatch(/^[0-9a-f]{32}$/);
    }
  });
});
