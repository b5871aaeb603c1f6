/**
 * The manifest of an accepted session (sessions/{id}/manifest.json): what the hospital imports.
 * Built only from stored, verified state: the header summaries the inspector read, never the
 * uploader's claims. It holds PHI; it lives only in the encrypted bucket.
 */
import type { FileRecord, HeaderSummary, SessionRecord } from './model';

export const MANIFEST_VERSION = 1;

export interface ManifestInstance {
  fileId: string;
  objectKey: string;
  name: string;
  size: number;
  sopInstanceUid: string;
  /** Base64 SHA-256 of the bytes, as declared and verified by S3 on arrival. */
  sha256?: string;
  header: HeaderSummary;
}

export interface ManifestSeries {
  seriesInstanceUid: string;
  modality?: string;
  instances: ManifestInstance[];
}

export interface ManifestAttachment {
  fileId: string;
  objectKey: string;
  name: string;
  size: number;
  /** The type its magic bytes showed (pdf, jpeg, png). */
  type: string;
  contentType?: string;
  sha256?: string;
}

export interface ManifestStudy {
  studyInstanceUid: string;
  comment?: string;
  studyDate?: string;
  studyDescription?: string;
  accessionNumber?: string;
  patient: { id?: string; name?: string; birthDate?: string };
  bytes: number;
  series: ManifestSeries[];
  attachments: ManifestAttachment[];
}

export interface Manifest {
  manifestVersion: typeof MANIFEST_VERSION;
  sessionId: string;
  institutionId: string;
  uploadCodeReference: string | null;
  createdAt: string;
  completedAt: string;
  uploader: { contact: { email?: string; phone?: string }; consent: { privacyPolicy: true; dataSharing: true; givenAt: string } };
  totals: { studies: number; series: number; instances: number; attachments: number; dicomBytes: number; attachmentBytes: number; bytes: number };
  studies: ManifestStudy[];
}

export interface ManifestInput {
  session: SessionRecord;
  /** The session's VERIFIED files (DICOM and attachments). */
  files: readonly FileRecord[];
  /** Attachment file id → study, for attachments linked automatically to the only study. */
  autoLinks: Record<string, string>;
  comments: Record<string, string>;
  contact: { email?: string; phone?: string };
  completedAt: string;
}

/** Groups the verified files into studies → series → instances, with attachments per study. */
export function buildManifest(input: ManifestInput): Manifest {
  const studies = new Map<string, ManifestStudy>();
  const seriesOf = new Map<string, Map<string, ManifestSeries>>();
  const study = (uid: string): ManifestStudy => {
    let entry = studies.get(uid);
    if (!entry) {
      entry = { studyInstanceUid: uid, patient: {}, bytes: 0, series: [], attachments: [] };
      if (input.comments[uid]) entry.comment = input.comments[uid];
      studies.set(uid, entry);
      seriesOf.set(uid, new Map());
    }
    return entry;
  };

  const bySopInstance = (a: FileRecord, b: FileRecord) => (a.header?.sopInstanceUid ?? a.fileId).localeCompare(b.header?.sopInstanceUid ?? b.fileId);
  let dicomBytes = 0;
  let attachmentBytes = 0;
  for (const file of input.files.filter((f) => f.kind === 'dicom').sort(bySopInstance)) {
    const header = file.header ?? {};
    const entry = study(header.studyInstanceUid ?? file.studyInstanceUid);
    entry.studyDate ??= header.studyDate;
    entry.studyDescription ??= header.studyDescription;
    entry.accessionNumber ??= header.accessionNumber;
    entry.patient.id ??= header.patientId;
    entry.patient.name ??= header.patientName;
    entry.patient.birthDate ??= header.patientBirthDate;
    const seriesUid = header.seriesInstanceUid ?? '';
    const seriesMap = seriesOf.get(entry.studyInstanceUid)!;
    let series = seriesMap.get(seriesUid);
    if (!series) {
      series = { seriesInstanceUid: seriesUid, modality: header.modality, instances: [] };
      seriesMap.set(seriesUid, series);
      entry.series.push(series);
    }
    series.instances.push({ fileId: file.fileId, objectKey: file.objectKey, name: file.name, size: file.size, sopInstanceUid: header.sopInstanceUid ?? '', ...(file.sha256 ? { sha256: file.sha256 } : {}), header });
    entry.bytes += file.size;
    dicomBytes += file.size;
  }
  for (const file of input.files.filter((f) => f.kind === 'attachment')) {
    const target = input.autoLinks[file.fileId] ?? file.studyInstanceUid;
    const entry = study(target);
    entry.attachments.push({
      fileId: file.fileId,
      objectKey: file.objectKey,
      name: file.name,
      size: file.size,
      type: file.detectedType ?? 'other',
      ...(file.contentType ? { contentType: file.contentType } : {}),
      ...(file.sha256 ? { sha256: file.sha256 } : {}),
    });
    entry.bytes += file.size;
    attachmentBytes += file.size;
  }

  const all = [...studies.values()];
  return {
    manifestVersion: MANIFEST_VERSION,
    sessionId: input.session.sessionId,
    institutionId: input.session.institutionId,
    uploadCodeReference: input.session.codeReference ?? null,
    createdAt: input.session.createdAt,
    completedAt: input.completedAt,
    uploader: { contact: input.contact, consent: { privacyPolicy: true, dataSharing: true, givenAt: input.completedAt } },
    totals: {
      studies: all.length,
      series: all.reduce((n, s) => n + s.series.length, 0),
      instances: all.reduce((n, s) => n + s.series.reduce((m, se) => m + se.instances.length, 0), 0),
      attachments: all.reduce((n, s) => n + s.attachments.length, 0),
      dicomBytes,
      attachmentBytes,
      bytes: dicomBytes + attachmentBytes,
    },
    studies: all,
  };
}

