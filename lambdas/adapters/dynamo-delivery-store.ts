/**
 * DeliveryStore on the one table (layout in ./table.ts): each study's delivery lives on its study
 * item (`deliveryState`, the claim's time, and the last outcome in `delivery`); the session item
 * gets `deliveredAt` once nothing is left to deliver. Claims are conditional writes, so two runs
 * (a queue redelivery, local mode's resume) never deliver the same study at once.
 */
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { StudyDelivery } from '../core/model';
import type { DeliveryProgress, DeliveryStore } from '../core/ports';
import { DeliveryConflictError } from '../core/ports/delivery-store';
import { isConditionalCheckFailed } from './dynamo-errors';
import { allItems, queryItems, scanItems } from './dynamo-pages';
import { keys } from './table';

/** The delivery attributes of a study item. */
export interface StudyDeliveryAttributes {
  deliveryState?: StudyDelivery['state'];
  deliveryClaimedAt?: string;
  deliveryTarget?: StudyDelivery['target'];
  delivery?: StudyDelivery;
  /** The `updatedAt` of the final state whose event is not published yet (DynamoStudyEventOutbox). */
  deliveryEventPending?: string;
  deliveryEventClaimedAt?: string;
}

/** The study's delivery as the API shows it: a running claim is PENDING, with the last outcome's details. */
export function studyDeliveryOf(item: StudyDeliveryAttributes): StudyDelivery | undefined {
  if (!item.deliveryState) return undefined;
  if (item.deliveryState !== 'PENDING') {
    const pending = item.delivery !== undefined && item.deliveryEventPending === item.delivery.updatedAt;
    return pending ? { ...item.delivery!, eventPending: true } : item.delivery;
  }
  return {
    attempts: item.delivery?.attempts ?? 0,
    target: item.deliveryTarget ?? item.delivery?.target ?? 'dicomweb',
    state: 'PENDING',
    updatedAt: item.deliveryClaimedAt ?? item.delivery?.updatedAt ?? '',
  };
}

export class DynamoDeliveryStore implements DeliveryStore, DeliveryProgress {
  constructor(private readonly options: { doc: DynamoDBDocumentClient; tableName: string }) {}

  async deliveries(sessionId: string): Promise<Map<string, StudyDelivery>> {
    const found = new Map<string, StudyDelivery>();
    for (const item of await this.studyItems(sessionId)) {
      const delivery = studyDeliveryOf(item);
      if (delivery) found.set(String(item.sk).slice('STUDY#'.length), delivery);
    }
    return found;
  }

  async studyStates(sessionId: string): Promise<(StudyDelivery['state'] | undefined)[]> {
    return (await this.studyItems(sessionId)).map((item) => studyDeliveryOf(item)?.state);
  }

  /** The session's study items (a handful per session: one per study, never per file). */
  private studyItems(sessionId: string): Promise<(StudyDeliveryAttributes & { sk: string })[]> {
    return allItems(
      queryItems<StudyDeliveryAttributes & { sk: string }>(this.options.doc, {
        TableName: this.options.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :study)',
        ExpressionAttributeValues: { ':pk': keys.session(sessionId).pk, ':study': 'STUDY#' },
        ConsistentRead: true,
      }),
    );
  }

  async claim(sessionId: string, studyInstanceUid: string, target: StudyDelivery['target'], at: string, staleBefore: string): Promise<boolean> {
    try {
      await this.options.doc.send(
        new UpdateCommand({
          TableName: this.options.tableName,
          Key: keys.study(sessionId, studyInstanceUid),
          UpdateExpression: 'SET deliveryState = :pending, deliveryClaimedAt = :at, deliveryTarget = :target, studyInstanceUid = if_not_exists(studyInstanceUid, :uid)',
          ConditionExpression: 'attribute_not_exists(deliveryState) OR deliveryState = :failed OR (deliveryState = :pending AND deliveryClaimedAt < :stale)',
          ExpressionAttributeValues: { ':pending': 'PENDING', ':failed': 'FAILED', ':at': at, ':stale': staleBefore, ':target': target, ':uid': studyInstanceUid },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  async record(sessionId: string, studyInstanceUid: string, delivery: StudyDelivery, expectedUpdatedAt?: string): Promise<void> {
    const expected = expectedUpdatedAt === undefined ? {} : { ConditionExpression: '#delivery.updatedAt = :expected', ExpressionAttributeNames: { '#delivery': 'delivery' } };
    const { eventPending: _read, ...stored } = delivery;
    // A final state and its pending event in one write: the outbox entry cannot be lost between the two.
    const final = delivery.state === 'DELIVERED' || delivery.state === 'FAILED';
    const event = final ? { set: ', deliveryEventPending = :updatedAt', remove: '' } : { set: '', remove: ', deliveryEventPending' };
    try {
      await this.options.doc.send(
        new UpdateCommand({
          TableName: this.options.tableName,
          Key: keys.study(sessionId, studyInstanceUid),
          UpdateExpression: `SET deliveryState = :state, ${expectedUpdatedAt === undefined ? 'delivery' : '#delivery'} = :delivery${event.set} REMOVE deliveryClaimedAt, deliveryEventClaimedAt${event.remove}`,
          ExpressionAttributeValues: {
            ':state': delivery.state,
            ':delivery': stored,
            ...(final ? { ':updatedAt': delivery.updatedAt } : {}),
            ...(expectedUpdatedAt === undefined ? {} : { ':expected': expectedUpdatedAt }),
          },
          ...expected,
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new DeliveryConflictError('the study\'s delivery changed since it was read');
      throw error;
    }
  }

  async markSessionDelivered(sessionId: string, at: string): Promise<void> {
    await this.options.doc.send(
      new UpdateCommand({
        TableName: this.options.tableName,
        Key: keys.session(sessionId),
        UpdateExpression: 'SET deliveredAt = if_not_exists(deliveredAt, :at)',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':at': at },
      }),
    );
  }

  /** A Scan, like the sweep's: only local mode calls it, once at start. */
  async sessionsToDeliver(): Promise<string[]> {
    const found: string[] = [];
    const sessions = scanItems(this.options.doc, {
      TableName: this.options.tableName,
      FilterExpression: 'sk = :session AND #status = :accepted AND attribute_not_exists(deliveredAt)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':session': 'SESSION', ':accepted': 'ACCEPTED' },
      ProjectionExpression: 'sessionId',
    });
    for await (const item of sessions) found.push(String(item.sessionId));
    return found;
  }
}
