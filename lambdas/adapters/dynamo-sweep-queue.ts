/** SweepQueue on the table: which sessions the sweep must visit, and the marks it leaves. */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SessionRecord } from '../core/model';
import type { SweepQueue } from '../core/ports';
import { conditionalUpdate } from './dynamo-errors';
import { scanItems } from './dynamo-pages';
import { sessionRecordOf } from './dynamo-item-mapper';
import { keys, type SessionItem } from './table';

export class DynamoSweepQueue implements SweepQueue {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /**
   * A Scan with a filter: sessions are few (one per upload code) and TTL removes old ones, so a
   * scheduled Scan costs little at this scale. A sparse GSI on OPEN sessions would replace it if
   * the table ever grows large.
   */
  async findSessionsToSweep(now: string): Promise<SessionRecord[]> {
    const found: SessionRecord[] = [];
    const sessions = scanItems<SessionItem>(this.doc, {
      TableName: this.table,
      FilterExpression:
        'sk = :session AND ((#status = :open AND expiresAt < :now) OR (#status = :expired AND attribute_not_exists(objectsDeletedAt)) OR (#status = :accepted AND attribute_exists(retentionDueSince)) OR (#status IN (:accepted, :rejected) AND attribute_not_exists(eventPublishedAt)))',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':session': 'SESSION', ':open': 'OPEN', ':expired': 'EXPIRED', ':accepted': 'ACCEPTED', ':rejected': 'REJECTED', ':now': now },
    });
    for await (const item of sessions) found.push(sessionRecordOf(item));
    return found;
  }

  async markRetentionApplied(sessionId: string, at: string): Promise<void> {
    await this.stamp(sessionId, 'SET retentionAppliedAt = :at REMOVE retentionDueSince', at);
  }

  markExpired(sessionId: string, now: string): Promise<boolean> {
    return conditionalUpdate(this.doc, this.table, {
      Key: keys.session(sessionId),
      UpdateExpression: 'SET #status = :expired, expiredAt = :now ADD version :one',
      ConditionExpression: '#status = :open AND expiresAt < :now',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':expired': 'EXPIRED', ':open': 'OPEN', ':now': now, ':one': 1 },
    });
  }

  async markObjectsDeleted(sessionId: string, at: string): Promise<void> {
    await this.stamp(sessionId, 'SET objectsDeletedAt = :at', at);
  }

  /** Records when the sweep finished a step on a session (`:at` in the expression); never creates the item. */
  private async stamp(sessionId: string, updateExpression: string, at: string): Promise<void> {
    await conditionalUpdate(this.doc, this.table, {
      Key: keys.session(sessionId),
      UpdateExpression: updateExpression,
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':at': at },
    });
  }
}
