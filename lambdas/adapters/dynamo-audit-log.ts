/**
 * The audit trail in the one table (AuditLog port), in the institution's audit partition:
 *   AUDIT#<institution> | CODE#<codeId>#<dedupe key or at#event#nonce>   a code's records
 *   AUDIT#<institution> | SECURITY#<at>#<nonce>                          failed redemptions
 *   AUDIT#<institution> | REF#<reference>#<codeId>                       reference → code ids
 * Every write is a PutItem guarded by attribute_not_exists(pk): nothing here updates or deletes,
 * and the writers' IAM policy denies UpdateItem/DeleteItem on AUDIT# keys (lib/session-table.ts).
 * The TTL is the institution's audit retention, independent of the session's own items.
 */
import { randomBytes } from 'node:crypto';
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AuditEntry } from '../core/audit';
import type { AuditLog } from '../core/ports';
import { isConditionalCheckFailed } from './dynamo-errors';
import { allItems, queryItems } from './dynamo-pages';
import { keys } from './table';

const DAY_SECONDS = 86_400;

export class DynamoAuditLog implements AuditLog {
  private readonly pk: string;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly institutionId: string,
    private readonly retentionDays: number,
  ) {
    this.pk = keys.audit(institutionId, '').pk;
  }

  append(entry: AuditEntry, dedupeKey?: string): Promise<boolean> {
    const nonce = randomBytes(6).toString('hex');
    const sk = entry.codeId ? `CODE#${entry.codeId}#${dedupeKey ?? `${entry.at}#${entry.event}#${nonce}`}` : `SECURITY#${entry.at}#${nonce}`;
    return this.putOnce(sk, { ...entry }, entry.at);
  }

  async indexReference(reference: string, codeId: string, at: string): Promise<void> {
    await this.putOnce(`REF#${encodeURIComponent(reference)}#${codeId}`, { codeId }, at);
  }

  async codeIdsFor(reference: string): Promise<string[]> {
    const items = await this.query(`REF#${encodeURIComponent(reference)}#`);
    return items.map((item) => String(item.codeId));
  }

  async readCode(codeId: string): Promise<AuditEntry[]> {
    return (await this.query(`CODE#${codeId}#`)).map(entryOf);
  }

  async readSecurityDay(day: string): Promise<AuditEntry[]> {
    return (await this.query(`SECURITY#${day}`)).map(entryOf);
  }

  private async putOnce(sk: string, attributes: Record<string, unknown>, at: string): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...attributes, ...keys.audit(this.institutionId, sk), ttl: Math.floor(Date.parse(at) / 1000) + this.retentionDays * DAY_SECONDS },
          // Append-only: a record, once written, is never replaced.
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  private query(prefix: string): Promise<Record<string, unknown>[]> {
    return allItems(
      queryItems(this.doc, {
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sk)',
        ExpressionAttributeValues: { ':pk': this.pk, ':sk': prefix },
      }),
    );
  }
}

function entryOf(item: Record<string, unknown>): AuditEntry {
  const { pk: _pk, sk: _sk, ttl: _ttl, ...entry } = item;
  return entry as unknown as AuditEntry;
}
