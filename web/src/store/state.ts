/**
 * The portal's one store: every piece of state is a signal here, and components read it. The
 * actions (session.ts, files.ts, upload.ts) are the only writers. The selection is a mutable
 * class, so a change to it bumps `selectionVersion` and the evaluation is computed again.
 */
import { computed, signal } from '@preact/signals';
import type { Limits, Violation } from '../../../lambdas/core/model';
import type { ApiClient, Institution, SessionState } from '../api';
import { currentLanguage } from '../i18n';
import { Selection, type Evaluation, type SelectedItem, type StudySummary } from '../selection';
import type { UploadProgress } from '../uploader';

export type Screen = 'loading' | 'code' | 'select' | 'uploading' | 'result';

export interface StoredSession {
  sessionId: string;
  token: string;
  institution: Institution;
  limits: Limits;
}

/** What a reload kept: shown until the user adds files again. */
export interface ResumeNotice {
  uploadedFiles: number;
}

/** A file declared before a reload whose bytes had not all arrived: it continues when the same file is added again. */
export interface AwaitedFile {
  fileId: string;
  name: string;
  size: number;
  kind: 'dicom' | 'attachment';
  studyInstanceUid?: string;
  sha256?: string;
}

/** A removed study, kept until the user undoes it or moves on. */
export interface RemovedStudy {
  label: string;
  items: SelectedItem[];
  bodies: Map<string, () => Promise<Blob>>;
  comment?: string;
}

export const screen = signal<Screen>('loading');
export const session = signal<StoredSession | undefined>(undefined);

export const code = signal('');
/** A function, so the message follows a change of language while it is shown. */
export const codeError = signal<(() => string) | undefined>(undefined);
export const busy = signal(false);

export const selection = new Selection();
/** The bytes of each selected file, read only when it is sent (a ZIP entry is inflated then). */
export const bodies = new Map<string, () => Promise<Blob>>();
export const selectionVersion = signal(0);
export const scanning = signal({ total: 0, done: 0 });
export const notice = signal<string | undefined>(undefined);
export const resumeNotice = signal<ResumeNotice | undefined>(undefined);
/** Declarations of a reloaded session still waiting for their file; those not added again are left out at the start. */
export const awaited = signal<readonly AwaitedFile[]>([]);

export const comments = signal<Record<string, string>>({});
export const contact = signal({ email: '', phone: '' });
export const consent = signal({ privacy: false, sharing: false });

export const selectedUnlinked = signal<ReadonlySet<string>>(new Set());
export const linkRefusal = signal<Violation | undefined>(undefined);
export const removedStudy = signal<RemovedStudy | undefined>(undefined);
/** One polite message for screen readers (links made, studies removed or restored). */
export const announcement = signal('');

export const serverViolations = signal<Violation[]>([]);
export const serverError = signal<string | undefined>(undefined);
export const progress = signal<UploadProgress | undefined>(undefined);
export const finishing = signal(false);
export const uploading = signal(false);
export const result = signal<SessionState | undefined>(undefined);
export const resultStudies = signal<StudySummary[]>([]);
export const completedAt = signal<Date | undefined>(undefined);

export const scanBusy = computed(() => scanning.value.done < scanning.value.total);

/** The rules' verdict on the selection, in the chosen language. */
export const evaluation = computed<Evaluation | undefined>(() => {
  void selectionVersion.value;
  const current = session.value;
  return current ? selection.evaluate(current.limits, currentLanguage()) : undefined;
});

/** Per study, how many of its files are already on the server (a resumed session, a cancelled upload). */
export const uploadedByStudy = computed(() => {
  const counts = new Map<string, number>();
  const autoLinks = evaluation.value?.autoLinks ?? {};
  for (const item of selection.all()) {
    if (!item.uploaded) continue;
    const uid = selection.studyOf(item, autoLinks);
    if (uid !== undefined) counts.set(uid, (counts.get(uid) ?? 0) + 1);
  }
  return counts;
});

export function selectionChanged(): void {
  selectionVersion.value++;
}

let api: ApiClient | undefined;
export function setApi(client: ApiClient): void {
  api = client;
}
export function apiClient(): ApiClient {
  if (!api) throw new Error('the API client is set at start-up');
  return api;
}
