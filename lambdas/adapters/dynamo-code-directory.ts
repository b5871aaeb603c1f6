/**
 * The institution's code list (CodeDirectory port): a Query of its directory partition, then the
 * code items and their sessions in batches of 100. Grows with the codes issued, never with files.
 */
import { BatchGetCommand, type BatchGetCommandOutput, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CodeDirectory, CodeDirectoryEntry } from '../core/ports';
import { codeRecordOf } from './dynamo-item-mapper';
import { queryItems } from './dynamo-pages';
import { keys, type CodeDirectoryItem, type CodeItem, type SessionItem } from './table';

const BATCH_GET_LIMIT = 100;

export class DynamoCodeDirectory implements CodeDirectory {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async list(institutionId: string): Promise<CodeDirectoryEntry[]> {
    const hashes: string[] = [];
    const entries = queryItems<CodeDirectoryItem>(this.doc, {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sk)',
      ExpressionAttributeValues: { ':pk': keys.codeDirectory(institutionId).pk, ':sk': 'CODE#' },
      ConsistentRead: true,
    });
    for await (const item of entries) hashes.push(item.codeHash);

    const codes = (await this.batchGet(hashes.map((h) => keys.code(h)))) as unknown as CodeItem[];
    const byHash = new Map(codes.map((c) => [c.pk.slice('CODE#'.length), c]));
    const sessionIds = [...new Set(codes.flatMap((c) => (c.sessionId ? [c.sessionId] : [])))];
    const sessionItems = (await this.batchGet(sessionIds.map((id) => keys.session(id)))) as unknown as SessionItem[];
    const sessions = new Map(sessionItems.map((s) => [s.sessionId, s]));
    return hashes.flatMap((codeHash): CodeDirectoryEntry[] => {
      const code = byHash.get(codeHash);
      // The code item expired (TTL) before its directory entry: nothing left to show.
      if (!code) return [];
      const session = code.sessionId ? sessions.get(code.sessionId) : undefined;
      return [
        {
          ...codeRecordOf(codeHash, code),
          ...(code.revokedAt ? { revokedAt: code.revokedAt } : {}),
          ...(session
            ? { session: { sessionId: session.sessionId, status: session.status, expiresAt: session.expiresAt, ...(session.revokedAt ? { revokedAt: session.revokedAt } : {}) } }
            : {}),
        },
      ];
    });
  }

  /** BatchGetItem in chunks, retrying what DynamoDB leaves unprocessed (throttling) until done. */
  private async batchGet(keyList: Record<string, string>[]): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    for (let i = 0; i < keyList.length; i += BATCH_GET_LIMIT) {
      let pending: Record<string, unknown>[] | undefined = keyList.slice(i, i + BATCH_GET_LIMIT);
      for (let attempt = 0; pending && pending.length > 0; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
        const out: BatchGetCommandOutput = await this.doc.send(new BatchGetCommand({ RequestItems: { [this.table]: { Keys: pending, ConsistentRead: true } } }));
        items.push(...(out.Responses?.[this.table] ?? []));
        pending = out.UnprocessedKeys?.[this.table]?.Keys;
      }
    }
    return items;
  }
}
