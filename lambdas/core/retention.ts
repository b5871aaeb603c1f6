/**
 * The object tag the uploads bucket's lifecycle keys on (lib/upload-storage.ts). Upload URLs sign
 * `upload-state=pending` (so never-completed data expires after retention.pendingDays); on
 * acceptance the sweeper re-tags every file object `upload-state=accepted` (kept for retention.acceptedDays;
 * core/apply-retention.ts).
 */
export const RETENTION_TAG = {
  key: 'upload-state',
  pending: 'pending',
  accepted: 'accepted',
} as const;

/** The `x-amz-tagging` / `Tagging` value for a state, URL-query encoded as S3 expects. */
export function retentionTagging(state: 'pending' | 'accepted'): string {
  return `${RETENTION_TAG.key}=${RETENTION_TAG[state]}`;
}
