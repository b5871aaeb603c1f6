/**
 * POST /sessions/{id}/complete: the uploader says they are done. Every declared file must have
 * arrived and passed inspection; then every rule is checked again from stored, verified state
 * (the sizes S3 reported and the UIDs the inspector read, never the client's claims). The session
 * becomes ACCEPTED (manifest written, event published) or REJECTED with reasons. The files' retention
 * tag follows after the answer (core/apply-retention.ts).
 *
 * COMPLETING is the lock: only one completion runs at a time, and a crashed one can be taken
 * over after LOCK_TIMEOUT_MS. A completed session answers every later call with its stored result.
 */
import { ConflictError, NotFoundError, RuleViolationError, BadRequestError } from './errors';
import { buildManifest } from './manifest';
import { awaitingScan } from './malware-scan';
import { message } from './messages';
import type { FileRecord, RejectionReason, SessionRecord, Violation } from './model';
import type { Clock, CompletionLock, ManifestWriter, SessionStore } from './ports';
import { evaluateSelection, type SelectionFile } from './rules';
import { announceRejection, publishOnce, rejectSession, SessionEventBusyError, uniqueReasons, type RejectionDeps } from './session-rejection';

/** Longer than any completion can run (the Lambda's timeout), so a held lock is a crashed one. */
export const LOCK_TIMEOUT_MS = 5 * 60_000;

export interface CompleteSessionRequest {
  studies: { studyInstanceUid: string; comment?: string }[];
  contact: { email?: string; phone?: string };
  consent?: { privacyPolicy?: boolean; dataSharing?: boolean };
}

export interface CompletionResult {
  sessionId: string;
  status: 'ACCEPTED' | 'REJECTED';
  completedAt?: string;
  manifestKey?: string;
  acceptedBytes?: number;
  reasons?: RejectionReason[];
}

export interface CompleteSessionDeps extends RejectionDeps {
  sessions: Pick<SessionStore, 'get' | 'listFiles'>;
  completion: CompletionLock;
  manifests: ManifestWriter;
  clock: Clock;
  lockTimeoutMs?: number;
  /** GuardDuty scans uploads: a verified file still waits for its clean scan result. */
  malwareScanRequired?: boolean;
}

export function makeCompleteSession(deps: CompleteSessionDeps) {
  return async function completeSession(sessionId: string, request: CompleteSessionRequest): Promise<CompletionResult> {
    const begun = await beginCompletion(deps, sessionId, request);
    if ('result' in begun) return begun.result;
    try {
      return await completeLocked(deps, begun.session, request, begun.lockedAt);
    } catch (error) {
      // Give the lock back (a no-op once the session left COMPLETING) so the uploader can retry now.
      await deps.completion.releaseCompletionLock(sessionId).catch(() => undefined);
      throw error;
    }
  };
}

/** What beginCompletion leads to: the answer already, or the lock to finish under. */
export type BegunCompletion = { result: CompletionResult } | { session: SessionRecord; lockedAt: string };

/**
 * Everything before the work: a decided session's stored answer, the consent, the expiry, a running completion
 * (409), the files' state, and the lock. `precheck` adds the request's own checks where the counters allow them.
 */
export async function beginCompletion(
  deps: CompleteSessionDeps,
  sessionId: string,
  request: CompleteSessionRequest,
  precheck?: (session: SessionRecord) => Promise<void>,
): Promise<BegunCompletion> {
  const { sessions, completion } = deps;
  const lockTimeoutMs = deps.lockTimeoutMs ?? LOCK_TIMEOUT_MS;
  const session = await sessions.get(sessionId);
  if (!session) throw new NotFoundError();
  const decided = await storedResult(deps, session);
  if (decided) return { result: decided };

  if (request.consent?.privacyPolicy !== true || request.consent?.dataSharing !== true) {
    throw new RuleViolationError([{ code: 'CONSENT_REQUIRED', message: message('CONSENT_REQUIRED') }]);
  }
  const now = deps.clock.now();
  // Past its expiry an OPEN session is expired, whether or not the sweep has run yet.
  if (session.status === 'OPEN' && Date.parse(session.expiresAt) <= now.getTime()) {
    throw new ConflictError('SESSION_NOT_OPEN', undefined, { status: 'EXPIRED' });
  }
  if (isLockFresh(session, now, lockTimeoutMs)) throw new ConflictError('COMPLETION_IN_PROGRESS');

  // When the verdicts' counters show every declared file verified, the one listing of the files waits for the
  // lock; otherwise list them now, to answer 409 with the files in flight or reject for a rejected one.
  // With malware scanning on, the counters cannot tell a verified file still awaiting its scan: list the files.
  if (!allVerified(session) || deps.malwareScanRequired) {
    const before = checkFiles(await sessions.listFiles(sessionId), deps.malwareScanRequired);
    if (before.rejected.length > 0) return { result: await rejectFor(deps, session, before.rejected.map(reasonOf), 'complete') };
    checkRequest(before.live, request);
  } else if (precheck) await precheck(session);

  const at = now.toISOString();
  if (!(await completion.lockForCompletion(sessionId, at, new Date(now.getTime() - lockTimeoutMs).toISOString()))) {
    const current = await sessions.get(sessionId);
    const result = current && (await storedResult(deps, current));
    if (result) return { result };
    throw new ConflictError('COMPLETION_IN_PROGRESS');
  }
  return { session, lockedAt: at };
}

/** A COMPLETING session whose lock was taken less than the timeout ago: its completion is still running. */
export function isLockFresh(session: SessionRecord, now: Date, lockTimeoutMs = LOCK_TIMEOUT_MS): boolean {
  return session.status === 'COMPLETING' && !!session.completingSince && Date.parse(session.completingSince) > now.getTime() - lockTimeoutMs;
}

/** The answer of a session that is already decided, finishing any step a crash left undone. */
export async function storedResult(deps: CompleteSessionDeps, session: SessionRecord): Promise<CompletionResult | null> {
  if (session.status === 'ACCEPTED' || session.status === 'REJECTED') {
    await besideBusyEvent(deps, session.sessionId, publishFinalEvent(deps, session, deps.clock.now().toISOString()), async () => 'done');
    return resultOf(session);
  }
  if (session.status === 'EXPIRED') throw new ConflictError('SESSION_NOT_OPEN', undefined, { status: session.status });
  return null;
}

/** What publishing a decided session's final event needs: the completion has it, and so has the sweep. */
export type FinalEventDeps = RejectionDeps & { sessions: Pick<SessionStore, 'listFiles'> };

/**
 * A decided session's final event unless it went out already: what a run that died before publishing left
 * undone (for a rejection, the deletion of its objects too). Throws SessionEventBusyError while another run holds it.
 */
export async function publishFinalEvent(deps: FinalEventDeps, session: SessionRecord, at: string): Promise<'published' | 'done'> {
  if (session.eventPublishedAt) return 'done';
  if (session.status === 'ACCEPTED') return publishAccepted(deps, session, at);
  if (session.status !== 'REJECTED') return 'done';
  await deps.remover.deleteSessionObjects(session.sessionId);
  return announceRejection(deps, session, at);
}

/**
 * The completion's answer does not wait for a final event another run holds: that run publishes it, or, if
 * it died, the sweep does once its claim is stale (core/sweep-expired.ts). Other failures are thrown.
 */
async function besideBusyEvent<T>(deps: CompleteSessionDeps, sessionId: string, work: Promise<T>, otherwise: () => Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (!(error instanceof SessionEventBusyError)) throw error;
    deps.log.info('final event held by another run; the sweep publishes it if that run died', { sessionId });
    return otherwise();
  }
}

/** `listed`: the session's files when the caller has them already, so they are not read again. */
async function publishAccepted(deps: FinalEventDeps, session: SessionRecord, at: string, listed?: FileRecord[]): Promise<'published' | 'done'> {
  const files = (listed ?? (await deps.sessions.listFiles(session.sessionId))).filter((f) => f.status === 'VERIFIED');
  const dicom = files.filter((f) => f.kind === 'dicom');
  return publishOnce(deps, session.sessionId, at, {
    type: 'UploadSessionAccepted',
    sessionId: session.sessionId,
    institutionId: session.institutionId,
    manifestKey: session.manifestKey!,
    studies: new Set(dicom.map((f) => f.header?.studyInstanceUid ?? f.studyInstanceUid)).size,
    dicomFiles: dicom.length,
    attachments: files.length - dicom.length,
    bytes: session.acceptedBytes ?? 0,
    completedAt: session.completedAt ?? at,
  });
}

/** Every declared file verified, by the counters on the session item (false when it has none). */
function allVerified(session: SessionRecord): boolean {
  const declared = session.dicomCount + session.attachmentCount;
  return session.verifiedCount !== undefined && declared > 0 && session.verifiedCount === declared && !session.rejectedCount;
}

/** Something to upload, and only studies of this upload named: else 422 / 400. */
function checkRequest(live: FileRecord[], request: CompleteSessionRequest): void {
  if (!live.some((f) => f.kind === 'dicom')) {
    throw new RuleViolationError([{ code: 'NOTHING_TO_UPLOAD', message: message('NOTHING_TO_UPLOAD') }]);
  }
  const studyUids = new Set(live.map((f) => (f.kind === 'dicom' ? (f.header?.studyInstanceUid ?? f.studyInstanceUid) : f.studyInstanceUid)));
  const unknown = request.studies.filter((s) => !studyUids.has(s.studyInstanceUid)).map((s) => s.studyInstanceUid);
  if (unknown.length > 0) throw new BadRequestError('A study in the request is not part of this upload.', { unknownStudies: unknown });
}

/** Files not removed; throws 409 while any is still in flight, returns the rejected ones. */
function checkFiles(files: FileRecord[], scanningOn = false): { live: FileRecord[]; rejected: FileRecord[] } {
  const live = files.filter((f) => f.status !== 'REMOVED');
  const rejected = live.filter((f) => f.status === 'REJECTED');
  const pending = live.filter((f) => (f.status !== 'VERIFIED' && f.status !== 'REJECTED') || awaitingScan(f, scanningOn));
  if (rejected.length === 0 && pending.length > 0) {
    throw new ConflictError('FILES_PENDING', undefined, {
      fileIds: pending.map((f) => f.fileId),
      files: pending.map((f) => ({ fileId: f.fileId, status: f.status })),
    });
  }
  return { live, rejected };
}

async function rejectFor(deps: CompleteSessionDeps, session: SessionRecord, reasons: RejectionReason[], key: string): Promise<CompletionResult> {
  const rejecting = rejectSession(deps, session.sessionId, reasons, key, deps.clock.now().toISOString());
  const after = await besideBusyEvent(deps, session.sessionId, rejecting, () => deps.sessions.get(session.sessionId));
  if (after?.status === 'REJECTED') return resultOf(after);
  throw new ConflictError('SESSION_NOT_OPEN', undefined, { status: after?.status });
}

/** The work under the lock: the files, every rule, the manifest, the outcome. */
export async function completeLocked(deps: CompleteSessionDeps, session: SessionRecord, request: CompleteSessionRequest, at: string): Promise<CompletionResult> {
  const { sessions, completion, manifests, metrics, log } = deps;
  const sessionId = session.sessionId;
  // Under the lock no upload can be declared, so this is the final state.
  const files = checkFiles(await sessions.listFiles(sessionId), deps.malwareScanRequired);
  if (files.rejected.length > 0) return rejectFor(deps, session, files.rejected.map(reasonOf), 'complete');
  checkRequest(files.live, request);

  const selection = evaluateSelection(files.live.map(selectionFileOf), session.limits);
  if (selection.violations.length > 0) return rejectFor(deps, session, selection.violations.flatMap(reasonsOf), 'complete');

  const comments: Record<string, string> = {};
  for (const s of request.studies) if (s.comment) comments[s.studyInstanceUid] = s.comment;
  const contact = compact(request.contact);
  const manifest = buildManifest({ session, files: files.live, autoLinks: selection.autoLinks, comments, contact, completedAt: at });
  const { key } = await manifests.write(sessionId, manifest);
  const acceptedBytes = manifest.totals.bytes;
  if (!(await completion.markAccepted(sessionId, { completedAt: at, manifestKey: key, acceptedBytes, contact, comments }))) {
    // The lock was lost (taken over after a timeout, or the session was rejected meanwhile).
    const current = await sessions.get(sessionId);
    if (current?.status === 'REJECTED') await deps.remover.deleteSessionObjects(sessionId);
    const result = current && (await storedResult(deps, current));
    if (result) return result;
    throw new ConflictError('COMPLETION_IN_PROGRESS');
  }
  metrics.count('SessionsAccepted');
  metrics.count('BytesAccepted', acceptedBytes);
  log.info('session accepted', { sessionId, studies: manifest.totals.studies, instances: manifest.totals.instances, attachments: manifest.totals.attachments, bytes: acceptedBytes });
  const accepted: SessionRecord = { ...session, status: 'ACCEPTED', completedAt: at, manifestKey: key, acceptedBytes, contact, retentionDueSince: at };
  await besideBusyEvent(deps, sessionId, publishAccepted(deps, accepted, at, files.live), async () => 'done');
  return resultOf(accepted);
}

function resultOf(session: SessionRecord): CompletionResult {
  if (session.status === 'ACCEPTED') {
    return { sessionId: session.sessionId, status: 'ACCEPTED', completedAt: session.completedAt, manifestKey: session.manifestKey, acceptedBytes: session.acceptedBytes };
  }
  return { sessionId: session.sessionId, status: 'REJECTED', reasons: uniqueReasons(session.rejection ?? []) };
}

function reasonOf(file: FileRecord): RejectionReason {
  return file.reason ?? { code: 'SESSION_REJECTED', message: message('SESSION_REJECTED'), fileId: file.fileId };
}

/** One reason per offending file, or one for the whole session when the rule is not about files. */
function reasonsOf(violation: Violation): RejectionReason[] {
  if (!violation.files?.length) return [{ code: violation.code, message: violation.message }];
  return violation.files.map((fileId) => ({ code: violation.code, message: violation.message, fileId }));
}

/** The rules' view of a stored file: verified sizes and header UIDs, detected attachment types. */
function selectionFileOf(file: FileRecord): SelectionFile {
  if (file.kind === 'dicom') {
    return { id: file.fileId, kind: 'dicom', size: file.size, studyInstanceUid: file.header?.studyInstanceUid ?? file.studyInstanceUid, sopInstanceUid: file.header?.sopInstanceUid ?? file.sopInstanceUid };
  }
  const detected = file.detectedType;
  return {
    id: file.fileId,
    kind: 'attachment',
    size: file.size,
    studyInstanceUid: file.studyInstanceUid || undefined,
    attachmentType: detected === 'pdf' || detected === 'jpeg' || detected === 'png' ? detected : 'other',
  };
}

function compact<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value ?? {}).filter(([, v]) => v !== undefined && v !== '')) as T;
}
