/** How the portal words studies, counts, progress and references (pure; no DOM). */
import { formatBytes } from '../../lambdas/core/messages';
import { t } from './i18n';
import { formatDicomDate, formatPersonName, type StudySummary } from './selection';
import type { StudyHeader } from '../../lambdas/core/study-header';

/** A study named as the uploader knows it: patient · date · description (or modalities). */
export function studyLabel(s: Partial<StudyHeader>): string {
  const parts = [formatPersonName(s.patientName), formatDicomDate(s.studyDate), s.studyDescription || s.modalities?.join(', ')].filter(Boolean);
  return parts.length > 0 ? parts.join(' · ') : t('study.unnamed');
}

export function countsText(dicom: number, attachments: number, bytes: number): string {
  return t('study.counts', { dicom: t('count.dicom', { count: dicom }), attachments: t('count.attachments', { count: attachments }), size: formatBytes(bytes) });
}

export function percentOf(sent: number, total: number): number {
  return total === 0 ? 100 : Math.floor((sent / total) * 100);
}

export function progressText(sent: number, total: number, secondsLeft?: number): string {
  const base = t('progress.bytes', { sent: formatBytes(sent), total: formatBytes(total), percent: percentOf(sent, total) });
  if (secondsLeft === undefined || sent >= total) return base;
  const left = secondsLeft < 90 ? t('progress.secondsLeft', { n: secondsLeft }) : t('progress.minutesLeft', { n: Math.ceil(secondsLeft / 60) });
  return `${base} · ${left}`;
}

/** The reference an uploader quotes on the phone: the session id's first 8 characters. */
export function shortReference(sessionId: string): string {
  return sessionId.slice(0, 8);
}

/**
 * The patients of a selection, one per distinct name and birth date (case and spacing ignored).
 * Studies without a name are not counted: they cannot tell patients apart.
 */
export function distinctPatients(studies: readonly StudySummary[]): string[] {
  const seen = new Map<string, string>();
  for (const study of studies) {
    const name = formatPersonName(study.patientName);
    if (!name) continue;
    const key = `${name.toLowerCase().replace(/\s+/g, ' ')}|${study.patientBirthDate ?? ''}`;
    const birth = formatDicomDate(study.patientBirthDate);
    if (!seen.has(key)) seen.set(key, birth ? `${name} (${birth})` : name);
  }
  return [...seen.values()];
}
