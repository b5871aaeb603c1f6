/**
 * StudyEventOutbox on the study item, the way DynamoEventOutbox does it on the session item: the
 * delivery store records a final state with `deliveryEventPending` (that state's `updatedAt`); a
 * publisher claims it (`deliveryEventClaimedAt`) and removes both once the event went out.
 */
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { StudyEventOutbox } from '../core/ports';
import type { StudyEventClaim } from '../core/ports/study-event-outbox';
import { conditionalUpdate } from './dynamo-errors';
import { keys } from './table';

export class DynamoStudyEventOutbox implements StudyEventOutbox {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async claimStudyEvent(sessionId: string, studyInstanceUid: string, stateAt: string, at: string, staleBefore: string): Promise<StudyEventClaim> {
    const claimed = await conditionalUpdate(this.doc, this.table, {
      Key: keys.study(sessionId, studyInstanceUid),
      UpdateExpression: 'SET deliveryEventClaimedAt = :at',
      ConditionExpression: 'deliveryEventPending = :state AND (attribute_not_exists(deliveryEventClaimedAt) OR deliveryEventClaimedAt < :stale)',
      ExpressionAttributeValues: { ':state': stateAt, ':at': at, ':stale': staleBefore },
    });
    if (claimed) return 'claimed';
    // Refused: read why (only on a race or after a crash, so the extra read is rare).
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: keys.study(sessionId, studyInstanceUid), ConsistentRead: true, ProjectionExpression: 'deliveryEventPending' }),
    );
    return Item?.deliveryEventPending === stateAt ? 'busy' : 'done';
  }

  async releaseStudyEventClaim(sessionId: string, studyInstanceUid: string, stateAt: string): Promise<void> {
    // Only while that state's event is still pending: a newer state is not this caller's to touch.
    await conditionalUpdate(this.doc, this.table, {
      Key: keys.study(sessionId, studyInstanceUid),
      UpdateExpression: 'REMOVE deliveryEventClaimedAt',
      ConditionExpression: 'deliveryEventPending = :state',
      ExpressionAttributeValues: { ':state': stateAt },
    });
  }

  async markStudyEventPublished(sessionId: string, studyInstanceUid: string, stateAt: string): Promise<void> {
    // A failed condition means it is marked already, or a newer state replaced it: nothing left to do.
    await conditionalUpdate(this.doc, this.table, {
      Key: keys.study(sessionId, studyInstanceUid),
      UpdateExpression: 'REMOVE deliveryEventPending, deliveryEventClaimedAt',
      ConditionExpression: 'deliveryEventPending = :state',
      ExpressionAttributeValues: { ':state': stateAt },
    });
  }
}
