/**
 * The hospital's control over its codes: list them with what became of each, and revoke one (by the
 * code itself, or by the hospital's reference). Revoking ends the code and its OPEN session and
 * deletes what that session uploaded; an accepted session's data stays, it is the hospital's record.
 */
import { normalizeUploadCode, uploadCodeHash } from './codes';
import { BadRequestError, NotFoundError } from './errors';
import type { InstitutionConfig } from './institution';
import type { SessionStatus } from './model';
import { deliverySummaries, type SessionDeliverySummary } from './delivery/delivery-summary';
import type { Clock, CodeDirectory, CodeDirectoryEntry, CodeStore, DeliveryProgress, ObjectRemover, SecretHasher } from './ports';
import { effectiveStatus } from './sessions';

export type CodeStatus = 'ACTIVE' | 'REDEEMED' | 'EXPIRED' | 'REVOKED';

/** One line of `npm run codes -- list`: never the code (only its hash is stored), never PHI. */
export interface CodeListing {
  /** The first 12 hex digits of the code's hash: tells codes without a reference apart. */
  codeId: string;
  reference?: string;
  createdAt: string;
  expiresAt: string;
  status: CodeStatus;
  sessionId?: string;
  sessionStatus?: SessionStatus;
  /** An accepted session of an institution that delivers: its studies' delivery. */
  delivery?: SessionDeliverySummary;
}

export type ListUploadCodes = () => Promise<{ codes: CodeListing[] }>;

const CODE_ID_LENGTH = 12;

/** How lists and the audit trail name a code: the first 12 hex digits of its hash. */
export function codeIdOf(codeHash: string): string {
  return codeHash.slice(0, CODE_ID_LENGTH);
}

function codeStatus(entry: CodeDirectoryEntry, now: Date): CodeStatus {
  if (entry.revoked) return 'REVOKED';
  if (entry.sessionId) return 'REDEEMED';
  return Date.parse(entry.expiresAt) <= now.getTime() ? 'EXPIRED' : 'ACTIVE';
}

export function makeListUploadCodes(deps: { directory: CodeDirectory; clock: Clock; institution: InstitutionConfig; progress?: DeliveryProgress }): ListUploadCodes {
  return async () => {
    const now = deps.clock.now();
    const entries = await deps.directory.list(deps.institution.id);
    const accepted = entries.flatMap((e) => (e.session && effectiveStatus(e.session, now) === 'ACCEPTED' ? [e.session.sessionId] : []));
    const deliveries = deps.progress && deps.institution.delivery ? await deliverySummaries(deps.progress, accepted) : new Map<string, SessionDeliverySummary>();
    return {
      codes: entries.map((entry) => ({
        codeId: codeIdOf(entry.codeHash),
        ...(entry.reference !== undefined ? { reference: entry.reference } : {}),
        createdAt: entry.createdAt,
        expiresAt: entry.expiresAt,
        status: codeStatus(entry, now),
        ...(entry.session
          ? { sessionId: entry.session.sessionId, sessionStatus: effectiveStatus(entry.session, now) }
          : {}),
        ...(entry.session && deliveries.has(entry.session.sessionId) ? { delivery: deliveries.get(entry.session.sessionId)! } : {}),
      })),
    };
  };
}

/** Which codes to revoke: the code as given to the uploader, the hospital's reference, or a listed codeId. */
export type RevocationTarget = { code: string } | { reference: string } | { codeId: string };

export interface RevocationResult {
  revoked: number;
  sessionsEnded: number;
  objectsDeleted: number;
  /** The revoked codes' ids and the sessions ended, for the audit trail. */
  codeIds: string[];
  endedSessionIds: string[];
}

export type RevokeUploadCode = (target: RevocationTarget) => Promise<RevocationResult>;

export function makeRevokeUploadCode(deps: {
  codes: CodeStore;
  directory: CodeDirectory;
  remover: ObjectRemover;
  hasher: SecretHasher;
  clock: Clock;
  institution: InstitutionConfig;
}): RevokeUploadCode {
  const hashesOf = async (target: RevocationTarget): Promise<string[]> => {
    if ('code' in target) {
      const normalized = normalizeUploadCode(target.code);
      if (!normalized) throw new BadRequestError('That is not an upload code.');
      return [uploadCodeHash(deps.hasher, normalized)];
    }
    const entries = await deps.directory.list(deps.institution.id);
    const matches = 'reference' in target ? entries.filter((e) => e.reference === target.reference) : entries.filter((e) => e.codeHash.startsWith(target.codeId));
    return matches.filter((e) => !e.revoked).map((e) => e.codeHash);
  };
  return async (target) => {
    const result: RevocationResult = { revoked: 0, sessionsEnded: 0, objectsDeleted: 0, codeIds: [], endedSessionIds: [] };
    for (const codeHash of await hashesOf(target)) {
      const outcome = await deps.codes.revoke(codeHash, deps.clock.now());
      if (!outcome) continue;
      result.revoked++;
      result.codeIds.push(codeIdOf(codeHash));
      if (outcome.endedSessionId) {
        result.sessionsEnded++;
        result.endedSessionIds.push(outcome.endedSessionId);
        // The uploader's files never reach the hospital: they go now, not at the bucket's expiry.
        result.objectsDeleted += await deps.remover.deleteSessionObjects(outcome.endedSessionId);
      }
    }
    if (result.revoked === 0) throw new NotFoundError();
    return result;
  };
}
