/**
 * The product's rules (DESIGN.md "Rules"), pure. The portal calls evaluateSelection while the user
 * picks files; the API calls it with everything already declared plus the new batch. Same rules,
 * same messages.
 */
import { formatBytes, message, type Language, type MessageCode } from './messages';
import type { AttachmentType, FileKind, Limits, Violation } from './model';

export interface SelectionFile {
  /** The client id (portal, upload request) or file id (stored state). */
  id: string;
  kind: FileKind;
  size: number;
  /** DICOM: the study it belongs to. Attachment: the study it is linked to, if any. */
  studyInstanceUid?: string;
  sopInstanceUid?: string;
  /** Attachments: what the name, content type or magic bytes say it is. */
  attachmentType?: AttachmentType | 'other';
  /** True for files of the current upload request (the batch limit counts only these). */
  inBatch?: boolean;
}

export interface StudyTotal {
  studyInstanceUid: string;
  dicomFiles: number;
  attachments: number;
  bytes: number;
}

export interface SelectionResult {
  violations: Violation[];
  /** Attachments linked automatically because exactly one study exists: file id → study. */
  autoLinks: Record<string, string>;
  studies: StudyTotal[];
  totalBytes: number;
}

/** Checks a selection against the limits; returns every violation, each with its code and message. */
export function evaluateSelection(files: readonly SelectionFile[], limits: Limits, language: Language = 'en'): SelectionResult {
  const say: Say = (code, params) => ({ message: message(code, params ?? [], language), ...(params ? { params } : {}) });
  const dicom = files.filter((f) => f.kind === 'dicom');
  const attachments = files.filter((f) => f.kind === 'attachment');
  const { studies, autoLinks, unlinked } = groupByStudy(dicom, attachments);
  const totalBytes = files.reduce((sum, f) => sum + f.size, 0);
  const violations: Violation[] = [];
  if (attachments.length > 0 && dicom.length === 0) {
    violations.push({ code: 'ATTACHMENT_WITHOUT_DICOM', ...say('ATTACHMENT_WITHOUT_DICOM'), files: attachments.map((f) => f.id) });
  }
  if (unlinked.length > 0) violations.push({ code: 'UNLINKED_ATTACHMENTS', ...say('UNLINKED_ATTACHMENTS'), files: unlinked });
  violations.push(
    ...attachmentViolations(attachments, limits, say),
    ...studyViolations([...studies.values()], limits, say),
    ...sessionViolations(totalBytes, studies.size, limits, say),
    ...dicomViolations(dicom, limits, say),
  );
  return { violations, autoLinks, studies: [...studies.values()], totalBytes };
}

/** A code's message in the caller's language, with the parameters that fill it. */
type Say = (code: MessageCode, params?: readonly unknown[] | Record<string, unknown>) => Pick<Violation, 'message' | 'params'>;

/** Per-study totals; attachments go to their study, or to the only one (auto-linked), or stay unlinked. */
function groupByStudy(dicom: readonly SelectionFile[], attachments: readonly SelectionFile[]) {
  const studies = new Map<string, StudyTotal>();
  const study = (uid: string) => {
    let total = studies.get(uid);
    if (!total) studies.set(uid, (total = { studyInstanceUid: uid, dicomFiles: 0, attachments: 0, bytes: 0 }));
    return total;
  };
  for (const f of dicom) {
    const total = study(f.studyInstanceUid ?? '');
    total.dicomFiles++;
    total.bytes += f.size;
  }
  const autoLinks: Record<string, string> = {};
  const unlinked: string[] = [];
  const onlyStudy = studies.size === 1 ? [...studies.keys()][0]! : undefined;
  for (const f of attachments) {
    let target = f.studyInstanceUid && studies.has(f.studyInstanceUid) ? f.studyInstanceUid : undefined;
    if (!target && onlyStudy !== undefined) {
      target = onlyStudy;
      autoLinks[f.id] = onlyStudy;
    }
    if (target === undefined) {
      if (dicom.length > 0) unlinked.push(f.id);
      continue;
    }
    const total = study(target);
    total.attachments++;
    total.bytes += f.size;
  }
  return { studies, autoLinks, unlinked };
}

function attachmentViolations(attachments: readonly SelectionFile[], limits: Limits, say: Say): Violation[] {
  const violations: Violation[] = [];
  for (const f of attachments) {
    if (f.size > limits.maxAttachmentBytes) {
      violations.push({ code: 'ATTACHMENT_TOO_LARGE', ...say('ATTACHMENT_TOO_LARGE', [formatBytes(limits.maxAttachmentBytes)]), files: [f.id] });
    }
    if (f.attachmentType && !limits.allowedAttachmentTypes.includes(f.attachmentType as AttachmentType)) {
      const allowed = limits.allowedAttachmentTypes.map((t) => t.toUpperCase()).join(', ');
      violations.push({ code: 'ATTACHMENT_TYPE_NOT_ALLOWED', ...say('ATTACHMENT_TYPE_NOT_ALLOWED', [allowed]), files: [f.id] });
    }
  }
  return violations;
}

function studyViolations(studies: readonly StudyTotal[], limits: Limits, say: Say): Violation[] {
  const violations: Violation[] = [];
  for (const total of studies) {
    if (total.attachments > limits.maxAttachmentsPerStudy) {
      violations.push({
        code: 'ATTACHMENT_LIMIT',
        ...say('ATTACHMENT_LIMIT', { x: total.attachments, max: limits.maxAttachmentsPerStudy }),
        studyInstanceUid: total.studyInstanceUid,
        details: { count: total.attachments, max: limits.maxAttachmentsPerStudy },
      });
    }
  }
  const studyLimit = Math.min(limits.maxStudyBytes, limits.maxSessionBytes);
  for (const total of studies) {
    if (total.bytes > studyLimit) {
      violations.push({
        code: 'STUDY_SIZE_LIMIT',
        ...say('STUDY_SIZE_LIMIT', [formatBytes(studyLimit)]),
        studyInstanceUid: total.studyInstanceUid,
        details: { bytes: total.bytes, limit: studyLimit },
      });
    }
  }
  return violations;
}

function sessionViolations(totalBytes: number, studyCount: number, limits: Limits, say: Say): Violation[] {
  if (totalBytes <= limits.maxSessionBytes) return [];
  const severalStudies = studyCount > 1;
  return [
    {
      code: 'SESSION_SIZE_LIMIT',
      ...say(severalStudies ? 'SESSION_SIZE_LIMIT_NEW_CODE' : 'SESSION_SIZE_LIMIT'),
      details: { bytes: totalBytes, limit: limits.maxSessionBytes, advice: severalStudies ? 'REQUEST_NEW_CODE' : 'REMOVE_FILES' },
    },
  ];
}

function dicomViolations(dicom: readonly SelectionFile[], limits: Limits, say: Say): Violation[] {
  const violations: Violation[] = [];
  const batchDicom = dicom.filter((f) => f.inBatch).length;
  if (batchDicom > limits.maxDicomFilesAtOnce) {
    violations.push({
      code: 'DICOM_BATCH_LIMIT',
      ...say('DICOM_BATCH_LIMIT', [limits.maxDicomFilesAtOnce]),
      details: { count: batchDicom, max: limits.maxDicomFilesAtOnce },
    });
  }
  const seen = new Set<string>();
  const duplicates: string[] = [];
  for (const f of dicom) {
    if (!f.sopInstanceUid) continue;
    if (seen.has(f.sopInstanceUid)) duplicates.push(f.id);
    else seen.add(f.sopInstanceUid);
  }
  if (duplicates.length > 0) violations.push({ code: 'DUPLICATE_SOP_INSTANCE', ...say('DUPLICATE_SOP_INSTANCE'), files: duplicates });
  return violations;
}
