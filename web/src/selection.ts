/**
 * What the user picked, grouped by study, and checked with the server's own rules
 * (lambdas/core/rules.ts). Pure: no DOM, so unit tests can drive it.
 */
import { evaluateSelection, type SelectionFile, type SelectionResult } from '../../lambdas/core/rules';
import type { AttachmentType, HeaderSummary, Limits, Violation } from '../../lambdas/core/model';
import type { Language } from '../../lambdas/core/messages';
import { addToStudyHeader, type StudyHeader } from '../../lambdas/core/study-header';
import type { Part10Refusal } from '../../lambdas/core/dicom';

/** The header fields the verify panel shows. PHI: kept in memory only, never logged or stored. */
export type DicomInfo = Pick<
  HeaderSummary,
  'sopInstanceUid' | 'seriesInstanceUid' | 'modality' | 'patientId' | 'patientName' | 'patientBirthDate' | 'studyDate' | 'accessionNumber' | 'studyDescription'
> & { studyInstanceUid: string };

export interface SelectedItem {
  id: string;
  name: string;
  /** Relative path inside a folder or ZIP, for display and de-duplication. */
  path: string;
  size: number;
  kind: 'dicom' | 'attachment';
  attachmentType?: AttachmentType | 'other';
  contentType?: string;
  dicom?: DicomInfo;
  /** Attachments: the study the user linked it to. */
  linkedStudy?: string;
  /** Same key = the same file added twice (e.g. a folder picked again). */
  sourceKey: string;
  /** A file of a resumed session that already reached the server; not uploaded again. */
  uploaded?: boolean;
  /** The server's id once declared, so removing it also removes it on the server, and sending it continues that declaration. */
  fileId?: string;
  /** Base64 SHA-256 of the bytes: the server's for a file of a reloaded session, else once computed. */
  sha256?: string;
  /** Each part's SHA-256 when computed with the file's (large files). */
  partHashes?: readonly string[];
}

/** A Part10Refusal is shown with the shared catalog's message (the inspector's reason for the same file). */
export type SkipReason = 'unsupported' | 'dicomdir' | 'unreadable' | 'no-study' | Part10Refusal;

export interface SkippedFile {
  name: string;
  path: string;
  reason: SkipReason;
}

export interface StudySummary extends StudyHeader {
  studyInstanceUid: string;
  dicomFiles: number;
  attachments: SelectedItem[];
  bytes: number;
}

export interface Evaluation extends SelectionResult {
  /** Attachments waiting for the user to pick a study (several studies). */
  unlinked: SelectedItem[];
  studySummaries: StudySummary[];
  /** Violations not about unlinked attachments (those get their own list). */
  blocking: Violation[];
}

export class Selection {
  private readonly items = new Map<string, SelectedItem>();
  private readonly keys = new Set<string>();
  skipped: SkippedFile[] = [];
  /** Header fields the server read for studies of a resumed session (their files are not read again). */
  readonly knownStudies = new Map<string, Partial<StudyHeader>>();

  get size(): number {
    return this.items.size;
  }

  all(): SelectedItem[] {
    return [...this.items.values()];
  }

  get(id: string): SelectedItem | undefined {
    return this.items.get(id);
  }

  /** Adds a file; returns false when the same file is already selected. */
  add(item: SelectedItem): boolean {
    if (this.keys.has(item.sourceKey)) return false;
    this.keys.add(item.sourceKey);
    this.items.set(item.id, item);
    return true;
  }

  /** Counts a source as selected (a file added again and recognised as one listed); false when it was already. */
  claim(sourceKey: string): boolean {
    if (this.keys.has(sourceKey)) return false;
    this.keys.add(sourceKey);
    return true;
  }

  skip(file: SkippedFile): void {
    this.skipped.push(file);
  }

  remove(ids: Iterable<string>): void {
    for (const id of ids) {
      const item = this.items.get(id);
      if (!item) continue;
      this.items.delete(id);
      this.keys.delete(item.sourceKey);
    }
  }

  /** Removes a study's DICOM files and the attachments linked to it. */
  removeStudy(studyInstanceUid: string, autoLinks: Record<string, string> = {}): void {
    const doomed = this.all()
      .filter((i) =>
        i.kind === 'dicom'
          ? i.dicom?.studyInstanceUid === studyInstanceUid
          : (i.linkedStudy ?? autoLinks[i.id]) === studyInstanceUid,
      )
      .map((i) => i.id);
    this.remove(doomed);
  }

  clear(): void {
    this.items.clear();
    this.keys.clear();
    this.skipped = [];
  }

  /** The rule module's view of this selection: attachments carry the study they are linked to. */
  toRuleFiles(): SelectionFile[] {
    return this.all().map((i) => ({
      id: i.id,
      kind: i.kind,
      size: i.size,
      studyInstanceUid: i.kind === 'dicom' ? i.dicom?.studyInstanceUid : i.linkedStudy,
      sopInstanceUid: i.dicom?.sopInstanceUid,
      attachmentType: i.attachmentType,
    }));
  }

  /**
   * Links attachments to a study unless that breaks ATTACHMENT_LIMIT; then nothing changes and
   * the violation (with the server's message and count) is returned.
   */
  link(ids: readonly string[], studyInstanceUid: string, limits: Limits, language: Language): Violation | null {
    const wanted = new Set(ids);
    const trial = this.toRuleFiles().map((f) => (wanted.has(f.id) ? { ...f, studyInstanceUid } : f));
    const result = evaluateSelection(trial, limits, language);
    const refused = result.violations.find((v) => v.code === 'ATTACHMENT_LIMIT' && v.studyInstanceUid === studyInstanceUid);
    if (refused) return refused;
    for (const id of ids) {
      const item = this.items.get(id);
      if (item?.kind === 'attachment') item.linkedStudy = studyInstanceUid;
    }
    return null;
  }

  evaluate(limits: Limits, language: Language): Evaluation {
    const result = evaluateSelection(this.toRuleFiles(), limits, language);
    const unlinkedIds = new Set(result.violations.find((v) => v.code === 'UNLINKED_ATTACHMENTS')?.files ?? []);
    const summaries = new Map<string, StudySummary>();
    const summary = (uid: string) => {
      let s = summaries.get(uid);
      if (!s) {
        const known = this.knownStudies.get(uid);
        s = { ...known, studyInstanceUid: uid, modalities: [...(known?.modalities ?? [])], dicomFiles: 0, attachments: [], bytes: 0 };
        summaries.set(uid, s);
      }
      return s;
    };
    for (const item of this.all()) {
      if (item.kind !== 'dicom' || !item.dicom) continue;
      const s = summary(item.dicom.studyInstanceUid);
      s.dicomFiles++;
      s.bytes += item.size;
      addToStudyHeader(s, item.dicom);
    }
    for (const item of this.all()) {
      if (item.kind !== 'attachment') continue;
      const target = item.linkedStudy && summaries.has(item.linkedStudy) ? item.linkedStudy : result.autoLinks[item.id];
      if (target === undefined || !summaries.has(target)) continue;
      const s = summary(target);
      s.attachments.push(item);
      s.bytes += item.size;
    }
    return {
      ...result,
      unlinked: this.all().filter((i) => unlinkedIds.has(i.id)),
      studySummaries: [...summaries.values()].sort(compareStudies),
      blocking: result.violations.filter((v) => v.code !== 'UNLINKED_ATTACHMENTS'),
    };
  }

  /** The study each attachment goes to when uploading (its own link, else the automatic one). */
  studyOf(item: SelectedItem, autoLinks: Record<string, string>): string | undefined {
    return item.kind === 'dicom' ? item.dicom?.studyInstanceUid : (item.linkedStudy ?? autoLinks[item.id]);
  }
}

function compareStudies(a: StudySummary, b: StudySummary): number {
  return (
    (a.patientName ?? '').localeCompare(b.patientName ?? '') ||
    (a.studyDate ?? '').localeCompare(b.studyDate ?? '') ||
    a.studyInstanceUid.localeCompare(b.studyInstanceUid)
  );
}

/** DICOM dates (YYYYMMDD) as an ISO date; anything else is shown as written. */
export function formatDicomDate(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(value.trim());
  return m ? `${m[1]}-${m[2]}-${m[3]}` : value;
}

/** DICOM person names (Family^Given^Middle^Prefix^Suffix) in reading order. */
export function formatPersonName(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const [family = '', given = '', middle = '', prefix = '', suffix = ''] = value.split('=')[0]!.split('^');
  const text = [prefix, given, middle, family, suffix].map((p) => p.trim()).filter(Boolean).join(' ');
  return text || undefined;
}
