/**
 * Local mode's stand-in for `cdk deploy` and for S3's delivery guarantee: creates the table (with
 * its TTL) if it is missing, and after a restart re-announces objects whose events were lost.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { HeadObjectCommand, NotFound, type S3Client } from '@aws-sdk/client-s3';
import type { S3EventRecord } from 'aws-lambda';
import { allItems, scanItems } from '../lambdas/adapters/dynamo-pages';
import { tableDefinition, TTL_ATTRIBUTE, keys, type FileItem, type SessionItem } from '../lambdas/adapters/table';
import { objectCreatedRecord } from './s3-events';

/** Creates the table and enables TTL on it, each only if not done yet (safe on every start). */
export async function ensureTable(dynamo: DynamoDBClient, tableName: string): Promise<'created' | 'existing'> {
  let outcome: 'created' | 'existing' = 'existing';
  try {
    await dynamo.send(new DescribeTableCommand({ TableName: tableName }));
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
    await dynamo.send(new CreateTableCommand(tableDefinition(tableName)));
    outcome = 'created';
  }
  for (let i = 0; i < 100; i++) {
    const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === 'ACTIVE') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const ttl = await dynamo.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
  const status = ttl.TimeToLiveDescription?.TimeToLiveStatus;
  if (status !== 'ENABLED' && status !== 'ENABLING') {
    await dynamo.send(
      new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true } }),
    );
  }
  return outcome;
}

/** HEAD requests in flight while looking for uploads that lost their event. */
const LOST_OBJECT_LOOKUPS = 16;

/**
 * S3 events that fired while local mode was down, or were still queued when it stopped, are gone
 * (s3rver keeps no queue). A file still
 * RESERVED or RECEIVED in a session that is OPEN or COMPLETING, whose object is on disk, gets a
 * synthetic ObjectCreated record, so the inspector (idempotent, as on AWS) catches up.
 */
export async function findLostObjectEvents(opts: {
  dynamo: DynamoDBClient;
  s3: S3Client;
  tableName: string;
  bucketName: string;
}): Promise<S3EventRecord[]> {
  const doc = DynamoDBDocumentClient.from(opts.dynamo);
  const pending = await allItems(
    scanItems<FileItem>(doc, {
      TableName: opts.tableName,
      FilterExpression: 'begins_with(sk, :file) AND #status IN (:reserved, :received)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':file': 'FILE#', ':reserved': 'RESERVED', ':received': 'RECEIVED' },
    }),
  );

  const sessionOpen = new Map<string, boolean>();
  const inOpenSessions: FileItem[] = [];
  for (const file of pending) {
    if (!sessionOpen.has(file.sessionId)) {
      const { Item } = await doc.send(new GetCommand({ TableName: opts.tableName, Key: keys.session(file.sessionId) }));
      const status = (Item as SessionItem | undefined)?.status;
      sessionOpen.set(file.sessionId, status === 'OPEN' || status === 'COMPLETING');
    }
    if (sessionOpen.get(file.sessionId)) inOpenSessions.push(file);
  }
  // A stop can leave thousands of uploads behind: look them up several at a time, not one by one.
  const found: (S3EventRecord | undefined)[] = new Array(inOpenSessions.length);
  let next = 0;
  const lookUp = async () => {
    for (let i = next++; i < inOpenSessions.length; i = next++) {
      const file = inOpenSessions[i]!;
      try {
        const head = await opts.s3.send(new HeadObjectCommand({ Bucket: opts.bucketName, Key: file.objectKey }));
        found[i] = objectCreatedRecord(opts.bucketName, file.objectKey, head.ContentLength ?? 0, head.ETag);
      } catch (error) {
        if (error instanceof NotFound) continue; // not uploaded yet
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: LOST_OBJECT_LOOKUPS }, lookUp));
  const records = found.filter((record): record is S3EventRecord => record !== undefined);
  return records;
}
