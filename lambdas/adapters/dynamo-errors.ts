/** Recognising DynamoDB's refusals by the SDK's exception classes, and the conditional write they guard. */
import { ConditionalCheckFailedException, TransactionCanceledException, TransactionConflictException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export function isConditionalCheckFailed(error: unknown): boolean {
  return error instanceof ConditionalCheckFailedException;
}

/** The per-item cancellation reason codes of a cancelled transaction, or undefined for other errors. */
export function cancellationCodes(error: unknown): (string | undefined)[] | undefined {
  if (!(error instanceof TransactionCanceledException)) return undefined;
  return (error.CancellationReasons ?? []).map((reason) => reason.Code);
}

/** A plain write that hit an item a transaction was changing at that moment: retrying is right. */
export function isTransactionConflict(error: unknown): boolean {
  return error instanceof TransactionConflictException;
}

/**
 * A write refused by its conditions alone: a failed condition, or a transaction cancelled only by
 * conditions (the other items say "None"). A conflict or a throttle is not one: worth a retry.
 */
export function isConditionFailure(error: unknown): boolean {
  if (isConditionalCheckFailed(error)) return true;
  const codes = cancellationCodes(error);
  return !!codes && codes.includes('ConditionalCheckFailed') && codes.every((code) => code === 'ConditionalCheckFailed' || code === 'None');
}

export type UpdateInput = Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName'>;

/** An UpdateItem whose failed condition is an answer (false), not an error. */
export async function conditionalUpdate(doc: DynamoDBDocumentClient, table: string, input: UpdateInput): Promise<boolean> {
  try {
    await doc.send(new UpdateCommand({ TableName: table, ...input }));
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}
