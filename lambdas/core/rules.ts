/**
 * The product's rules (DESIGN.md "Rules"), pure. The portal calls evaluateSelection while the user
 * picks files; the API calls it with everything already declared plus the new batch. Same rules,
 * same messages.
 */
import { formatBytes, message, type Language } from './messages';
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
  const violations: Violation[] = [];
  const studies = new Map<string, StudyTotal>();
  const study = (uid: string) => {
    let total = studies.get(uid);
    if (!total) studies.set(uid, (total = { studyInstanceUid: uid, dicomFiles: 0, attachments: 0, bytes: 0 }));
    return total;
  };

  const dicom = files.filter((f) => f.kind === 'dicom');
  const attachments = files.filter((f) => f.kind === 'attachment');
  for (const f of dicom) {
    const total = study(f.studyInstanceUid ?? '');
    total.dicomFiles++;
    total.bytes += f.size;
  }

  if (attachments.length > 0 && dicom.length === 0) {
    violations.push({ code: 'ATTACHMENT_WITHOUT_DICOM', message: message('ATTACHMENT_WITHOUT_DICOM', [], language), files: attachments.map((f) => f.id) });
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
  if (unlinked.length > 0) {
    violations.push({ code: 'UNLINKED_ATTACHMENTS', message: message('UNLINKED_ATTACHMENTS', [], language), files: unlinked });
  }

  for (const f of attachments) {
    if (f.size > limits.maxAttachmentBytes) {
      violations.push({ code: 'ATTACHMENT_TOO_LARGE', message: message('ATTACHMENT_TOO_LARGE', [formatBytes(limits.maxAttachmentBytes)], language), files: [f.id] });
    }
    if (f.attachmentType && !limits.allowedAttachmentTypes.includes(f.attachmentType as AttachmentType)) {
      const allowed = limits.allowedAttachmentTypes.map((t) => t.toUpperCase()).join(', ');
      violations.push({ code: 'ATTACHMENT_TYPE_NOT_ALLOWED', message: message('ATTACHMENT_TYPE_NOT_ALLOWED', [allowed], language), files: [f.id] });
    }
  }

  for (const total of studies.values()) {
    if (total.attachments > limits.maxAttachmentsPerStudy) {
      violations.push({
        code: 'ATTACHMENT_LIMIT',
        message: message('ATTACHMENT_LIMIT', { x: total.attachments, max: limits.maxAttachmentsPerStudy }, language),
        studyInstanceUid: total.studyInstanceUid,
        details: { count: total.attachments, max: limits.maxAttachmentsPerStudy },
      });
    }
  }

  const studyLimit = Math.min(limits.maxStudyBytes, limits.maxSessionBytes);
  for (const total of studies.values()) {
    if (total.bytes > studyLimit) {
      violations.push({
        code: 'STUDY_SIZE_LIMIT',
        message: message('STUDY_SIZE_LIMIT', [formatBytes(studyLimit)], language),
        studyInstanceUid: total.studyInstanceUid,
        details: { bytes: total.bytes, limit: studyLimit },
      });
    }
  }

  const totalBytes = files.reduce((sum, f) => sum + f.size, 0);
  if (totalBytes > limits.maxSessionBytes) {
    const severalStudies = studies.size > 1;
    violations.push({
      code: 'SESSION_SIZE_LIMIT',
      message: message(severalStudies ? 'SESSION_SIZE_LIMIT_NEW_CODE' : 'SESSION_SIZE_LIMIT', [], language),
      details: { bytes: totalBytes, limit: limits.maxSessionBytes, advice: severalStudies ? 'REQUEST_NEW_CODE' : 'REMOVE_FILES' },
    });
  }

  const batchDicom = dicom.filter((f) => f.inBatch).length;
  if (batchDicom > limits.maxDicomFilesAtOnce) {
    violations.push({
      code: 'DICOM_BATCH_LIMIT',
      message: message('DICOM_BATCH_LIMIT', [limits.maxDicomFilesAtOnce], language),
      details: { count: batchDicom, max: limits.maxDicomFilesAtOnce },
    });
  }

  const seen = new Map<string, string>();
  const duplicates: string[] = [];
  for (const f of dicom) {
    if (!f.sopInstanceUid) continue;
    if (seen.has(f.sopInstanceUid)) duplicates.push(f.id);
    else seen.set(f.sopInstanceUid, f.id);
  }
  if (duplicates.length > 0) {
    violations.push({ code: 'DUPLICATE_SOP_INSTANCE', message: message('DUPLICATE_SOP_INSTANCE', [], language), files: duplicates });
  }

  return { violations, autoLinks, studies: [...studies.values()], totalBytes };
}
