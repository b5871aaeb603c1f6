/** Recognising DynamoDB's refusals by their documented error names (the SDK's exception classes). */
import { ConditionalCheckFailedException, TransactionCanceledException, TransactionConflictException } from '@aws-sdk/client-dynamodb';

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
