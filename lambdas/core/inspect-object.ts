/**
 * Inspects one uploaded object (DESIGN.md "Inspection"): finds the declared file by its key,
 * checks the real size, reads only the DICOM header (ranged reads) or the attachment's magic
 * bytes, records the verdict once, and rejects the whole session when a rule is broken.
 *
 * S3 delivers events at least once and out of order, so every step is idempotent: a verdict is
 * recorded only for a file still waiting for one, and a repeated event changes nothing.
 */
import { InvalidDicomError, part10Refusal, readHeaderFrom, sniffKind } from './dicom';
import { message, type MessageCode } from './messages';
import { ATTACHMENT_SNIFF_BYTES, FIRST_HEADER_CHUNK, MAX_HEADER_BYTES } from './limits';
import { isManifestKey, parseObjectKey, type AttachmentType, type FileRecord, type HeaderSummary, type RejectionReason, type Verdict } from './model';
import type { Clock, FileVerdicts, Log, ObjectReader, SessionStore } from './ports';
import { rejectSession, type RejectionDeps } from './session-rejection';


export interface InspectObjectDeps extends RejectionDeps {
  sessions: Pick<SessionStore, 'get' | 'getFile'>;
  verdicts: FileVerdicts;
  reader: ObjectReader;
  clock: Clock;
}

export type InspectionOutcome =
  | 'ignored' // the session's own manifest
  | 'unknown-deleted' // nobody declared it: deleted, counted as a security event
  | 'late-deleted' // the session is no longer open (rejected, expired): deleted
  | 'already-inspected' // a repeated or stale event: nothing changed
  | 'gone' // the object no longer exists (deleted after a rejection or removal)
  | 'verified'
  | 'rejected';

export interface ObjectCreated {
  /** The object key, already URL-decoded. */
  key: string;
  /** The ETag the event reports, if any. */
  etag?: string;
}


/** Makes the use case that inspects one created object. */
export function makeInspectObject(deps: InspectObjectDeps) {
  const { sessions, remover } = deps;
  return async function inspectObject(event: ObjectCreated): Promise<InspectionOutcome> {
    if (isManifestKey(event.key)) return 'ignored';
    const ids = parseObjectKey(event.key);
    if (!ids) return deleteUnknown(deps, event.key, 'key');

    const [file, session] = await Promise.all([sessions.getFile(ids.sessionId, ids.fileId), sessions.get(ids.sessionId)]);
    if (session?.status === 'OPEN' && !file) {
      // A well-formed key in an open session that no upload request issued: a client writing where it
      // was never allowed to. The session cannot be trusted any more.
      const outcome = await deleteUnknown(deps, event.key, 'file');
      const reason: RejectionReason = { code: 'UNDECLARED_OBJECT', message: message('UNDECLARED_OBJECT') };
      await rejectSession(deps, ids.sessionId, [reason], `undeclared#${ids.fileId}`, deps.clock.now().toISOString());
      return outcome;
    }
    if (!session || !file) return deleteUnknown(deps, event.key, file ? 'session' : 'file');
    if (file.status === 'REMOVED') return deleteUnknown(deps, event.key, 'removed');

    const expired = session.status === 'EXPIRED' || (session.status === 'OPEN' && Date.parse(session.expiresAt) <= deps.clock.now().getTime());
    if (session.status === 'REJECTED' || expired) {
      // A late PUT after the clean-up; a REJECTED file may also still owe its session's rejection.
      if (file.status === 'REJECTED' && file.reason) await rejectFor(deps, file, file.reason);
      await remover.deleteObject(event.key);
      return 'late-deleted';
    }
    if (file.status === 'VERIFIED' || file.status === 'REJECTED') return revisit(deps, file, event);
    return inspectWaiting(deps, file, session.limits.allowedAttachmentTypes, event);
  };
}

async function deleteUnknown(deps: InspectObjectDeps, key: string, why: string): Promise<InspectionOutcome> {
  await deps.remover.deleteObject(key);
  deps.metrics.count('UnknownObjects');
  deps.log.warn('undeclared object deleted', { key: loggableKey(key), why });
  return 'unknown-deleted';
}

/** A file still waiting for its verdict: judge its bytes, record the verdict once, reject the session on a bad one. */
async function inspectWaiting(
  deps: InspectObjectDeps,
  file: FileRecord,
  allowedAttachmentTypes: readonly AttachmentType[],
  event: ObjectCreated,
): Promise<InspectionOutcome> {
  const { reader, log, metrics } = deps;
  // One ranged GET gives the real size, the ETag and the bytes every verdict starts from.
  const start = await reader.readStart(event.key, file.kind === 'attachment' ? ATTACHMENT_SNIFF_BYTES : FIRST_HEADER_CHUNK);
  if (!start) return 'gone';
  const verdict = await judge(file, start.size, reader, event.key, { at: deps.clock.now().toISOString(), allowedAttachmentTypes, log, start: start.bytes });
  verdict.etag = start.etag;
  const recorded = await deps.verdicts.recordVerdict(file, verdict);
  if (recorded === 'already') {
    const current = await deps.sessions.getFile(file.sessionId, file.fileId);
    return current ? revisit(deps, current, event) : 'already-inspected';
  }
  metrics.count('FilesInspected');
  metrics.count('InspectionBytesRead', verdict.inspectionBytesRead);
  log.info('file inspected', { sessionId: file.sessionId, fileId: file.fileId, kind: file.kind, verdict: verdict.status, reasonCode: verdict.reason?.code, bytesRead: verdict.inspectionBytesRead });
  if (verdict.status === 'VERIFIED') return 'verified';
  await rejectFor(deps, file, verdict.reason!);
  return 'rejected';
}

/** An event for a file that already has its verdict: a duplicate, a stale event, or a replaced object. */
async function revisit(deps: InspectObjectDeps, file: FileRecord, event: ObjectCreated): Promise<InspectionOutcome> {
  if (file.status === 'REJECTED' && file.reason) {
    // The verdict was recorded but the session rejection may not have been (a crash in between).
    await rejectFor(deps, file, file.reason);
    return 'already-inspected';
  }
  if (file.status !== 'VERIFIED' || !event.etag || !file.etag || sameEtag(event.etag, file.etag)) return 'already-inspected';
  // The event names other content than the one verified: stale (an earlier PUT) or a replacement.
  const head = await deps.reader.head(event.key);
  if (!head || !head.etag || sameEtag(head.etag, file.etag)) return 'already-inspected';
  const reason: RejectionReason = { code: 'OBJECT_REPLACED', message: message('OBJECT_REPLACED'), fileId: file.fileId };
  const after = await rejectFor(deps, file, reason, `${file.fileId}#replaced`);
  if (after?.status === 'REJECTED') return 'rejected';
  // Too late to reject (accepted or expired): the hospital has to know this object changed.
  deps.log.error('verified object replaced after the session ended', { sessionId: file.sessionId, fileId: file.fileId, status: after?.status });
  return 'already-inspected';
}

function rejectFor(deps: InspectObjectDeps, file: FileRecord, reason: RejectionReason, key = file.fileId) {
  return rejectSession(deps, file.sessionId, [reason], key, deps.clock.now().toISOString());
}

/**
 * The key as it may appear in logs: ours carry only ids; a foreign key is whatever someone chose
 * (a file name, a patient's name), so only its length is logged.
 */
export function loggableKey(key: string): string {
  return parseObjectKey(key) || isManifestKey(key) ? key : `<foreign key, ${key.length} chars>`;
}

function sameEtag(a: string, b: string): boolean {
  return a.replace(/"/g, '') === b.replace(/"/g, '');
}

/**
 * The verdict on one object's bytes. Bad bytes become a rejection reason; only I/O errors throw.
 * `opts.start`: the object's first bytes, already read by the caller; they count as read and are
 * not fetched again.
 */
export async function judge(
  file: FileRecord,
  realSize: number,
  reader: ObjectReader,
  key: string,
  opts: { at: string; allowedAttachmentTypes: readonly AttachmentType[]; log?: Log; start?: Uint8Array },
): Promise<Verdict> {
  const at = opts.at;
  const reject = (code: MessageCode, bytesRead: number, extra: Partial<Verdict> = {}): Verdict => ({
    status: 'REJECTED',
    size: realSize,
    reason: { code, message: message(code), fileId: file.fileId },
    inspectionBytesRead: bytesRead,
    inspectedAt: at,
    ...extra,
  });
  const start = opts.start ?? new Uint8Array(0);
  // Checked before any parsing: only the bytes the caller already holds were read.
  if (realSize !== file.size) return reject('SIZE_MISMATCH', start.length);

  const counting = new CountingRead(reader, key, realSize, start);
  if (file.kind === 'attachment') {
    const prefix = await counting.read(0, Math.min(realSize, ATTACHMENT_SNIFF_BYTES));
    const kind = sniffKind(prefix);
    if (!(opts.allowedAttachmentTypes as readonly string[]).includes(kind)) return reject('ATTACHMENT_TYPE_MISMATCH', counting.bytesRead, { detectedType: kind });
    // The object was stored with the Content-Type of the declared type: the bytes must be that type.
    if (file.attachmentType && kind !== file.attachmentType) return reject('ATTACHMENT_TYPE_MISMATCH', counting.bytesRead, { detectedType: kind });
    return { status: 'VERIFIED', size: realSize, detectedType: kind, inspectionBytesRead: counting.bytesRead, inspectedAt: at };
  }

  let header;
  try {
    header = await readHeaderFrom((start: number, end: number) => counting.read(start, end), realSize, FIRST_HEADER_CHUNK);
  } catch (error) {
    if (error instanceof ObjectReadError) throw error.cause;
    // InvalidDicomError, a header past MAX_HEADER_BYTES, or anything else the bytes provoke: not an image we accept.
    if (!(error instanceof InvalidDicomError) && !(error instanceof HeaderTooLargeError)) {
      opts.log?.warn('header reader failed on bad bytes', { fileId: file.fileId, error: (error as Error)?.name });
    }
    return reject('NOT_DICOM', counting.bytesRead);
  }
  const bytesRead = counting.bytesRead;
  const refusal = part10Refusal(counting.head, header);
  if (refusal) return reject(refusal, bytesRead);
  if (header.isDicomDir) return reject('DICOMDIR_NOT_ALLOWED', bytesRead);
  // A whole header but cut-off pixels: pydicom reads it, but the hospital would get a broken image.
  if (header.pixelDataTruncated) return reject('DICOM_TRUNCATED', bytesRead);
  if (!header.isDicom) return reject('NOT_DICOM', bytesRead);
  const summary = headerSummary(header.fields as Record<string, unknown>);
  if (!summary.sopInstanceUid || !summary.studyInstanceUid) return reject('NOT_DICOM', bytesRead, { header: summary });
  if (summary.studyInstanceUid !== file.studyInstanceUid) return reject('STUDY_MISMATCH', bytesRead, { header: summary });
  if (file.sopInstanceUid && summary.sopInstanceUid !== file.sopInstanceUid) return reject('SOP_MISMATCH', bytesRead, { header: summary });
  return { status: 'VERIFIED', size: realSize, header: summary, inspectionBytesRead: bytesRead, inspectedAt: at };
}

const SUMMARY_FIELDS = [
  'sopClassUid',
  'sopInstanceUid',
  'studyInstanceUid',
  'seriesInstanceUid',
  'modality',
  'patientId',
  'patientName',
  'patientBirthDate',
  'studyDate',
  'accessionNumber',
  'studyDescription',
  'transferSyntaxUid',
  'numberOfFrames',
  'rows',
  'columns',
] as const satisfies readonly (keyof HeaderSummary)[];

/** The header fields kept for the manifest; absent ones are left out. */
export function headerSummary(fields: Record<string, unknown>): HeaderSummary {
  const summary: Record<string, unknown> = {};
  for (const name of SUMMARY_FIELDS) {
    const value = fields[name];
    const numeric = name === 'numberOfFrames' || name === 'rows' || name === 'columns';
    if (numeric ? typeof value === 'number' && Number.isFinite(value) : typeof value === 'string') summary[name] = value;
  }
  return summary as HeaderSummary;
}

/** An I/O failure while reading the object: retried (the event is redelivered), never a verdict. */
export class ObjectReadError extends Error {
  constructor(override readonly cause: unknown) {
    super('object read failed');
  }
}

export class HeaderTooLargeError extends Error {}

/**
 * Ranged reads of one object, counted, clamped to its size and capped at MAX_HEADER_BYTES. Reads
 * within the bytes already held from offset 0 are served from them (counted once, up front).
 */
class CountingRead {
  bytesRead: number;
  /** The object's first bytes, once read: the preamble check needs 4. */
  head: Uint8Array;
  constructor(
    private readonly reader: ObjectReader,
    private readonly key: string,
    private readonly size: number,
    private readonly held: Uint8Array,
  ) {
    this.bytesRead = held.length;
    this.head = held.subarray(0, 4);
  }

  async read(start: number, endExclusive: number): Promise<Uint8Array> {
    const end = Math.min(endExclusive, this.size);
    if (end > MAX_HEADER_BYTES) throw new HeaderTooLargeError();
    if (start >= end) return new Uint8Array(0);
    if (end <= this.held.length) return this.held.subarray(start, end);
    let bytes: Uint8Array;
    try {
      bytes = await this.reader.readRange(this.key, start, end);
    } catch (error) {
      throw new ObjectReadError(error);
    }
    this.bytesRead += bytes.length;
    if (start === 0 && this.head.length < 4) this.head = bytes.subarray(0, 4);
    return bytes;
  }
}
