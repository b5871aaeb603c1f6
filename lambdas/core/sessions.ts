/**
 * Upload sessions: redeeming a code opens (or resumes) a session and hands out a bearer token of
 * 256 random bits; only its hash is stored. Every session route authenticates with it.
 */
import { normalizeUploadCode, uploadCodeHash } from './codes';
import { ConflictError, RateLimitedError, UnauthorizedError } from './errors';
import { limitsFor, type InstitutionConfig } from './institution';
import { ttlEpochSeconds } from './limits';
import type { FileRecord, Limits, RejectionReason, SessionRecord, SessionStatus, StudyRecord } from './model';
import type { Clock, CodeStore, FileSummary, Ids, RandomSource, RateLimiter, SecretHasher, SessionStore } from './ports';
import { deliveryView, type StudyDeliveryView } from './delivery/delivery-view';
import { uniqueReasons } from './session-rejection';
import { definedFields, studyHeaders, type StudyHeader } from './study-header';

export const SESSION_TOKEN_BYTES = 32;

/** URL-safe base64 without padding (RFC 4648 §5); pure, so core needs no Buffer. */
export function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function newSessionToken(random: RandomSource): string {
  return base64url(random.bytes(SESSION_TOKEN_BYTES));
}

export function sessionTokenHash(hasher: SecretHasher, token: string): string {
  return hasher.hash(`session-token:${token}`);
}

/** The status as the user sees it: an OPEN session past its expiry is EXPIRED, swept or not. */
export function effectiveStatus(session: Pick<SessionRecord, 'status' | 'expiresAt'>, now: Date): SessionStatus {
  return session.status === 'OPEN' && Date.parse(session.expiresAt) <= now.getTime() ? 'EXPIRED' : session.status;
}

/**
 * Checks the bearer token against the stored hash in constant time. A missing session and a wrong
 * token give the same 401, so a token reveals nothing about other sessions.
 */
export function authenticate(session: SessionRecord | undefined, token: string, hasher: SecretHasher): SessionRecord {
  // Hash even when the session is missing, so both paths cost the same.
  const matches = hasher.matches(`session-token:${token}`, session?.tokenHash ?? '0'.repeat(64));
  if (!session || !matches) throw new UnauthorizedError();
  return session;
}

/** Only an OPEN, unexpired session may change; otherwise 409. */
export function requireOpen(session: SessionRecord, now: Date): void {
  // The hospital withdrew the code: say so plainly, the uploader cannot fix it by retrying.
  if (session.revokedAt) throw new ConflictError('SESSION_REVOKED');
  if (effectiveStatus(session, now) !== 'OPEN') throw new ConflictError('SESSION_NOT_OPEN');
}

export interface InstitutionView {
  name: string;
  phone: string;
  email: string;
  manualUrl: string;
  privacyPolicyUrl?: string;
}

export function institutionView(institution: InstitutionConfig): InstitutionView {
  return {
    name: institution.name,
    phone: institution.contact.phone,
    email: institution.contact.email,
    manualUrl: institution.manualUrl,
    ...(institution.privacyPolicyUrl ? { privacyPolicyUrl: institution.privacyPolicyUrl } : {}),
  };
}

export interface OpenedSession {
  /** False when the code resumed its OPEN session. */
  created: boolean;
  sessionId: string;
  /** Shown once; only its hash is stored. A resume replaces the previous token. */
  token: string;
  status: SessionStatus;
  expiresAt: string;
  institution: InstitutionView;
  limits: Limits;
  usage: { reservedBytes: number; receivedBytes: number };
}

export type OpenSession = (input: { uploadCode: string; clientAddress: string }) => Promise<OpenedSession>;

/**
 * Redeems an upload code. A fresh code opens a session (claiming the code atomically); the same code
 * while its session is OPEN resumes it with a new token. Anything else (unknown, mistyped, used,
 * expired, revoked) is one generic 401 INVALID_CODE, and counts against the caller's address.
 */
export function makeOpenSession(deps: {
  codes: CodeStore;
  sessions: SessionStore;
  rateLimiter: RateLimiter;
  hasher: SecretHasher;
  random: RandomSource;
  ids: Ids;
  clock: Clock;
  institution: InstitutionConfig;
}): OpenSession {
  const { codes, sessions, rateLimiter, hasher, random, ids, clock, institution } = deps;
  return async ({ uploadCode, clientAddress }) => {
    const now = clock.now();
    const rateKey = hasher.hash(`redeem:${clientAddress}`);
    const wait = await rateLimiter.blockedFor(rateKey, now);
    if (wait > 0) throw new RateLimitedError(wait);
    const refuse = async () => {
      await rateLimiter.recordFailure(rateKey, now);
      return new UnauthorizedError('INVALID_CODE');
    };

    const normalized = normalizeUploadCode(uploadCode);
    if (!normalized) throw await refuse();
    const codeHash = uploadCodeHash(hasher, normalized);

    // Two passes at most: a concurrent redemption of the same code makes the second pass a resume.
    for (let pass = 0; pass < 2; pass++) {
      const code = await codes.get(codeHash);
      if (!code || code.revoked || code.institutionId !== institution.id || Date.parse(code.expiresAt) <= now.getTime()) {
        throw await refuse();
      }
      const token = newSessionToken(random);
      const tokenHash = sessionTokenHash(hasher, token);

      if (code.sessionId) {
        const session = await sessions.get(code.sessionId);
        if (!session || effectiveStatus(session, now) !== 'OPEN') throw await refuse();
        if (!(await sessions.replaceToken(session.sessionId, tokenHash))) throw await refuse();
        return opened(false, { ...session, tokenHash }, token);
      }

      const expiresAt = new Date(now.getTime() + institution.session.sessionHours * 3_600_000);
      const session: SessionRecord = {
        sessionId: ids.newId(),
        institutionId: institution.id,
        tokenHash,
        codeHash,
        codeReference: code.reference,
        status: 'OPEN',
        limits: limitsFor(institution, code.maxSessionBytes),
        reservedBytes: 0,
        receivedBytes: 0,
        dicomCount: 0,
        attachmentCount: 0,
        version: 1,
        createdAt: now.toISOString(),
        expiresAt: expiresAt.toISOString(),
      };
      const ttl = ttlEpochSeconds(expiresAt, institution.retention.pendingDays);
      if ((await sessions.createWithCode(session, { codeHash, now }, ttl)) === 'created') return opened(true, session, token);
    }
    throw await refuse();
  };

  function opened(created: boolean, session: SessionRecord, token: string): OpenedSession {
    return {
      created,
      sessionId: session.sessionId,
      token,
      status: session.status,
      expiresAt: session.expiresAt,
      institution: institutionView(institution),
      limits: session.limits,
      usage: { reservedBytes: session.reservedBytes, receivedBytes: session.receivedBytes },
    };
  }
}

/** `sha256` lets a reloaded portal recognise a file added again by its bytes, whatever its name. */
export type SessionFileView = Pick<FileRecord, 'fileId' | 'clientId' | 'name' | 'kind' | 'size' | 'studyInstanceUid' | 'status' | 'reason' | 'sha256'>;

export interface SessionView {
  sessionId: string;
  status: SessionStatus;
  createdAt: string;
  expiresAt: string;
  institution: InstitutionView;
  limits: Limits;
  usage: { reservedBytes: number; receivedBytes: number };
  files: SessionFileView[];
  /** Per study: totals, the header fields the inspector read (StudyHeader), so a reloaded portal can name it, and its delivery. */
  studies: ({
    studyInstanceUid: string;
    bytes: number;
    dicomFiles: number;
    attachments: number;
    /** The study's share of the session's counts, and the bytes of its judged files. */
    counts: FileCounts;
    receivedBytes: number;
    comment?: string;
    delivery?: StudyDeliveryView;
  } & Partial<StudyHeader>)[];
  rejection: RejectionReason[];
  /** Set when the hospital revoked the code while the session was open (its status is then EXPIRED). */
  revokedAt?: string;
}

/** Files of a session or a study, from the counters the verdicts keep (never from reading the files). */
export interface FileCounts {
  /** Files declared and not removed. */
  declared: number;
  /** Files whose object arrived and was judged (verified + rejected). */
  received: number;
  verified: number;
  rejected: number;
}

export function fileCounts(of: { dicomCount: number; attachmentCount: number; verifiedCount?: number; rejectedCount?: number }): FileCounts {
  const verified = of.verifiedCount ?? 0;
  const rejected = of.rejectedCount ?? 0;
  return { declared: of.dicomCount + of.attachmentCount, received: verified + rejected, verified, rejected };
}

/** The session's state as GET /sessions/{id} shows it: removed files and emptied studies left out. */
export function sessionView(
  state: { session: SessionRecord; studies: StudyRecord[]; files: readonly (FileSummary & Pick<FileRecord, 'header'>)[] },
  institution: InstitutionConfig,
  now: Date,
): SessionView {
  const { session } = state;
  const headers = studyHeaders(state.files.filter((f) => f.status !== 'REMOVED'));
  return {
    sessionId: session.sessionId,
    status: effectiveStatus(session, now),
    createdAt: session.createdAt,
    expiresAt: session.expiresAt,
    institution: institutionView(institution),
    limits: session.limits,
    usage: { reservedBytes: session.reservedBytes, receivedBytes: session.receivedBytes },
    files: [...state.files]
      .filter((f) => f.status !== 'REMOVED')
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.fileId.localeCompare(b.fileId))
      .map((f) => ({
        fileId: f.fileId,
        clientId: f.clientId,
        name: f.name,
        kind: f.kind,
        size: f.size,
        studyInstanceUid: f.studyInstanceUid,
        status: f.status,
        ...(f.sha256 ? { sha256: f.sha256 } : {}),
        ...(f.reason ? { reason: f.reason } : {}),
      })),
    studies: state.studies
      .filter((s) => s.dicomCount + s.attachmentCount > 0)
      .map((s) => ({
        studyInstanceUid: s.studyInstanceUid,
        bytes: s.bytes,
        dicomFiles: s.dicomCount,
        attachments: s.attachmentCount,
        counts: fileCounts(s),
        receivedBytes: s.receivedBytes ?? 0,
        ...(s.comment ? { comment: s.comment } : {}),
        // The header the verdicts kept on the study; a study judged before they kept one is named from the page's files.
        ...definedFields(s.header ?? headers.get(s.studyInstanceUid)),
        ...deliveryView(s.delivery, institution, effectiveStatus(session, now)),
      })),
    rejection: uniqueReasons(session.rejection ?? []),
    ...(session.revokedAt ? { revokedAt: session.revokedAt } : {}),
  };
}
