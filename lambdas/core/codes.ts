/**
 * Upload codes: human-friendly Crockford base32 (e.g. K7QF-2M9X-HT4P-8WRA), 80 random bits, stored
 * only as a SHA-256 hash with an expiry, an optional session limit, a reference and a revoke flag.
 */
import { BadRequestError } from './errors';
import type { InstitutionConfig } from './institution';
import { MAX_SESSION_BYTES, ttlEpochSeconds } from './limits';
import type { Clock, CodeStore, RandomSource, SecretHasher } from './ports';

/** Crockford's alphabet: no I, L, O or U, so codes survive being read aloud or handwritten. */
export const CROCKFORD_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** 4 groups of 4 characters × 5 bits = 80 bits: guessing one in 2^80 is hopeless even without the rate limit. */
export const CODE_GROUPS = 4;
export const CODE_GROUP_LENGTH = 4;
export const CODE_LENGTH = CODE_GROUPS * CODE_GROUP_LENGTH;
export const CODE_ENTROPY_BITS = CODE_LENGTH * 5;

/** Encodes bytes as Crockford base32, 5 bits per character, most significant bits first. */
export function crockfordEncode(bytes: Uint8Array, length: number): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = ((buffer << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5 && out.length < length) {
      out += CROCKFORD_ALPHABET[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (out.length < length) throw new Error(`crockfordEncode: ${bytes.length} bytes give fewer than ${length} characters`);
  return out;
}

/** A new code from the random source, grouped with dashes: XXXX-XXXX-XXXX-XXXX. */
export function generateUploadCode(random: RandomSource): string {
  const chars = crockfordEncode(random.bytes(Math.ceil(CODE_ENTROPY_BITS / 8)), CODE_LENGTH);
  return formatUploadCode(chars);
}

export function formatUploadCode(chars: string): string {
  const groups: string[] = [];
  for (let i = 0; i < chars.length; i += CODE_GROUP_LENGTH) groups.push(chars.slice(i, i + CODE_GROUP_LENGTH));
  return groups.join('-');
}

/**
 * The canonical form of what a person typed: case-insensitive, dashes and spaces ignored, I/L read
 * as 1 and O as 0 (Crockford's decoding). Null when it cannot be a code of ours.
 */
export function normalizeUploadCode(input: string): string | null {
  if (typeof input !== 'string' || input.length > 64) return null;
  const chars = input
    .toUpperCase()
    .replace(/[\s\-‐-―]/g, '')
    .replace(/[IL]/g, '1')
    .replace(/O/g, '0');
  if (chars.length !== CODE_LENGTH) return null;
  for (const c of chars) if (!CROCKFORD_ALPHABET.includes(c)) return null;
  return chars;
}

/** The stored hash of a code (of its canonical form, so every way of typing it matches). */
export function uploadCodeHash(hasher: SecretHasher, normalizedCode: string): string {
  return hasher.hash(`upload-code:${normalizedCode}`);
}

export interface IssueUploadCodeInput {
  maxSessionBytes?: number;
  validDays?: number;
  /** The hospital's own reference (e.g. a request number). Never logged. */
  reference?: string;
}

export interface IssuedUploadCode {
  /** Shown once; only its hash is stored. */
  code: string;
  expiresAt: string;
  maxSessionBytes?: number;
  reference?: string;
}

export type IssueUploadCode = (input: IssueUploadCodeInput) => Promise<IssuedUploadCode>;

/** Issues a code for this institution: random, stored as a hash, valid for `validDays` (config default). */
export function makeIssueUploadCode(deps: {
  codes: CodeStore;
  hasher: SecretHasher;
  random: RandomSource;
  clock: Clock;
  institution: InstitutionConfig;
}): IssueUploadCode {
  const { codes, hasher, random, clock, institution } = deps;
  return async (input) => {
    if (input.maxSessionBytes !== undefined && !(Number.isInteger(input.maxSessionBytes) && input.maxSessionBytes >= 0 && input.maxSessionBytes <= MAX_SESSION_BYTES)) {
      throw new BadRequestError('maxSessionBytes must be a whole number of bytes between 0 and 10 GB.');
    }
    const now = clock.now();
    const validDays = input.validDays ?? institution.codes.validDays;
    const expiresAt = new Date(now.getTime() + validDays * 86_400_000);
    const code = generateUploadCode(random);
    const codeHash = uploadCodeHash(hasher, normalizeUploadCode(code)!);
    // Keep the item until a session it opened could have expired and been swept.
    // The latest a session opened with this code can expire, plus the pending retention.
    const ttl = ttlEpochSeconds(new Date(expiresAt.getTime() + institution.session.sessionHours * 3_600_000), institution.retention.pendingDays);
    await codes.create(
      {
        codeHash,
        institutionId: institution.id,
        createdAt: now.toISOString(),
        expiresAt: expiresAt.toISOString(),
        maxSessionBytes: input.maxSessionBytes,
        reference: input.reference,
        revoked: false,
      },
      ttl,
    );
    return {
      code,
      expiresAt: expiresAt.toISOString(),
      ...(input.maxSessionBytes !== undefined ? { maxSessionBytes: input.maxSessionBytes } : {}),
      ...(input.reference !== undefined ? { reference: input.reference } : {}),
    };
  };
}
