/** CompletionLock on the table: the session's status COMPLETING is the lock, taken and given back by conditional writes. */
import { TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AcceptedState } from '../core/model';
import type { CompletionLock } from '../core/ports';
import { conditionalUpdate, isConditionFailure } from './dynamo-errors';
import { keys } from './table';

export class DynamoCompletionLock implements CompletionLock {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  lockForCompletion(sessionId: string, at: string, staleBefore: string): Promise<boolean> {
    return conditionalUpdate(this.doc, this.table, {
      Key: keys.session(sessionId),
      UpdateExpression: 'SET #status = :completing, completingSince = :at ADD version :one',
      ConditionExpression: '#status = :open OR (#status = :completing AND completingSince < :stale)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':completing': 'COMPLETING', ':open': 'OPEN', ':at': at, ':stale': staleBefore, ':one': 1 },
    });
  }

  async releaseCompletionLock(sessionId: string): Promise<void> {
    await conditionalUpdate(this.doc, this.table, {
      Key: keys.session(sessionId),
      UpdateExpression: 'SET #status = :open REMOVE completingSince ADD version :one',
      ConditionExpression: '#status = :completing',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':completing': 'COMPLETING', ':open': 'OPEN', ':one': 1 },
    });
  }

  async markAccepted(sessionId: string, state: AcceptedState): Promise<boolean> {
    const values: Record<string, unknown> = {
      ':accepted': 'ACCEPTED',
      ':completing': 'COMPLETING',
      ':at': state.completedAt,
      ':manifest': state.manifestKey,
      ':bytes': state.acceptedBytes,
      ':contact': state.contact ?? {},
      ':one': 1,
    };
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.table,
                Key: keys.session(sessionId),
                UpdateExpression:
                  'SET #status = :accepted, completedAt = :at, retentionDueSince = :at, manifestKey = :manifest, acceptedBytes = :bytes, contact = :contact REMOVE completingSince ADD version :one',
                ConditionExpression: '#status = :completing',
                ExpressionAttributeNames: { '#status': 'status' },
                ExpressionAttributeValues: values,
              },
            },
            // The per-study comments live on the study items, beside their counters.
            ...Object.entries(state.comments).map(([studyUid, comment]) => ({
              Update: {
                TableName: this.table,
                Key: keys.study(sessionId, studyUid),
                UpdateExpression: 'SET #comment = :comment, studyInstanceUid = if_not_exists(studyInstanceUid, :uid)',
                ExpressionAttributeNames: { '#comment': 'comment' },
                ExpressionAttributeValues: { ':comment': comment, ':uid': studyUid },
              },
            })),
          ],
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}
