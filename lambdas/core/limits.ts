/**
 * Every fixed limit and protocol constant, in one place: the server, local mode and the portal
 * import them from here. Per-hospital limits live in the institution schema (./institution.ts),
 * bounded by these.
 */

/** DESIGN.md: the hospital sets the session limit between 0 and 10 GB (decimal). */
export const MAX_SESSION_BYTES = 10_000_000_000;

/**
 * Files per upload request. Each file costs up to three items of one DynamoDB transaction (file, SOP
 * guard, study), plus the session item: 1 + 3 × 32 = 97, within DynamoDB's 100-item limit. The
 * DICOM share is limited further by the institution's maxDicomFilesAtOnce, which cannot exceed this.
 */
export const MAX_FILES_PER_REQUEST = 32;

/** Attempts of an upload request against concurrent writers before answering 409 SESSION_BUSY. */
export const MAX_RESERVATION_ATTEMPTS = 12;

/**
 * The most header bytes (the prefix up to Pixel Data) that the portal and the inspector read of a
 * DICOM file; a file whose header needs more is not one we accept. One value for both, so a file the
 * portal accepts is never rejected by the inspector for its header. 16 MiB holds the largest real
 * headers (enhanced multi-frame objects, whose per-frame functional groups run to a few MB) with
 * room, and bounds the inspector's memory: ten files inspected in parallel, each holding its prefix
 * and the grown copy, stay under 320 MiB of the 1024 MB Lambda.
 */
export const MAX_HEADER_BYTES = 16 * 1024 * 1024;

/** The first ranged read of a DICOM object; more only when the header is longer. */
export const FIRST_HEADER_CHUNK = 64 * 1024;

/** Magic bytes of every attachment type sit in the first bytes; PDF allows junk before `%PDF-` up to 1 KB. */
export const ATTACHMENT_SNIFF_BYTES = 4096;

/** Session and file ids as we issue them (128 random bits, base64url: 22 characters); at most 64 accepted. */
export const ID_PATTERN_SOURCE = '[A-Za-z0-9_-]{1,64}';
export const ID_PATTERN = new RegExp(`^${ID_PATTERN_SOURCE}$`);

export function isId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value);
}

const SECONDS_PER_DAY = 86_400;

/**
 * When DynamoDB TTL may delete a session's items (epoch seconds): `pendingDays` after `until` (the
 * session's expiry, or the latest expiry a code's session can have), as long as the bucket keeps
 * pending uploads, so no item disappears while its object may still arrive or be swept.
 */
export function ttlEpochSeconds(until: Date | string, pendingDays: number): number {
  const ms = typeof until === 'string' ? Date.parse(until) : until.getTime();
  return Math.ceil(ms / 1000) + pendingDays * SECONDS_PER_DAY;
}
