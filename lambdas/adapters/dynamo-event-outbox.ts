/** EventOutbox on the session item: a claim (eventClaimedAt) and the mark that the event went out (eventPublishedAt). */
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { EventOutbox, SessionEventClaim } from '../core/ports';
import { conditionalUpdate } from './dynamo-errors';
import { keys } from './table';

export class DynamoEventOutbox implements EventOutbox {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async claimEventPublication(sessionId: string, at: string, staleBefore: string): Promise<SessionEventClaim> {
    const claimed = await conditionalUpdate(this.doc, this.table, {
      Key: keys.session(sessionId),
      UpdateExpression: 'SET eventClaimedAt = :at',
      ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(eventPublishedAt) AND (attribute_not_exists(eventClaimedAt) OR eventClaimedAt < :stale)',
      ExpressionAttributeValues: { ':at': at, ':stale': staleBefore },
    });
    if (claimed) return 'claimed';
    // Refused: read why (only on a race or after a crash, so the extra read is rare).
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: keys.session(sessionId), ConsistentRead: true, ProjectionExpression: 'pk, eventPublishedAt' }),
    );
    return Item && !Item.eventPublishedAt ? 'busy' : 'done';
  }

  async releaseEventClaim(sessionId: string): Promise<void> {
    await conditionalUpdate(this.doc, this.table, {
      Key: keys.session(sessionId),
      UpdateExpression: 'REMOVE eventClaimedAt',
      ConditionExpression: 'attribute_exists(pk)',
    });
  }

  async markEventPublished(sessionId: string, at: string): Promise<void> {
    // Unconditional on the claim: a publish that happened must be recorded; a missing session is an error.
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: keys.session(sessionId),
        UpdateExpression: 'SET eventPublishedAt = if_not_exists(eventPublishedAt, :at)',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':at': at },
      }),
    );
  }
}
