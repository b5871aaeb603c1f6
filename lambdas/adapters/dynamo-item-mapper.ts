/**
 * The one mapping from the table's items (./table.ts) to the model's records. DynamoDB returns
 * numbers the document client may widen and attributes that were never written: each record
 * gets exactly its fields, with absent ones left out.
 */
import type { FileRecord, SessionRecord, StudyRecord, UploadCodeRecord } from '../core/model';
import type { FileSummary } from '../core/ports';
import { studyDeliveryOf } from './dynamo-delivery-store';
import { STUDY_HEADER_FIELDS } from '../core/study-header';
import type { CodeItem, FileItem, SessionItem, StudyItem, StudyItemHeader } from './table';

/** Copies the attributes that are present (not undefined, not null, not empty strings). */
function present<T extends object, K extends keyof T>(item: T, names: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const name of names) {
    const value = item[name];
    if (value !== undefined && value !== null && value !== '') out[name] = value;
  }
  return out;
}

const OPTIONAL_SESSION_FIELDS = [
  'codeReference',
  'completedAt',
  'rejectedAt',
  'completingSince',
  'rejection',
  'contact',
  'manifestKey',
  'eventPublishedAt',
  'retentionDueSince',
  'revokedAt',
] as const satisfies readonly (keyof SessionRecord)[];

export function sessionRecordOf(item: SessionItem): SessionRecord {
  return {
    sessionId: item.sessionId,
    institutionId: item.institutionId,
    tokenHash: item.tokenHash,
    codeHash: item.codeHash,
    status: item.status,
    limits: item.limits,
    reservedBytes: Number(item.reservedBytes ?? 0),
    receivedBytes: Number(item.receivedBytes ?? 0),
    dicomCount: Number(item.dicomCount ?? 0),
    attachmentCount: Number(item.attachmentCount ?? 0),
    version: Number(item.version ?? 0),
    createdAt: item.createdAt,
    expiresAt: item.expiresAt,
    ...present(item, OPTIONAL_SESSION_FIELDS),
    ...(item.acceptedBytes !== undefined ? { acceptedBytes: Number(item.acceptedBytes) } : {}),
    ...(item.verifiedCount !== undefined ? { verifiedCount: Number(item.verifiedCount) } : {}),
    ...(item.rejectedCount !== undefined ? { rejectedCount: Number(item.rejectedCount) } : {}),
  };
}

const OPTIONAL_FILE_FIELDS = [
  'sopInstanceUid',
  'contentType',
  'attachmentType',
  'reason',
  'receivedAt',
  'header',
  'detectedType',
  'etag',
  'inspectedAt',
  'sha256',
  'multipart',
  'malwareScan',
] as const satisfies readonly (keyof FileRecord)[];

export function fileRecordOf(item: FileItem): FileRecord {
  return {
    sessionId: item.sessionId,
    fileId: item.fileId,
    clientId: item.clientId,
    name: item.name,
    kind: item.kind,
    size: Number(item.size),
    studyInstanceUid: item.studyInstanceUid,
    objectKey: item.objectKey,
    status: item.status,
    createdAt: item.createdAt,
    ...present(item, OPTIONAL_FILE_FIELDS),
    ...(item.inspectionBytesRead !== undefined ? { inspectionBytesRead: Number(item.inspectionBytesRead) } : {}),
  };
}

/** The attributes a page of files reads (dynamo-session-store.ts projects them). */
export const FILE_SUMMARY_ATTRIBUTES = ['fileId', 'clientId', 'name', 'kind', 'size', 'studyInstanceUid', 'status', 'reason', 'createdAt', 'sha256'] as const;

export function fileSummaryOf(item: Pick<FileItem, (typeof FILE_SUMMARY_ATTRIBUTES)[number]>): FileSummary {
  return {
    fileId: item.fileId,
    clientId: item.clientId,
    name: item.name,
    kind: item.kind,
    size: Number(item.size),
    studyInstanceUid: item.studyInstanceUid,
    status: item.status,
    createdAt: item.createdAt,
    ...(item.reason ? { reason: item.reason } : {}),
    ...(item.sha256 ? { sha256: item.sha256 } : {}),
  };
}

/** A study item; one written only for its comment has no counters yet. */
export function studyRecordOf(item: StudyItem): StudyRecord {
  return {
    studyInstanceUid: item.studyInstanceUid ?? item.sk.slice('STUDY#'.length),
    bytes: Number(item.bytes ?? 0),
    dicomCount: Number(item.dicomCount ?? 0),
    attachmentCount: Number(item.attachmentCount ?? 0),
    ...(item.comment ? { comment: item.comment } : {}),
    ...studyCountersOf(item),
    ...withDelivery(item),
  };
}

/** The verdicts' counters and the study header they keep on the study item (adapters/dynamo-study-counters.ts). */
function studyCountersOf(item: StudyItem): Pick<StudyRecord, 'receivedBytes' | 'verifiedCount' | 'rejectedCount' | 'header'> {
  const out: Pick<StudyRecord, 'receivedBytes' | 'verifiedCount' | 'rejectedCount' | 'header'> = {};
  if (item.receivedBytes !== undefined) out.receivedBytes = Number(item.receivedBytes);
  if (item.verifiedCount !== undefined) out.verifiedCount = Number(item.verifiedCount);
  if (item.rejectedCount !== undefined) out.rejectedCount = Number(item.rejectedCount);
  const fields = present(item as StudyItemHeader, STUDY_HEADER_FIELDS);
  const modalities = item.modalities ? [...item.modalities].sort() : [];
  if (Object.keys(fields).length > 0 || modalities.length > 0) out.header = { ...fields, modalities };
  return out;
}

function withDelivery(item: StudyItem): Pick<StudyRecord, 'delivery'> {
  const delivery = studyDeliveryOf(item);
  return delivery ? { delivery } : {};
}

export function codeRecordOf(codeHash: string, item: CodeItem): UploadCodeRecord {
  return {
    codeHash,
    institutionId: item.institutionId,
    createdAt: item.createdAt,
    expiresAt: item.expiresAt,
    ...(item.maxSessionBytes !== undefined ? { maxSessionBytes: Number(item.maxSessionBytes) } : {}),
    ...(item.reference !== undefined ? { reference: item.reference } : {}),
    revoked: item.revoked === true,
    ...(item.sessionId ? { sessionId: item.sessionId } : {}),
  };
}
