/**
 * Where the uploads bucket stages a study for an asynchronous import (HealthImaging): outside
 * sessions/, so the copies never reach the inspector's notification, and expired by their own
 * lifecycle rule. Keys carry the session id and a hash of the study, never a UID or header value.
 */
export const DELIVERY_STAGING_PREFIX = 'deliveries/';
/** Staged copies and import results are only needed until the import job is read back. */
export const DELIVERY_STAGING_DAYS = 14;

/** IAM resource patterns (lib/delivery.ts) for the two halves of every staging prefix. */
export const STAGED_INPUTS = `${DELIVERY_STAGING_PREFIX}*/input/*`;
export const STAGED_OUTPUTS = `${DELIVERY_STAGING_PREFIX}*/output/*`;

export interface StagingLocation {
  /** deliveries/{sessionId}/{studyRef}/input/: what the import job reads. */
  inputPrefix: string;
  /** deliveries/{sessionId}/{studyRef}/output/: where the import job writes its results. */
  outputPrefix: string;
}

/** Chunk 0 (the only one of most studies) keeps the study's own prefix; chunk k > 0 gets {studyRef}/{k}/. */
export function stagingLocation(sessionId: string, studyRef: string, chunk = 0): StagingLocation {
  const base = `${DELIVERY_STAGING_PREFIX}${sessionId}/${studyRef}/${chunk > 0 ? `${chunk}/` : ''}`;
  return { inputPrefix: `${base}input/`, outputPrefix: `${base}output/` };
}

/** The session and study of a staging key or S3 URI, or undefined for anything else. */
export function parseStagingKey(keyOrUri: string): { sessionId: string; studyRef: string; chunk: number } | undefined {
  const match = /(?:^|\/)deliveries\/([A-Za-z0-9_-]{1,64})\/([0-9a-f]{16})\/(?:(\d{1,5})\/)?(?:input|output)\//.exec(keyOrUri);
  return match ? { sessionId: match[1]!, studyRef: match[2]!, chunk: Number(match[3] ?? 0) } : undefined;
}
