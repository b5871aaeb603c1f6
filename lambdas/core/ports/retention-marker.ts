/**
 * Marks accepted objects so the bucket lifecycle keeps them for the retention period instead of
 * expiring them as pending (see core/retention.ts).
 */
export interface RetentionMarker {
  markAccepted(keys: readonly string[]): Promise<void>;
}
