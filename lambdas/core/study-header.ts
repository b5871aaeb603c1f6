/**
 * The header fields that name a study to the person uploading it (patient, date, description,
 * modalities). The portal builds them from the headers it read; GET /sessions/{id} builds them from
 * the headers the inspector stored, so a reloaded page shows the same card. PHI: never log them.
 */
import type { HeaderSummary } from './model';

export const STUDY_HEADER_FIELDS = ['patientName', 'patientId', 'patientBirthDate', 'studyDate', 'accessionNumber', 'studyDescription'] as const;

export type StudyHeader = Partial<Pick<HeaderSummary, (typeof STUDY_HEADER_FIELDS)[number]>> & { modalities: string[] };

/** Fills the fields `target` lacks from one file's header and adds its modality (kept sorted). */
export function addToStudyHeader(target: StudyHeader, header: Partial<HeaderSummary>): void {
  for (const field of STUDY_HEADER_FIELDS) target[field] ||= header[field];
  if (header.modality && !target.modalities.includes(header.modality)) {
    target.modalities.push(header.modality);
    target.modalities.sort();
  }
}

/** The study header of every study from its files' headers (files without one are passed over). */
export function studyHeaders(files: Iterable<{ studyInstanceUid: string; header?: Partial<HeaderSummary> }>): Map<string, StudyHeader> {
  const byStudy = new Map<string, StudyHeader>();
  for (const file of files) {
    if (!file.header) continue;
    let target = byStudy.get(file.studyInstanceUid);
    if (!target) byStudy.set(file.studyInstanceUid, (target = { modalities: [] }));
    addToStudyHeader(target, file.header);
  }
  return byStudy;
}

/** The fields that have a value, so an absent one is absent in JSON (no null, no empty list). */
export function definedFields(header: Partial<StudyHeader> | undefined): Partial<StudyHeader> {
  const out: Partial<StudyHeader> = {};
  if (!header) return out;
  for (const field of STUDY_HEADER_FIELDS) if (header[field]) out[field] = header[field];
  if (header.modalities?.length) out.modalities = header.modalities;
  return out;
}
