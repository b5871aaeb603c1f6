/**
 * SessionRejections on the table: one conditional update, idempotent per reason key. The session item keeps at most
 * MAX_STORED_REASONS reasons (a rule broken by all 20,000 files of a session would otherwise pass DynamoDB's 400 KB
 * item limit): the first ones, which name the rule and enough files to find the cause.
 */
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { RejectionReason, SessionRecord } from '../core/model';
import type { SessionRejections, SessionStore } from '../core/ports';
import { isConditionFailure } from './dynamo-errors';
import { keys, type SessionItem } from './table';

/** About 30 KB of reasons at most on the session item. */
export const MAX_STORED_REASONS = 100;

export class DynamoSessionRejections implements SessionRejections {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    /** Reads the session after the write (the caller's store, so reads are shared). */
    private readonly sessions: Pick<SessionStore, 'get'>,
  ) {}

  async rejectSession(
    sessionId: string,
    reasons: RejectionReason[],
    reasonKey: string,
    at: string,
  ): Promise<{ transitioned: boolean; session: SessionRecord | undefined }> {
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.session(sessionId),
          UpdateExpression:
            'SET #status = :rejected, rejection = list_append(if_not_exists(rejection, :none), :reasons), rejectedAt = if_not_exists(rejectedAt, :at) REMOVE completingSince ADD rejectedKeys :key, version :one',
          ConditionExpression:
            '#status IN (:open, :completing, :rejected) AND (attribute_not_exists(rejectedKeys) OR NOT contains(rejectedKeys, :keyText)) AND (attribute_not_exists(rejection) OR size(rejection) < :max)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':rejected': 'REJECTED',
            ':open': 'OPEN',
            ':completing': 'COMPLETING',
            ':none': [],
            ':reasons': reasons.slice(0, MAX_STORED_REASONS),
            ':max': MAX_STORED_REASONS,
            ':at': at,
            ':key': new Set([reasonKey]),
            ':keyText': reasonKey,
            ':one': 1,
          },
          ReturnValues: 'ALL_OLD',
        }),
      );
      const transitioned = (out.Attributes as SessionItem | undefined)?.status !== 'REJECTED';
      return { transitioned, session: await this.sessions.get(sessionId) };
    } catch (error) {
      if (isConditionFailure(error)) return { transitioned: false, session: await this.sessions.get(sessionId) };
      throw error;
    }
  }
}
