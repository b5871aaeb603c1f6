/** Upload codes in the table (CodeStore port): one item per code, keyed by the code's hash. */
import { GetCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { UploadCodeRecord } from '../core/model';
import type { CodeStore } from '../core/ports';
import { conditionalUpdate, isConditionalCheckFailed } from './dynamo-errors';
import { codeRecordOf } from './dynamo-item-mapper';
import { keys, type CodeDirectoryItem, type CodeItem } from './table';

export class DynamoCodeStore implements CodeStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async create(code: UploadCodeRecord, ttlEpochSeconds: number): Promise<void> {
    const item: CodeItem = {
      ...keys.code(code.codeHash),
      sk: 'CODE',
      institutionId: code.institutionId,
      createdAt: code.createdAt,
      expiresAt: code.expiresAt,
      ...(code.maxSessionBytes !== undefined ? { maxSessionBytes: code.maxSessionBytes } : {}),
      ...(code.reference !== undefined ? { reference: code.reference } : {}),
      revoked: code.revoked,
      ttl: ttlEpochSeconds,
    };
    // The directory entry lets the hospital list its codes without scanning the table.
    const entry: CodeDirectoryItem = { ...keys.codeDirectory(code.institutionId, code.createdAt, code.codeHash), codeHash: code.codeHash, ttl: ttlEpochSeconds };
    await this.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: this.table, Item: item, ConditionExpression: 'attribute_not_exists(pk)' } },
          { Put: { TableName: this.table, Item: entry } },
        ],
      }),
    );
  }

  async get(codeHash: string): Promise<UploadCodeRecord | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: keys.code(codeHash), ConsistentRead: true }));
    const item = out.Item as CodeItem | undefined;
    return item ? codeRecordOf(codeHash, item) : undefined;
  }

  async revoke(codeHash: string, now: Date): Promise<{ endedSessionId?: string } | undefined> {
    let sessionId: string | undefined;
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.code(codeHash),
          UpdateExpression: 'SET revoked = :yes, revokedAt = if_not_exists(revokedAt, :now)',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':yes': true, ':now': now.toISOString() },
          ReturnValues: 'ALL_NEW',
        }),
      );
      sessionId = (out.Attributes as CodeItem | undefined)?.sessionId;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined;
      throw error;
    }
    if (sessionId) {
      // A session that already left OPEN keeps its outcome (the condition fails, nothing changes).
      const ended = await conditionalUpdate(this.doc, this.table, {
        Key: keys.session(sessionId),
        UpdateExpression: 'SET #status = :expired, expiredAt = :now, revokedAt = :now ADD version :one',
        ConditionExpression: '#status = :open',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':expired': 'EXPIRED', ':open': 'OPEN', ':now': now.toISOString(), ':one': 1 },
      });
      if (ended) return { endedSessionId: sessionId };
    }
    return {};
  }
}
