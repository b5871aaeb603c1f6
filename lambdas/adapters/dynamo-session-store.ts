/**
 * Sessions in the table (SessionStore port): the session item, its study and file items under the
 * same partition, and the atomic claim of the code that opened it.
 */
import { GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DeclaredFile, SessionRecord, SessionState, SessionStore, SessionTotals, StudyRecord } from '../core/ports';
import { cancellationCodes, isConditionalCheckFailed, isTransactionConflict } from './dynamo-errors';
import { keys, type FileItem, type SessionItem, type StudyItem } from './table';

export function sessionRecordOf(item: SessionItem): SessionRecord {
  return {
    sessionId: item.sessionId,
    institutionId: item.institutionId,
    tokenHash: item.tokenHash,
    codeHash: item.codeHash,
    ...(item.codeReference !== undefined ? { codeReference: item.codeReference } : {}),
    status: item.status,
    limits: item.limits,
    reservedBytes: Number(item.reservedBytes ?? 0),
    receivedBytes: Number(item.receivedBytes ?? 0),
    dicomCount: Number(item.dicomCount ?? 0),
    attachmentCount: Number(item.attachmentCount ?? 0),
    version: Number(item.version ?? 0),
    createdAt: item.createdAt,
    expiresAt: item.expiresAt,
    ...(item.completedAt ? { completedAt: item.completedAt } : {}),
    ...(item.rejection ? { rejection: item.rejection } : {}),
  };
}

export function declaredFileOf(item: FileItem): DeclaredFile {
  return {
    sessionId: item.sessionId,
    fileId: item.fileId,
    clientId: item.clientId,
    name: item.name,
    kind: item.kind,
    size: Number(item.size),
    studyInstanceUid: item.studyInstanceUid,
    ...(item.sopInstanceUid ? { sopInstanceUid: item.sopInstanceUid } : {}),
    ...(item.contentType ? { contentType: item.contentType } : {}),
    ...(item.attachmentType ? { attachmentType: item.attachmentType } : {}),
    objectKey: item.objectKey,
    status: item.status,
    ...(item.reason ? { reason: item.reason } : {}),
    createdAt: item.createdAt,
    ...(item.receivedAt ? { receivedAt: item.receivedAt } : {}),
  };
}

function studyRecordOf(item: StudyItem): StudyRecord {
  return {
    studyInstanceUid: item.studyInstanceUid,
    bytes: Number(item.bytes ?? 0),
    dicomCount: Number(item.dicomCount ?? 0),
    attachmentCount: Number(item.attachmentCount ?? 0),
    ...(item.comment ? { comment: item.comment } : {}),
  };
}

export class DynamoSessionStore implements SessionStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async createWithCode(session: SessionRecord, claim: { codeHash: string; now: Date }, ttlEpochSeconds: number): Promise<'created' | 'code-taken'> {
    const item: SessionItem = { ...keys.session(session.sessionId), sk: 'SESSION', ...session, ttl: ttlEpochSeconds };
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: this.table, Item: item, ConditionExpression: 'attribute_not_exists(pk)' } },
            {
              Update: {
                TableName: this.table,
                Key: keys.code(claim.codeHash),
                UpdateExpression: 'SET sessionId = :sessionId, redeemedAt = :now',
                ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(sessionId) AND revoked <> :yes AND expiresAt > :now',
                ExpressionAttributeValues: { ':sessionId': session.sessionId, ':now': claim.now.toISOString(), ':yes': true },
              },
            },
          ],
        }),
      );
      return 'created';
    } catch (error) {
      if (cancellationCodes(error)) return 'code-taken';
      throw error;
    }
  }

  async get(sessionId: string): Promise<SessionRecord | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: keys.session(sessionId), ConsistentRead: true }));
    return out.Item ? sessionRecordOf(out.Item as SessionItem) : undefined;
  }

  async getFile(sessionId: string, fileId: string): Promise<DeclaredFile | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: keys.file(sessionId, fileId), ConsistentRead: true }));
    return out.Item ? declaredFileOf(out.Item as FileItem) : undefined;
  }

  /** One strongly consistent Query of the session's partition (paged): session, studies and files. */
  async loadState(sessionId: string): Promise<SessionState | undefined> {
    let session: SessionRecord | undefined;
    const studies: StudyRecord[] = [];
    const files: DeclaredFile[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': keys.session(sessionId).pk },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of out.Items ?? []) {
        const sk = String(item.sk);
        if (sk === 'SESSION') session = sessionRecordOf(item as SessionItem);
        else if (sk.startsWith('FILE#')) files.push(declaredFileOf(item as FileItem));
        else if (sk.startsWith('STUDY#')) studies.push(studyRecordOf(item as StudyItem));
      }
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return session ? { session, studies, files } : undefined;
  }

  /**
   * The session item and the STUDY# items, read in parallel (a GetItem and a Query on the sort-key
   * prefix): two calls whose cost depends on the number of studies, not of files.
   */
  async loadTotals(sessionId: string): Promise<SessionTotals | undefined> {
    const studiesQuery = async () => {
      const studies: StudyRecord[] = [];
      let startKey: Record<string, unknown> | undefined;
      do {
        const out = await this.doc.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :study)',
            ExpressionAttributeValues: { ':pk': keys.session(sessionId).pk, ':study': 'STUDY#' },
            ConsistentRead: true,
            ExclusiveStartKey: startKey,
          }),
        );
        for (const item of out.Items ?? []) studies.push(studyRecordOf(item as StudyItem));
        startKey = out.LastEvaluatedKey;
      } while (startKey);
      return studies;
    };
    const [session, studies] = await Promise.all([this.get(sessionId), studiesQuery()]);
    return session ? { session, studies } : undefined;
  }

  async replaceToken(sessionId: string, tokenHash: string): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.tryReplaceToken(sessionId, tokenHash);
      } catch (error) {
        // An upload request's reservation was writing the session item at that instant.
        if (!isTransactionConflict(error) || attempt >= 5) throw error;
        await new Promise((resolve) => setTimeout(resolve, 10 * attempt));
      }
    }
  }

  private async tryReplaceToken(sessionId: string, tokenHash: string): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.session(sessionId),
          UpdateExpression: 'SET tokenHash = :hash ADD version :one',
          ConditionExpression: '#status = :open',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':hash': tokenHash, ':open': 'OPEN', ':one': 1 },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }
}
