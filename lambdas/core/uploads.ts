/**
 * Upload requests and file removal. The rules are checked with evaluateSelection over everything
 * already declared plus the batch (the nice message), read as the session's study totals so the
 * cost does not grow with the files declared; the ReservationStore's atomic write is the guarantee
 * that concurrent requests never overshoot a limit, and (a DICOM file's id being derived from its
 * SOPInstanceUID) that no image is declared twice. Then each file gets a presigned PUT.
 */
import { ConflictError, NotFoundError, RuleViolationError } from './errors';
import type { InstitutionConfig } from './institution';
import { message } from './messages';
import { objectKeyFor, type AttachmentType, type FileKind, type FileRecord, type SessionState, type SessionTotals } from './model';
import { evaluateSelection, type SelectionFile } from './rules';
import { MAX_RESERVATION_ATTEMPTS, ttlEpochSeconds } from './limits';
import { pause } from './retry';
import { grantTransfer, type UploadGrant } from './file-transfers';
import type { MultipartRecorder, MultipartUploads } from './ports/multipart-uploads';
import { authenticate, base64url, requireOpen } from './sessions';
import type { Clock, Ids, ObjectRemover, ReservationStore, SecretHasher, SessionStore, StudyIncrement, UploadSigner } from './ports';

/**
 * A DICOM file's id: 128 bits of SHA-256 over its SOPInstanceUID, keyed by the session's code hash (which only the
 * table holds, so neither the id nor the object key reveals the header). Two declarations of one image in a session
 * get the same file item, whose put condition refuses the second: the guarantee costs no item of its own.
 */
export function dicomFileId(hasher: SecretHasher, codeHash: string, sopInstanceUid: string): string {
  const hex = hasher.hash(`dicom-file:${codeHash}:${sopInstanceUid}`).slice(0, 32);
  return base64url(Uint8Array.from(hex.match(/../g)!, (pair) => parseInt(pair, 16)));
}


export interface UploadRequestFile {
  clientId: string;
  name: string;
  size: number;
  kind: FileKind;
  /** DICOM: its study. Attachment: the study it is linked to (optional with exactly one study). */
  studyInstanceUid?: string;
  sopInstanceUid?: string;
  contentType?: string;
  /** Base64 SHA-256 of the file's bytes: S3 refuses any others. */
  sha256: string;
}

/**
 * One declared file's grant: a presigned PUT whose `headers` the client must send exactly (signed;
 * the body must be exactly the declared size and SHA-256), or a multipart upload.
 */
export type PresignedUpload = UploadGrant & { clientId: string };

export type RequestUploads = (input: { sessionId: string; token: string; files: UploadRequestFile[] }) => Promise<{ uploads: PresignedUpload[] }>;

/** What an attachment is, from its declared content type, else its name's extension. */
export function attachmentTypeOf(file: { name: string; contentType?: string }): AttachmentType | 'other' {
  const type = file.contentType?.toLowerCase().split(';')[0]!.trim();
  if (type === 'application/pdf') return 'pdf';
  if (type === 'image/jpeg' || type === 'image/jpg' || type === 'image/pjpeg') return 'jpeg';
  if (type === 'image/png') return 'png';
  if (type && type !== 'application/octet-stream') return 'other';
  const extension = /\.([A-Za-z0-9]{1,5})$/.exec(file.name)?.[1]?.toLowerCase();
  if (extension === 'pdf') return 'pdf';
  if (extension === 'jpg' || extension === 'jpeg') return 'jpeg';
  if (extension === 'png') return 'png';
  return 'other';
}

interface Plan {
  files: FileRecord[];
  studies: StudyIncrement[];
  bytes: number;
  dicomFiles: number;
  attachments: number;
}

/**
 * True when the study totals alone stand for the declared files exactly: every study that still
 * has attachments also still has DICOM files. (Otherwise an attachment is orphaned, its study's
 * DICOM files all removed, and the rules name that attachment's file id: the files are needed.)
 */
export function totalsSuffice(totals: SessionTotals): boolean {
  return totals.studies.every((s) => s.dicomCount > 0 || s.attachmentCount === 0);
}

/**
 * What is already declared, as evaluateSelection's input. From file items: every file not removed.
 * From study totals (the study items hold the bytes and counts of the files not removed): per
 * study, one DICOM stand-in carrying all its bytes and one zero-byte attachment stand-in per
 * attachment linked to it. The rules need no more: session and study bytes, the studies with DICOM
 * files (auto-linking, ATTACHMENT_WITHOUT_DICOM) and attachments per study; stored files already
 * passed the per-file rules, and SOP uniqueness across requests is the SOP guard item's job.
 */
function existingSelection(state: SessionState | SessionTotals): SelectionFile[] {
  if ('files' in state) {
    return state.files
      .filter((f) => f.status !== 'REMOVED')
      .map((f) => ({
        id: f.fileId,
        kind: f.kind,
        size: f.size,
        studyInstanceUid: f.studyInstanceUid,
        sopInstanceUid: f.sopInstanceUid,
        attachmentType: f.attachmentType,
      }));
  }
  if (!totalsSuffice(state)) throw new Error('study totals with orphaned attachments need the file items');
  return state.studies.flatMap((s): SelectionFile[] =>
    s.dicomCount > 0
      ? [
          { id: `study:${s.studyInstanceUid}`, kind: 'dicom', size: s.bytes, studyInstanceUid: s.studyInstanceUid },
          ...Array.from({ length: s.attachmentCount }, (_, i): SelectionFile => ({
            id: `study:${s.studyInstanceUid}:attachment:${i}`,
            kind: 'attachment',
            size: 0,
            studyInstanceUid: s.studyInstanceUid,
          })),
        ]
      : [],
  );
}

/**
 * Checks the batch against the stored state and plans the reservation, or throws the rule's 422.
 * Attachments get the study they link to (explicit, or the only study there is).
 */
export function planReservation(
  state: SessionState | SessionTotals,
  batch: UploadRequestFile[],
  fileIdOf: (file: UploadRequestFile) => string,
  now: Date,
): Plan {
  const existing = existingSelection(state);
  const dicomStudies = new Set([...existing, ...batch].filter((f) => f.kind === 'dicom').map((f) => f.studyInstanceUid!));
  const unknownStudy = batch.filter((f) => f.kind === 'attachment' && f.studyInstanceUid !== undefined && !dicomStudies.has(f.studyInstanceUid));
  // With no DICOM file at all, the manual's rule (ATTACHMENT_WITHOUT_DICOM, from evaluateSelection) is the answer.
  if (unknownStudy.length > 0 && dicomStudies.size > 0) {
    throw new RuleViolationError([
      { code: 'ATTACHMENT_STUDY_UNKNOWN', message: message('ATTACHMENT_STUDY_UNKNOWN'), files: unknownStudy.map((f) => f.clientId) },
    ]);
  }

  const attachmentTypes = new Map(batch.filter((f) => f.kind === 'attachment').map((f) => [f.clientId, attachmentTypeOf(f)]));
  const selection: SelectionFile[] = [
    ...existing,
    ...batch.map((f) => ({
      id: f.clientId,
      kind: f.kind,
      size: f.size,
      studyInstanceUid: f.studyInstanceUid,
      sopInstanceUid: f.sopInstanceUid,
      attachmentType: attachmentTypes.get(f.clientId),
      inBatch: true,
    })),
  ];
  const result = evaluateSelection(selection, state.session.limits);
  if (result.violations.length > 0) throw new RuleViolationError(result.violations);

  const createdAt = now.toISOString();
  const studies = new Map<string, StudyIncrement>();
  const files = batch.map((f): FileRecord => {
    const studyInstanceUid = f.studyInstanceUid ?? result.autoLinks[f.clientId]!;
    const study = studies.get(studyInstanceUid) ?? { studyInstanceUid, bytes: 0, dicomFiles: 0, attachments: 0 };
    study.bytes += f.size;
    if (f.kind === 'dicom') study.dicomFiles++;
    else study.attachments++;
    studies.set(studyInstanceUid, study);
    const fileId = fileIdOf(f);
    const type = attachmentTypes.get(f.clientId);
    return {
      sessionId: state.session.sessionId,
      fileId,
      clientId: f.clientId,
      name: f.name,
      kind: f.kind,
      size: f.size,
      studyInstanceUid,
      ...(f.kind === 'dicom' ? { sopInstanceUid: f.sopInstanceUid } : {}),
      ...(f.contentType ? { contentType: f.contentType } : {}),
      ...(type && type !== 'other' ? { attachmentType: type } : {}),
      sha256: f.sha256,
      objectKey: objectKeyFor(state.session.sessionId, fileId),
      status: 'RESERVED',
      createdAt,
    };
  });
  return {
    files,
    studies: [...studies.values()],
    bytes: files.reduce((sum, f) => sum + f.size, 0),
    dicomFiles: files.filter((f) => f.kind === 'dicom').length,
    attachments: files.filter((f) => f.kind === 'attachment').length,
  };
}

/**
 * Declares a batch of files and returns a presigned PUT per file. A broken rule is a 422 that
 * reserves nothing. When a concurrent request wins the race, the state is re-read: the rule it now
 * breaks is the answer, or, when there is still room, the request is retried.
 */
export function makeRequestUploads(deps: {
  sessions: SessionStore;
  reservations: ReservationStore;
  signer: UploadSigner;
  multipart: MultipartUploads;
  recorder: MultipartRecorder;
  hasher: SecretHasher;
  ids: Ids;
  clock: Clock;
  institution: InstitutionConfig;
}): RequestUploads {
  const { sessions, reservations, hasher, ids, clock, institution } = deps;
  const transfers = { ...deps, expiresInSeconds: institution.session.uploadUrlExpirySeconds };
  return async ({ sessionId, token, files }) => {
    // Study totals by default; the file items only when the totals cannot stand for them, or to
    // name the duplicates after a DICOM file's item was refused (the rule then answers from the files).
    let needFiles = false;
    for (let attempt = 1; ; attempt++) {
      const now = clock.now();
      let state: SessionState | SessionTotals | undefined = needFiles ? await sessions.loadState(sessionId) : await sessions.loadTotals(sessionId);
      const session = authenticate(state?.session, token, hasher);
      requireOpen(session, now);
      if (!('files' in state!) && !totalsSuffice(state!)) state = (await sessions.loadState(sessionId))!;
      const fileIdOf = (f: UploadRequestFile) =>
        f.kind === 'dicom' && f.sopInstanceUid ? dicomFileId(hasher, session.codeHash, f.sopInstanceUid) : ids.newId();
      const plan = planReservation(state!, files, fileIdOf, now);
      const outcome = await reservations.reserve({
        sessionId,
        ...plan,
        limits: session.limits,
        now,
        ttlEpochSeconds: ttlEpochSeconds(session.expiresAt, institution.retention.pendingDays),
      });
      if (outcome.ok) {
        const uploads = await Promise.all(plan.files.map(async (f): Promise<PresignedUpload> => ({ clientId: f.clientId, ...(await grantTransfer(transfers, f, session.limits)) })));
        return { uploads };
      }
      if (outcome.refusal === 'duplicate-sop') needFiles = true;
      if (attempt >= MAX_RESERVATION_ATTEMPTS) throw new ConflictError('SESSION_BUSY');
      // Jittered backoff so the losers of one race do not collide again in lockstep.
      await pause(Math.random() * 10 * Math.min(attempt, 5));
    }
  };
}

export type RemoveFile = (input: { sessionId: string; token: string; fileId: string }) => Promise<void>;

/**
 * Removes a declared file: its reservation is released exactly once (a second DELETE is a no-op)
 * and its object, if it arrived, is deleted.
 */
export function makeRemoveFile(deps: {
  sessions: SessionStore;
  reservations: ReservationStore;
  remover: ObjectRemover;
  multipart: Pick<MultipartUploads, 'abort'>;
  hasher: SecretHasher;
  clock: Clock;
}): RemoveFile {
  const { sessions, reservations, remover, multipart, hasher, clock } = deps;
  return async ({ sessionId, token, fileId }) => {
    for (let attempt = 1; ; attempt++) {
      const now = clock.now();
      const session = authenticate(await sessions.get(sessionId), token, hasher);
      requireOpen(session, now);
      const file = await sessions.getFile(sessionId, fileId);
      if (!file) throw new NotFoundError();
      if (file.status !== 'REMOVED') {
        if ((await reservations.release(file, now)) === 'stale') {
          if (attempt >= MAX_RESERVATION_ATTEMPTS) throw new ConflictError('SESSION_BUSY');
          await pause(Math.random() * 10 * Math.min(attempt, 5));
          continue;
        }
      }
      // Also on a repeated DELETE: an object that arrived after the first one is removed too.
      await remover.deleteObject(file.objectKey);
      // Its parts are freed now rather than when the bucket lifecycle aborts the upload.
      if (file.multipart) await multipart.abort({ key: file.objectKey, uploadId: file.multipart.uploadId });
      return;
    }
  };
}
