/**
 * An object that can never be delivered as it is (retrying will not help): the study's delivery
 * fails with this reason. The message names the problem, never a value from the file (PHI).
 */
export type UndeliverableReason = 'IDENTIFIER_TOO_LONG' | 'DEFLATED_DATASET' | 'NOT_PART10' | 'UNREADABLE_OBJECT' | 'UNSUPPORTED_ATTACHMENT';

export class UndeliverableError extends Error {
  constructor(
    readonly reason: UndeliverableReason,
    message: string,
  ) {
    super(message);
    this.name = 'UndeliverableError';
  }
}
