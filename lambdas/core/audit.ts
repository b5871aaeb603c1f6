/**
 * The audit trail: who did what to a code and its session, for the hospital's auditor. A record
 * names the code (its id and the hospital's reference), never the patient: no names, no patient
 * ids, no file names, and the client address only as a keyed hash. Records are appended once and
 * never changed (docs/operations.md maps them onto DICOM PS3.15 / IHE ATNA audit messages).
 *
 * Writing a record never fails the request it describes: a failed write is logged by event name and
 * counted (AuditWriteFailures, alarmed in lib/monitoring.ts), so a gap in the trail is seen.
 */
import { codeIdOf } from './code-admin';
import { normalizeUploadCode, uploadCodeHash } from './codes';
import type { MessageCode } from './messages';
import { parseObjectKey, type RejectionReason } from './model';
import type { AuditLog, ClientAddressHasher, Clock, Log, Metrics, SecretHasher, SessionStore } from './ports';

export type AuditEventType =
  | 'CODE_ISSUED'
  | 'CODE_REDEEMED'
  | 'SESSION_RESUMED'
  | 'CODE_REDEMPTION_FAILED'
  | 'FILES_DECLARED'
  | 'FILES_INSPECTED'
  | 'FILE_REMOVED'
  | 'SESSION_ACCEPTED'
  | 'SESSION_REJECTED'
  | 'STUDY_DELIVERED'
  | 'STUDY_DELIVERY_SUBMITTED'
  | 'STUDY_DELIVERY_FAILED'
  | 'CODE_REVOKED';

/** Who acted: the uploader holding the code, the hospital's staff, or the portal's own stages. */
export type AuditActor = 'uploader' | 'unknown client' | 'hospital admin' | 'inspector' | 'delivery';

export interface AuditEntry {
  at: string;
  event: AuditEventType;
  actor: AuditActor;
  outcome: 'success' | 'failure';
  /** The code the record is about (absent only for failed redemptions: the code tried is never kept). */
  codeId?: string;
  reference?: string;
  sessionId?: string;
  /** Keyed hash of the client address (API requests only). */
  clientAddressHash?: string;
  files?: number;
  bytes?: number;
  verified?: number;
  rejected?: number;
  reasons?: MessageCode[];
  /** Delivery records only: the study as the hospital's PACS holds it (see docs/operations.md). */
  studyInstanceUid?: string;
  instances?: number;
  target?: string;
}

export type RedemptionFailure = 'INVALID_CODE' | 'RATE_LIMITED';

/** Files the inspector judged in one batch, per session; only verdicts recorded by this batch count. */
export type InspectionTally = Map<string, { verified: number; rejected: number }>;

/** Adds one inspected object's outcome to its session's tally (a verdict recorded by this call only). */
export function tallyInspection(tally: InspectionTally, key: string, outcome: string): void {
  const ids = parseObjectKey(key);
  if (!ids || (outcome !== 'verified' && outcome !== 'rejected')) return;
  const counts = tally.get(ids.sessionId) ?? { verified: 0, rejected: 0 };
  counts[outcome]++;
  tally.set(ids.sessionId, counts);
}

export interface AuditTrail {
  codeIssued(code: string, reference?: string): Promise<void>;
  redeemed(sessionId: string, created: boolean, clientAddress: string): Promise<void>;
  redemptionFailed(reason: RedemptionFailure, clientAddress: string): Promise<void>;
  filesDeclared(sessionId: string, files: readonly { size: number }[], clientAddress: string): Promise<void>;
  filesInspected(tally: InspectionTally): Promise<void>;
  completed(sessionId: string, result: { status: 'ACCEPTED' | 'REJECTED'; reasons?: RejectionReason[] }, clientAddress?: string): Promise<void>;
  /** Each study's delivery state (one study's, when named) as a record per attempt's outcome. */
  deliveries(sessionId: string, studyInstanceUid?: string): Promise<void>;
  revoked(result: { codeIds: string[] }): Promise<void>;
  fileRemoved(sessionId: string, clientAddress: string): Promise<void>;
}

export interface AuditTrailDeps {
  log: AuditLog;
  sessions: Pick<SessionStore, 'get' | 'listStudies'>;
  addresses: ClientAddressHasher;
  hasher: SecretHasher;
  clock: Clock;
  logger: Log;
  metrics: Pick<Metrics, 'count'>;
}

type Subject = Pick<AuditEntry, 'codeId' | 'reference' | 'sessionId'>;
type SessionEntry = Omit<AuditEntry, 'at' | 'event' | keyof Subject>;

const SUBJECT_CACHE_SIZE = 1000;

/** What every event's writer shares: the clock, the session's code, and writes that never throw. */
function auditWriter(deps: AuditTrailDeps) {
  // A session's code never changes: remembered, so a busy session costs one read per container.
  const subjects = new Map<string, Subject>();
  const subjectOf = async (sessionId: string): Promise<Subject | undefined> => {
    const known = subjects.get(sessionId);
    if (known) return known;
    const session = await deps.sessions.get(sessionId);
    if (!session) return undefined;
    const subject: Subject = { codeId: codeIdOf(session.codeHash), sessionId, ...(session.codeReference !== undefined ? { reference: session.codeReference } : {}) };
    if (subjects.size >= SUBJECT_CACHE_SIZE) subjects.clear();
    subjects.set(sessionId, subject);
    return subject;
  };
  const now = () => deps.clock.now().toISOString();
  const write = async (event: AuditEventType, run: () => Promise<unknown>): Promise<void> => {
    try {
      await run();
    } catch (error) {
      deps.metrics.count('AuditWriteFailures');
      deps.logger.error('audit record not written', { event, errorName: (error as Error)?.name });
    }
  };
  return {
    now,
    write,
    address: async (clientAddress: string): Promise<Pick<AuditEntry, 'clientAddressHash'>> => ({ clientAddressHash: await deps.addresses.hash(clientAddress) }),
    forSession: (sessionId: string, event: AuditEventType, entry: () => Promise<SessionEntry> | SessionEntry, dedupeKey?: string) =>
      write(event, async () => {
        const subject = await subjectOf(sessionId);
        if (subject) await deps.log.append({ at: now(), event, ...subject, ...(await entry()) }, dedupeKey);
      }),
  };
}

const DELIVERY_EVENTS = { DELIVERED: 'STUDY_DELIVERED', SUBMITTED: 'STUDY_DELIVERY_SUBMITTED', FAILED: 'STUDY_DELIVERY_FAILED' } as const;

function recordDeliveries(deps: AuditTrailDeps, writer: ReturnType<typeof auditWriter>) {
  return (sessionId: string, studyInstanceUid?: string) =>
    writer.write('STUDY_DELIVERED', async () => {
      for (const study of await deps.sessions.listStudies(sessionId)) {
        if (studyInstanceUid !== undefined && study.studyInstanceUid !== studyInstanceUid) continue;
        const delivery = study.delivery;
        if (!delivery || delivery.state === 'PENDING') continue;
        const event = DELIVERY_EVENTS[delivery.state];
        const entry: SessionEntry = {
          actor: 'delivery',
          outcome: delivery.state === 'FAILED' ? 'failure' : 'success',
          studyInstanceUid: study.studyInstanceUid,
          target: delivery.target,
          ...(delivery.instances !== undefined ? { instances: delivery.instances } : {}),
        };
        // One record per attempt's outcome, however often the delivery message is redelivered.
        await writer.forSession(sessionId, event, () => entry, `${sessionId}#${event}#${deps.hasher.hash(study.studyInstanceUid).slice(0, 16)}#${delivery.attempts}`);
      }
    });
}

export function makeAuditTrail(deps: AuditTrailDeps): AuditTrail {
  const writer = auditWriter(deps);
  const { now, write, address, forSession } = writer;
  return {
    codeIssued: (code, reference) =>
      write('CODE_ISSUED', async () => {
        const codeId = codeIdOf(uploadCodeHash(deps.hasher, normalizeUploadCode(code) ?? code));
        const at = now();
        if (reference !== undefined) await deps.log.indexReference(reference, codeId, at);
        await deps.log.append({ at, event: 'CODE_ISSUED', actor: 'hospital admin', outcome: 'success', codeId, ...(reference !== undefined ? { reference } : {}) });
      }),
    redeemed: (sessionId, created, clientAddress) =>
      forSession(sessionId, created ? 'CODE_REDEEMED' : 'SESSION_RESUMED', async () => ({ actor: 'uploader', outcome: 'success', ...(await address(clientAddress)) })),
    redemptionFailed: (reason, clientAddress) =>
      write('CODE_REDEMPTION_FAILED', async () =>
        deps.log.append({ at: now(), event: 'CODE_REDEMPTION_FAILED', actor: 'unknown client', outcome: 'failure', reasons: [reason], ...(await address(clientAddress)) }),
      ),
    filesDeclared: (sessionId, files, clientAddress) =>
      forSession(sessionId, 'FILES_DECLARED', async () => ({
        actor: 'uploader',
        outcome: 'success',
        files: files.length,
        bytes: files.reduce((sum, f) => sum + f.size, 0),
        ...(await address(clientAddress)),
      })),
    filesInspected: async (tally) => {
      for (const [sessionId, { verified, rejected }] of tally) {
        if (verified + rejected === 0) continue;
        await forSession(sessionId, 'FILES_INSPECTED', () => ({ actor: 'inspector', outcome: rejected > 0 ? 'failure' : 'success', files: verified + rejected, verified, rejected }));
      }
    },
    completed: (sessionId, result, clientAddress) =>
      forSession(
        sessionId,
        result.status === 'ACCEPTED' ? 'SESSION_ACCEPTED' : 'SESSION_REJECTED',
        async () => ({
          actor: 'uploader',
          outcome: result.status === 'ACCEPTED' ? 'success' : 'failure',
          ...(result.reasons?.length ? { reasons: [...new Set(result.reasons.map((r) => r.code))] } : {}),
          ...(clientAddress !== undefined ? await address(clientAddress) : {}),
        }),
        // The session's outcome is final: repeating the request adds no second record.
        `${sessionId}#COMPLETED`,
      ),
    deliveries: recordDeliveries(deps, writer),
    revoked: async ({ codeIds }) => {
      for (const codeId of codeIds) {
        await write('CODE_REVOKED', () => deps.log.append({ at: now(), event: 'CODE_REVOKED', actor: 'hospital admin', outcome: 'success', codeId }));
      }
    },
    fileRemoved: (sessionId, clientAddress) =>
      forSession(sessionId, 'FILE_REMOVED', async () => ({ actor: 'uploader', outcome: 'success', files: 1, ...(await address(clientAddress)) })),
  };
}

export type AuditQuery = { reference: string } | { codeId: string } | { securityDay: string };

export type ReadAuditTrail = (query: AuditQuery) => Promise<{ records: AuditEntry[] }>;

/** The records of a code (by id or reference: every code issued with it) or of a day's security events, oldest first. */
export function makeReadAuditTrail(deps: { log: AuditLog }): ReadAuditTrail {
  return async (query) => {
    let records: AuditEntry[];
    if ('securityDay' in query) records = await deps.log.readSecurityDay(query.securityDay);
    else {
      const codeIds = 'codeId' in query ? [query.codeId] : await deps.log.codeIdsFor(query.reference);
      records = (await Promise.all(codeIds.map((id) => deps.log.readCode(id)))).flat();
    }
    return { records: records.sort((a, b) => a.at.localeCompare(b.at)) };
  };
}
