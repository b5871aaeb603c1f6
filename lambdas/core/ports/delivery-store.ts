import type { StudyDelivery } from '../model';

/** Each accepted study's delivery state, kept beside the study (the one DynamoDB table in AWS). */
export interface DeliveryStore {
  /** The delivery state of each study of the session that has one. */
  deliveries(sessionId: string): Promise<Map<string, StudyDelivery>>;
  /**
   * Claims a study for one delivery attempt: sets it PENDING unless it is DELIVERED or SUBMITTED,
   * or another attempt's PENDING claim is newer than `staleBefore`. False when not claimed.
   */
  claim(sessionId: string, studyInstanceUid: string, target: StudyDelivery['target'], at: string, staleBefore: string): Promise<boolean>;
  /**
   * Records the attempt's outcome on the study. With `expectedUpdatedAt`, only over the state last
   * written at that time; otherwise it throws DeliveryConflictError (someone wrote in between).
   * A final state (DELIVERED, FAILED) is recorded with its event pending (StudyEventOutbox), in the
   * same write, so no crash can lose it; `deliveries` then reads it with `eventPending`.
   */
  record(sessionId: string, studyInstanceUid: string, delivery: StudyDelivery, expectedUpdatedAt?: string): Promise<void>;
  /** Every study of the session delivered, or failed for good: nothing is left to resume. */
  markSessionDelivered(sessionId: string, at: string): Promise<void>;
  /** Accepted sessions not yet marked delivered (local mode resumes them at start). */
  sessionsToDeliver(): Promise<string[]>;
}

export class DeliveryConflictError extends Error {
  override readonly name = 'DeliveryConflictError';
}
