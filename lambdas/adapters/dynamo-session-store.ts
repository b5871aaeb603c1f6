/**
 * Sessions in the table (SessionStore port): the session item, its study and file items under the
 * same partition, and the atomic claim of the code that opened it.
 */
import { QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { FileRecord, SessionRecord, SessionState, SessionTotals, StudyRecord } from '../core/model';
import type { FilesPage, SessionFilePages, SessionStore } from '../core/ports';
import { withRetries } from '../core/retry';
import { cancellationCodes, conditionalUpdate, isTransactionConflict } from './dynamo-errors';
import { DynamoItemReader } from './dynamo-item-reader';
import { allItems, queryItems } from './dynamo-pages';
import { FILE_SUMMARY_ATTRIBUTES, fileRecordOf, fileSummaryOf, sessionRecordOf, studyRecordOf } from './dynamo-item-mapper';
import { keys, type FileItem, type SessionItem, type StudyItem } from './table';

export class DynamoSessionStore implements SessionStore, SessionFilePages {
  private readonly reader: DynamoItemReader;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {
    this.reader = new DynamoItemReader(doc, table);
  }

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
    const item = await this.reader.read(keys.session(sessionId));
    return item ? sessionRecordOf(item as unknown as SessionItem) : undefined;
  }

  async getFile(sessionId: string, fileId: string): Promise<FileRecord | undefined> {
    const item = await this.reader.read(keys.file(sessionId, fileId));
    return item ? fileRecordOf(item as unknown as FileItem) : undefined;
  }

  async listFiles(sessionId: string): Promise<FileRecord[]> {
    return (await this.queryPartition<FileItem>(sessionId, 'FILE#')).map(fileRecordOf);
  }

  async listStudies(sessionId: string): Promise<StudyRecord[]> {
    return (await this.queryPartition<StudyItem>(sessionId, 'STUDY#')).map(studyRecordOf);
  }

  /** One strongly consistent Query of the session's partition (paged): session, studies and files. */
  async loadState(sessionId: string): Promise<SessionState | undefined> {
    let session: SessionRecord | undefined;
    const studies: StudyRecord[] = [];
    const files: FileRecord[] = [];
    for (const item of await this.queryPartition<Record<string, unknown>>(sessionId, '')) {
      const sk = String(item.sk);
      if (sk === 'SESSION') session = sessionRecordOf(item as unknown as SessionItem);
      else if (sk.startsWith('FILE#')) files.push(fileRecordOf(item as unknown as FileItem));
      else if (sk.startsWith('STUDY#')) studies.push(studyRecordOf(item as unknown as StudyItem));
    }
    return session ? { session, studies, files } : undefined;
  }

  /**
   * The session item and the STUDY# items, read in parallel (a GetItem and a Query on the sort-key
   * prefix): two calls whose cost depends on the number of studies, not of files.
   */
  async loadTotals(sessionId: string): Promise<SessionTotals | undefined> {
    const [session, studies] = await Promise.all([this.get(sessionId), this.listStudies(sessionId)]);
    return session ? { session, studies } : undefined;
  }

  /**
   * One strongly consistent Query of the FILE# items, in file-id order, from after `cursor` (a file id). It projects
   * what a page shows: the header the inspector stored is most of an item, and the study items carry what GET needs of it.
   */
  async loadFilesPage(sessionId: string, page: { cursor?: string; limit: number }): Promise<FilesPage> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :file)',
        ProjectionExpression: ['sk', ...FILE_SUMMARY_ATTRIBUTES].map((_, i) => `#a${i}`).join(', '),
        ExpressionAttributeNames: Object.fromEntries(['sk', ...FILE_SUMMARY_ATTRIBUTES].map((name, i) => [`#a${i}`, name])),
        ExpressionAttributeValues: { ':pk': keys.session(sessionId).pk, ':file': 'FILE#' },
        ConsistentRead: true,
        Limit: page.limit,
        ...(page.cursor ? { ExclusiveStartKey: keys.file(sessionId, page.cursor) } : {}),
      }),
    );
    const files = (out.Items ?? []).map((item) => fileSummaryOf(item as FileItem));
    const last = out.LastEvaluatedKey ? String(out.LastEvaluatedKey.sk).slice('FILE#'.length) : undefined;
    return { files, ...(last ? { nextCursor: last } : {}) };
  }

  async replaceToken(sessionId: string, tokenHash: string): Promise<boolean> {
    // An upload request's reservation may be writing the session item at that instant.
    return withRetries({ attempts: 5, delayMs: (n) => 10 * n, retryOn: isTransactionConflict }, () => this.tryReplaceToken(sessionId, tokenHash));
  }

  private tryReplaceToken(sessionId: string, tokenHash: string): Promise<boolean> {
    return conditionalUpdate(this.doc, this.table, {
      Key: keys.session(sessionId),
      UpdateExpression: 'SET tokenHash = :hash ADD version :one',
      ConditionExpression: '#status = :open',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':hash': tokenHash, ':open': 'OPEN', ':one': 1 },
    });
  }

  /** Every item of the session's partition whose sort key starts with `prefix` (all of them for ''), paged. */
  private queryPartition<T>(sessionId: string, prefix: string): Promise<T[]> {
    return allItems(
      queryItems<T>(this.doc, {
        TableName: this.table,
        KeyConditionExpression: prefix ? 'pk = :pk AND begins_with(sk, :prefix)' : 'pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.session(sessionId).pk, ...(prefix ? { ':prefix': prefix } : {}) },
        ConsistentRead: true,
      }),
    );
  }
}
