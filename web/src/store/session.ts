/**
 * Session actions: start-up, the upload code, resuming after a reload, and what the tab keeps in
 * sessionStorage (the token, and the contact details and comments typed, so a reload loses only files).
 */
import { batch, effect } from '@preact/signals';
import { message } from '../../../lambdas/core/messages';
import { definedFields } from '../../../lambdas/core/study-header';
import { ApiClient, ApiError, type CreatedSession, type SessionFile, type SessionState } from '../api';
import { currentLanguage, detectLanguage, setLanguage, t } from '../i18n';
import * as s from './state';
import { nextClientId } from './files';

const SESSION_KEY = 'upload-portal.session';
const DRAFT_KEY = 'upload-portal.draft';

export async function boot(): Promise<void> {
  setLanguage(detectLanguage());
  let apiUrl = '/api';
  try {
    const config = (await (await fetch('/config.json', { cache: 'no-store' })).json()) as { apiUrl?: string };
    if (config.apiUrl) apiUrl = config.apiUrl;
  } catch {
    // No config.json (e.g. a bare dev server): the API is expected under /api.
  }
  s.setApi(new ApiClient(apiUrl));
  const stored = read<s.StoredSession>(SESSION_KEY);
  if (stored) {
    s.session.value = stored;
    s.apiClient().token = stored.token;
    try {
      resume(await s.apiClient().getSession(stored.sessionId));
      return;
    } catch (error) {
      forgetSession();
      s.codeError.value = () => errorText(error);
    }
  }
  s.screen.value = 'code';
}

export async function submitCode(): Promise<void> {
  const uploadCode = s.code.value.trim().toUpperCase();
  if (!uploadCode) {
    s.codeError.value = () => t('code.empty');
    return;
  }
  batch(() => {
    s.busy.value = true;
    s.codeError.value = undefined;
  });
  try {
    const created = await s.apiClient().createSession(uploadCode);
    s.apiClient().token = created.token;
    storeSession(created);
    const view = await s.apiClient().getSession(created.sessionId).catch(() => undefined);
    resume(view ?? { status: created.status, limits: created.limits, usage: created.usage, files: [] });
  } catch (error) {
    // The code stays in the box, so a typo can be corrected rather than typed again.
    s.codeError.value = () => errorText(error);
  } finally {
    s.busy.value = false;
  }
}

/** Shows a session as the server has it: a result, or the select screen with what already arrived. */
export function resume(view: SessionState): void {
  const current = s.session.value!;
  s.session.value = { ...current, limits: view.limits ?? current.limits, institution: view.institution ?? current.institution };
  if (view.status === 'ACCEPTED' || view.status === 'REJECTED') {
    batch(() => {
      s.result.value = view;
      s.screen.value = 'result';
    });
    forgetSession();
    return;
  }
  if (view.status !== 'OPEN') {
    forgetSession();
    batch(() => {
      // A revoked session says so plainly; any other end is the generic refusal.
      s.codeError.value = () => message(view.revokedAt ? 'SESSION_REVOKED' : 'UNAUTHORIZED', [], currentLanguage());
      s.screen.value = 'code';
    });
    return;
  }
  for (const study of view.studies ?? []) s.selection.knownStudies.set(study.studyInstanceUid, definedFields(study));
  let uploaded = 0;
  const awaited: s.AwaitedFile[] = [];
  for (const file of view.files ?? []) {
    // Declared and not (all) sent: kept declared, so the same file added again continues it.
    if (file.status === 'RESERVED') awaited.push(awaitedFile(file));
    if (file.status !== 'RECEIVED' && file.status !== 'VERIFIED') continue;
    uploaded++;
    s.selection.add({
      id: nextClientId(),
      name: file.name,
      path: file.name,
      size: file.size,
      kind: file.kind,
      sourceKey: `server:${file.fileId}`,
      uploaded: true,
      fileId: file.fileId,
      ...(file.sha256 ? { sha256: file.sha256 } : {}),
      ...(file.kind === 'dicom' ? { dicom: { studyInstanceUid: file.studyInstanceUid ?? '' } } : { linkedStudy: file.studyInstanceUid }),
    });
  }
  const draft = read<{ contact?: { email: string; phone: string }; comments?: Record<string, string> }>(DRAFT_KEY);
  batch(() => {
    if (draft?.contact) s.contact.value = draft.contact;
    if (draft?.comments) s.comments.value = draft.comments;
    s.resumeNotice.value = uploaded > 0 || awaited.length > 0 ? { uploadedFiles: uploaded } : undefined;
    s.awaited.value = awaited;
    s.selectionChanged();
    s.screen.value = 'select';
  });
}

function awaitedFile(file: SessionFile): s.AwaitedFile {
  const { fileId, name, size, kind, studyInstanceUid, sha256 } = file;
  return { fileId, name, size, kind, ...(studyInstanceUid ? { studyInstanceUid } : {}), ...(sha256 ? { sha256 } : {}) };
}

/** The message for an API error in the chosen language when the catalog has its code. */
export function errorText(error: unknown): string {
  if (!(error instanceof ApiError) || error.status === 0) return t('error.network');
  const language = currentLanguage();
  if (error.status === 401 || error.status === 404) return message(error.code === 'UNAUTHORIZED' ? 'UNAUTHORIZED' : 'INVALID_CODE', [], language);
  if (error.status === 429) return message('RATE_LIMITED', [], language);
  if (error.code === 'SESSION_REVOKED') return message('SESSION_REVOKED', [], language);
  return error.message;
}

function storeSession(created: CreatedSession): void {
  s.session.value = { sessionId: created.sessionId, token: created.token, institution: created.institution, limits: created.limits };
  write(SESSION_KEY, s.session.value);
}

/** Keeps the tab's session (an accepted one whose delivery is still running), so a reload shows its result again. */
export function rememberSession(): void {
  if (s.session.value) write(SESSION_KEY, s.session.value);
}

export function forgetSession(): void {
  try {
    sessionStorage.removeItem(SESSION_KEY);
    sessionStorage.removeItem(DRAFT_KEY);
  } catch {
    // Storage blocked: nothing was kept.
  }
}

/** Keeps what the user typed for this tab's session, so a reload does not lose it. */
export function keepDraft(): () => void {
  return effect(() => {
    const draft = { contact: s.contact.value, comments: s.comments.value };
    if (s.screen.value === 'select' || s.screen.value === 'uploading') write(DRAFT_KEY, draft);
  });
}

function read<T>(key: string): T | undefined {
  try {
    const raw = sessionStorage.getItem(key);
    return raw ? (JSON.parse(raw) as T) : undefined;
  } catch {
    return undefined;
  }
}

function write(key: string, value: unknown): void {
  try {
    sessionStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Storage blocked or full: the page still works, a reload just keeps less.
  }
}
