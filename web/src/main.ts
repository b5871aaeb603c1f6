/**
 * The Upload Portal: code entry → select images → verify and upload → result. Plain DOM, rebuilt
 * from state on each change (focus is restored by element id); upload progress updates in place.
 */
import './styles.css';
import { message, formatBytes } from '../../lambdas/core/messages';
import type { Limits, Violation } from '../../lambdas/core/model';
import { ApiClient, ApiError, type CreatedSession, type Institution, type SessionState } from './api';
import { h, icon, type Attrs, type Child } from './dom';
import { detectLanguage, languages, setLanguage, t, currentLanguage, type UiKey } from './i18n';
import { HeaderScanner } from './scanner';
import type { ScanResult } from './scan';
import { Selection, formatDicomDate, formatPersonName, type Evaluation, type SelectedItem, type SkipReason, type StudySummary } from './selection';
import { UploadCancelledError, UploadFailedError, UploadManager, xhrTransfer, type UploadJob, type UploadProgress } from './uploader';
import { entryBlob } from './zip';
import { collectDropped, type PickedFile } from './picking';

type Screen = 'loading' | 'code' | 'select' | 'uploading' | 'result';

interface StoredSession {
  sessionId: string;
  token: string;
  institution: Institution;
  limits: Limits;
}

const STORAGE_KEY = 'upload-portal.session';

const state = {
  screen: 'loading' as Screen,
  api: undefined as unknown as ApiClient,
  session: undefined as StoredSession | undefined,
  codeError: undefined as string | undefined,
  notice: undefined as string | undefined,
  busy: false,
  selection: new Selection(),
  bodies: new Map<string, () => Promise<Blob>>(),
  scanning: { total: 0, done: 0 },
  comments: new Map<string, string>(),
  contact: { email: '', phone: '' },
  consent: { privacy: false, sharing: false },
  selectedUnlinked: new Set<string>(),
  linkRefusal: undefined as Violation | undefined,
  serverViolations: [] as Violation[],
  serverError: undefined as string | undefined,
  progress: undefined as UploadProgress | undefined,
  finishing: false,
  manager: undefined as UploadManager | undefined,
  result: undefined as SessionState | undefined,
  resultStudies: [] as StudySummary[],
  /** Files a resumed session had already declared but not received: removed before the next upload. */
  staleFileIds: [] as string[],
};

let scanner: HeaderScanner | undefined;
let nextId = 1;
const app = document.getElementById('app')!;

// ---------- start-up and session ----------

async function boot(): Promise<void> {
  setLanguage(detectLanguage());
  let apiUrl = '/api';
  try {
    const config = (await (await fetch('/config.json', { cache: 'no-store' })).json()) as { apiUrl?: string };
    if (config.apiUrl) apiUrl = config.apiUrl;
  } catch {
    // No config.json (e.g. a bare dev server): the API is expected under /api.
  }
  state.api = new ApiClient(apiUrl);
  const stored = readStoredSession();
  if (stored) {
    state.session = stored;
    state.api.token = stored.token;
    try {
      await resume(await state.api.getSession(stored.sessionId));
      return;
    } catch (error) {
      forgetSession();
      state.codeError = error instanceof ApiError ? errorText(error) : t('error.network');
    }
  }
  show('code');
}

async function resume(session: SessionState): Promise<void> {
  if (session.limits) state.session!.limits = session.limits;
  if (session.institution) state.session!.institution = session.institution;
  if (session.status === 'ACCEPTED' || session.status === 'REJECTED') {
    state.result = session;
    forgetSession();
    show('result');
    return;
  }
  if (session.status !== 'OPEN') {
    forgetSession();
    state.codeError = message('UNAUTHORIZED', [], currentLanguage());
    show('code');
    return;
  }
  // Files that reached the bucket before the reload stay; the rest are declared again later.
  for (const file of session.files ?? []) {
    if (file.status === 'RECEIVED' || file.status === 'VERIFIED') {
      state.selection.add({
        id: `c${nextId++}`,
        name: file.name,
        path: file.name,
        size: file.size,
        kind: file.kind,
        sourceKey: `server:${file.fileId}`,
        uploaded: true,
        fileId: file.fileId,
        ...(file.kind === 'dicom' ? { dicom: { studyInstanceUid: file.studyInstanceUid ?? '' } } : { linkedStudy: file.studyInstanceUid }),
      });
    } else if (file.status === 'RESERVED') {
      state.staleFileIds.push(file.fileId);
    }
  }
  const uploaded = state.selection.all().filter((i) => i.uploaded).length;
  if (uploaded > 0) state.notice = t('resume.notice', { count: uploaded });
  show('select');
}

function readStoredSession(): StoredSession | undefined {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    return raw ? (JSON.parse(raw) as StoredSession) : undefined;
  } catch {
    return undefined;
  }
}

function storeSession(created: CreatedSession): void {
  state.session = { sessionId: created.sessionId, token: created.token, institution: created.institution, limits: created.limits };
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(state.session));
}

function forgetSession(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}

async function submitCode(code: string): Promise<void> {
  const uploadCode = code.trim().toUpperCase();
  if (!uploadCode) {
    state.codeError = t('code.empty');
    render();
    return;
  }
  state.busy = true;
  state.codeError = undefined;
  render();
  try {
    const created = await state.api.createSession(uploadCode);
    state.api.token = created.token;
    storeSession(created);
    state.busy = false;
    if (created.status !== 'OPEN') {
      await resume(await state.api.getSession(created.sessionId));
    } else {
      await resume(await state.api.getSession(created.sessionId).catch(() => ({ status: 'OPEN', limits: created.limits, usage: created.usage, files: [] }) as SessionState));
    }
  } catch (error) {
    state.busy = false;
    state.codeError = error instanceof ApiError ? errorText(error) : t('error.network');
    render();
  }
}

/** The server's message for an API error, in the chosen language when we have the code in our catalog. */
function errorText(error: ApiError): string {
  if (error.status === 0) return t('error.network');
  if (error.status === 401 || error.status === 404) return message(error.code === 'INVALID_CODE' ? 'INVALID_CODE' : error.code === 'UNAUTHORIZED' ? 'UNAUTHORIZED' : 'INVALID_CODE', [], currentLanguage());
  if (error.status === 429) return message('RATE_LIMITED', [], currentLanguage());
  if (error.code === 'SESSION_REVOKED') return message('SESSION_REVOKED', [], currentLanguage());
  return error.message;
}

// ---------- adding files ----------

function addPicked(files: PickedFile[]): void {
  if (files.length === 0) return;
  scanner ??= new HeaderScanner();
  const jobs: { id: string; blob: Blob }[] = [];
  const picked = new Map<string, PickedFile>();
  for (const f of files) {
    const id = `c${nextId++}`;
    picked.set(id, f);
    jobs.push({ id, blob: f.file });
  }
  state.scanning.total += jobs.length;
  state.notice = undefined;
  render();
  const work = scanner
    .scanFiles(jobs, (results) => {
      for (const { id, result } of results) {
        const f = picked.get(id)!;
        picked.delete(id);
        state.scanning.done++;
        if (result.kind === 'zip') {
          void openZip(f);
          continue;
        }
        accept(id, f.file.name, f.path, f.file.size, `${f.path}|${f.file.size}|${f.file.lastModified}`, result, async () => f.file);
      }
      scheduleRender();
    })
    .catch(() => {
      // Whatever the worker did not answer for is listed as unreadable, so reading never hangs.
      for (const f of picked.values()) {
        state.scanning.done++;
        state.selection.skip({ name: f.file.name, path: f.path, reason: 'unreadable' });
      }
      state.notice = t('scan.failed');
    })
    .finally(() => {
      picked.clear();
      render();
    });
  void work;
}

async function openZip(f: PickedFile): Promise<void> {
  state.scanning.total++;
  try {
    await scanner!.scanZip(f.file, (entries) => {
      for (const { entry, dataStart, result } of entries) {
        const id = `c${nextId++}`;
        const name = entry.name.split('/').pop() || entry.name;
        const path = `${f.path}/${entry.name}`;
        const type = result.kind === 'attachment' ? result.contentType : '';
        accept(id, name, path, entry.size, `${path}|${entry.size}|${f.file.lastModified}`, result, () => entryBlob(f.file, entry, dataStart, type));
      }
      scheduleRender();
    });
  } catch {
    state.selection.skip({ name: f.file.name, path: f.path, reason: 'unreadable' });
  } finally {
    state.scanning.done++;
    render();
  }
}

function accept(id: string, name: string, path: string, size: number, sourceKey: string, result: ScanResult, body: () => Promise<Blob>): void {
  if (result.kind === 'skip' || result.kind === 'dicomdir' || result.kind === 'zip') {
    state.selection.skip({ name, path, reason: result.kind === 'skip' ? result.reason : result.kind === 'dicomdir' ? 'dicomdir' : 'unsupported' });
    return;
  }
  // The same file from a resumed session is already on the server: keep that one.
  const studyUid = result.kind === 'dicom' ? result.dicom.studyInstanceUid : undefined;
  const already = state.selection
    .all()
    .find((i) => i.uploaded && i.name === name && i.size === size && (studyUid === undefined || i.dicom?.studyInstanceUid === studyUid));
  if (already) {
    if (result.kind === 'dicom') already.dicom = result.dicom;
    return;
  }
  const item: SelectedItem =
    result.kind === 'dicom'
      ? { id, name, path, size, kind: 'dicom', dicom: result.dicom, contentType: 'application/dicom', sourceKey }
      : { id, name, path, size, kind: 'attachment', attachmentType: result.attachmentType, contentType: result.contentType, sourceKey };
  if (state.selection.add(item)) state.bodies.set(id, body);
}

let renderTimer: ReturnType<typeof setTimeout> | undefined;
function scheduleRender(): void {
  renderTimer ??= setTimeout(() => {
    renderTimer = undefined;
    render();
  }, 200);
}

// ---------- removing and linking ----------

function removeItems(ids: string[]): void {
  const doomed = ids.map((id) => state.selection.get(id)).filter((i): i is SelectedItem => Boolean(i));
  for (const item of doomed) {
    if (item.fileId) void state.api.removeFile(state.session!.sessionId, item.fileId).catch(() => undefined);
    state.bodies.delete(item.id);
    state.selectedUnlinked.delete(item.id);
  }
  state.selection.remove(ids);
  state.linkRefusal = undefined;
  state.serverViolations = [];
  render();
}

function removeStudy(uid: string, evaluation: Evaluation): void {
  const ids = state.selection
    .all()
    .filter((i) => state.selection.studyOf(i, evaluation.autoLinks) === uid)
    .map((i) => i.id);
  state.comments.delete(uid);
  removeItems(ids);
}

function linkSelected(uid: string): void {
  const ids = [...state.selectedUnlinked];
  if (ids.length === 0 || !uid) return;
  const refused = state.selection.link(ids, uid, state.session!.limits, currentLanguage());
  state.linkRefusal = refused ?? undefined;
  if (!refused) state.selectedUnlinked.clear();
  render();
}

// ---------- upload ----------

function canStart(evaluation: Evaluation): { ok: boolean; reason?: UiKey } {
  if (state.scanning.done < state.scanning.total) return { ok: false, reason: 'start.waitScan' };
  if (!state.selection.all().some((i) => i.kind === 'dicom')) return { ok: false, reason: 'start.needDicom' };
  if (evaluation.violations.length > 0) return { ok: false, reason: 'start.fixProblems' };
  if (!state.consent.privacy || !state.consent.sharing) return { ok: false, reason: 'start.needConsent' };
  return { ok: true };
}

async function startUpload(): Promise<void> {
  const session = state.session!;
  const evaluation = state.selection.evaluate(session.limits, currentLanguage());
  if (!canStart(evaluation).ok) return;
  state.serverViolations = [];
  state.serverError = undefined;
  state.finishing = false;
  await Promise.allSettled(state.staleFileIds.splice(0).map((fileId) => state.api.removeFile(session.sessionId, fileId)));
  const jobs: UploadJob[] = [];
  for (const item of state.selection.all()) {
    if (item.uploaded) continue;
    const studyInstanceUid = state.selection.studyOf(item, evaluation.autoLinks)!;
    jobs.push({
      clientId: item.id,
      name: item.name,
      size: item.size,
      kind: item.kind,
      studyInstanceUid,
      ...(item.dicom?.sopInstanceUid ? { sopInstanceUid: item.dicom.sopInstanceUid } : {}),
      ...(item.contentType ? { contentType: item.contentType } : {}),
      body: state.bodies.get(item.id)!,
    });
  }
  state.resultStudies = evaluation.studySummaries;
  const manager = new UploadManager(jobs, {
    sessionId: session.sessionId,
    api: state.api,
    transfer: xhrTransfer,
    maxDicomFilesAtOnce: session.limits.maxDicomFilesAtOnce,
    onProgress: (progress) => {
      state.progress = progress;
      updateProgress();
    },
  });
  state.manager = manager;
  state.progress = undefined;
  show('uploading');
  try {
    await manager.run();
  } catch (error) {
    markUploaded(manager);
    state.manager = undefined;
    if (error instanceof UploadCancelledError) state.notice = t('upload.cancelled');
    else if (error instanceof ApiError && error.violations.length > 0) state.serverViolations = error.violations;
    else if (error instanceof ApiError) state.serverError = errorText(error);
    else if (error instanceof UploadFailedError) state.serverError = t('upload.failed', { name: error.fileName });
    else state.serverError = t('error.network');
    show('select');
    return;
  }
  markUploaded(manager);
  state.manager = undefined;
  state.finishing = true;
  updateProgress();
  await complete(evaluation);
}

function markUploaded(manager: UploadManager): void {
  for (const [clientId, fileId] of manager.uploaded) {
    const item = state.selection.get(clientId);
    if (item) Object.assign(item, { uploaded: true, fileId });
  }
}

/** Completes the session; while the inspector is still checking files (409) it waits and asks again. */
async function complete(evaluation: Evaluation): Promise<void> {
  const session = state.session!;
  const studies = evaluation.studySummaries.map((s) => {
    const comment = state.comments.get(s.studyInstanceUid)?.trim();
    return comment ? { studyInstanceUid: s.studyInstanceUid, comment } : { studyInstanceUid: s.studyInstanceUid };
  });
  const contact: { email?: string; phone?: string } = {};
  if (state.contact.email.trim()) contact.email = state.contact.email.trim();
  if (state.contact.phone.trim()) contact.phone = state.contact.phone.trim();
  const deadline = Date.now() + 5 * 60_000;
  for (let delay = 300; ; delay = Math.min(delay * 1.3, 2000)) {
    try {
      const answer = await state.api.complete(session.sessionId, { studies, contact, consent: { privacyPolicy: true, dataSharing: true } });
      // The completion answer is short; the session view adds the files for the summary.
      const view = await state.api.getSession(session.sessionId).catch(() => undefined);
      state.result = { ...(view ?? {}), ...answer, files: view?.files ?? [] } as SessionState;
      break;
    } catch (error) {
      if (error instanceof ApiError && error.status === 409 && error.code === 'FILES_PENDING' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, delay));
        continue;
      }
      if (error instanceof ApiError && error.status === 422) {
        // The server's verdict on the rules: show it as it came.
        state.serverViolations = error.violations;
        state.serverError = error.violations.length ? undefined : error.message;
        show('select');
        return;
      }
      state.serverError = error instanceof ApiError ? errorText(error) : t('error.network');
      show('select');
      return;
    }
  }
  forgetSession();
  show('result');
}

// ---------- rendering ----------

function show(screen: Screen): void {
  state.screen = screen;
  render();
  document.getElementById('screen-title')?.focus();
}

function render(): void {
  const focusedId = document.activeElement?.id;
  document.documentElement.lang = currentLanguage();
  document.title = t('app.title');
  const screen =
    state.screen === 'loading'
      ? h('p', { role: 'status' }, t('loading'))
      : state.screen === 'code'
        ? codeScreen()
        : state.screen === 'select'
          ? selectScreen()
          : state.screen === 'uploading'
            ? uploadingScreen()
            : resultScreen();
  app.replaceChildren(header(), h('main', { id: 'main', tabindex: '-1' }, screen));
  if (focusedId) document.getElementById(focusedId)?.focus();
}

function header(): HTMLElement {
  return h(
    'header',
    { class: 'top' },
    h('a', { class: 'skip-link', href: '#main' }, t('skip')),
    h('p', { class: 'brand' }, t('app.title')),
    h(
      'div',
      { class: 'lang' },
      h('label', { for: 'language' }, t('language')),
      h(
        'select',
        {
          id: 'language',
          onchange: (e: Event) => {
            setLanguage((e.target as HTMLSelectElement).value as never);
            render();
          },
        },
        languages.map((l) => h('option', { value: l.code, selected: l.code === currentLanguage(), lang: l.code }, l.name)),
      ),
    ),
  );
}

function codeScreen(): HTMLElement {
  const input = h('input', {
    id: 'upload-code',
    name: 'uploadCode',
    autocomplete: 'off',
    autocapitalize: 'characters',
    spellcheck: 'false',
    required: true,
    'aria-describedby': state.codeError ? 'code-help code-error' : 'code-help',
    'aria-invalid': state.codeError ? 'true' : undefined,
  });
  return h(
    'section',
    { class: 'card narrow', 'aria-labelledby': 'screen-title' },
    h('h1', { id: 'screen-title', tabindex: '-1' }, t('code.title')),
    h('p', { id: 'code-help' }, t('code.help')),
    h(
      'form',
      {
        onsubmit: (e: Event) => {
          e.preventDefault();
          void submitCode(input.value);
        },
      },
      h('label', { for: 'upload-code' }, t('code.label')),
      h('div', { class: 'row' }, input, h('button', { type: 'submit', class: 'primary', disabled: state.busy }, state.busy ? t('code.checking') : t('code.submit'))),
    ),
    state.codeError ? h('p', { id: 'code-error', class: 'error', role: 'alert' }, state.codeError) : null,
  );
}

function institutionCard(institution: Institution): HTMLElement {
  return h(
    'section',
    { class: 'card institution', 'aria-labelledby': 'institution-title' },
    h('h2', { id: 'institution-title' }, t('institution.title')),
    h('p', { class: 'institution-name' }, institution.name),
    h(
      'ul',
      { class: 'contact' },
      institution.phone ? h('li', {}, `${t('institution.phone')}: `, h('a', { href: `tel:${institution.phone.replace(/[^+\d]/g, '')}` }, institution.phone)) : null,
      institution.email ? h('li', {}, `${t('institution.email')}: `, h('a', { href: `mailto:${institution.email}` }, institution.email)) : null,
      institution.manualUrl ? h('li', {}, h('a', { href: institution.manualUrl, target: '_blank', rel: 'noopener' }, t('institution.manual'))) : null,
    ),
  );
}

function selectScreen(): HTMLElement {
  const session = state.session!;
  const evaluation = state.selection.evaluate(session.limits, currentLanguage());
  const scanning = state.scanning.done < state.scanning.total;
  return h(
    'div',
    { class: 'screen' },
    h('h1', { id: 'screen-title', tabindex: '-1', class: 'visually-hidden' }, t('select.screenTitle')),
    institutionCard(session.institution),
    state.notice ? h('p', { class: 'notice', role: 'status' }, state.notice) : null,
    panelSelect(scanning),
    state.selection.size > 0 ? panelVerify(evaluation) : null,
  );
}

/** A hidden file picker (the visible buttons open it); `pathOf` gives each picked file's path. */
function hiddenFileInput(id: string, pathOf: (file: File) => string, extra: Attrs = {}): HTMLInputElement {
  return h('input', {
    type: 'file',
    id,
    multiple: true,
    class: 'visually-hidden',
    tabindex: '-1',
    'aria-hidden': 'true',
    ...extra,
    onchange: (e: Event) => {
      const input = e.target as HTMLInputElement;
      addPicked([...(input.files ?? [])].map((file) => ({ file, path: pathOf(file) })));
      input.value = '';
    },
  });
}

function panelSelect(scanning: boolean): HTMLElement {
  const fileInput = hiddenFileInput('file-input', (file) => file.name);
  const folderInput = hiddenFileInput('folder-input', (file) => file.webkitRelativePath || file.name, { webkitdirectory: true });
  const drop = h(
    'div',
    {
      id: 'drop-zone',
      class: 'drop-zone',
      ondragover: (e: Event) => {
        e.preventDefault();
        (e.currentTarget as HTMLElement).classList.add('over');
      },
      ondragleave: (e: Event) => (e.currentTarget as HTMLElement).classList.remove('over'),
      ondrop: (e: Event) => {
        e.preventDefault();
        e.stopPropagation();
        (e.currentTarget as HTMLElement).classList.remove('over');
        const transfer = (e as DragEvent).dataTransfer;
        if (transfer) void collectDropped(transfer).then(addPicked);
      },
    },
    t('select.drop'),
  );
  const skipped = state.selection.skipped;
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'panel-select-title' },
    h('h2', { id: 'panel-select-title' }, t('select.title')),
    h('p', {}, t('select.help')),
    h(
      'div',
      { class: 'row' },
      h('button', { type: 'button', id: 'pick-files', onclick: () => fileInput.click() }, t('select.files')),
      h('button', { type: 'button', id: 'pick-folder', onclick: () => folderInput.click() }, t('select.folder')),
    ),
    fileInput,
    folderInput,
    drop,
    h(
      'p',
      // data-idle lets tests (and the benchmark) wait for reading to finish without guessing.
      { id: 'scan-status', role: 'status', 'aria-live': 'polite', 'data-idle': scanning ? 'false' : 'true', 'data-files': state.selection.size },
      state.scanning.total === 0 ? '' : scanning ? t('scan.progress', { done: state.scanning.done, total: state.scanning.total }) : t('scan.done', { count: state.selection.size }),
    ),
    skipped.length > 0
      ? h(
          'details',
          { class: 'skipped' },
          h('summary', {}, t('skipped.title', { count: skipped.length })),
          h(
            'ul',
            {},
            skipped.slice(0, 100).map((s) => h('li', {}, h('span', { class: 'file-name' }, s.path), ' — ', skipText(s.reason))),
            skipped.length > 100 ? h('li', {}, t('skipped.more', { count: skipped.length - 100 })) : null,
          ),
        )
      : null,
  );
}

function countsText(dicom: number, attachments: number, bytes: number): string {
  return t('study.counts', { dicom: t('count.dicom', { count: dicom }), attachments: t('count.attachments', { count: attachments }), size: formatBytes(bytes) });
}

function studyLabel(s: StudySummary): string {
  const parts = [formatPersonName(s.patientName), formatDicomDate(s.studyDate), s.studyDescription || s.modalities.join(', ')].filter(Boolean);
  return parts.length > 0 ? parts.join(' · ') : t('study.unnamed');
}

function adviceFor(v: Violation, evaluation: Evaluation): string | undefined {
  if (v.code !== 'SESSION_SIZE_LIMIT') return undefined;
  const limit = state.session!.limits.maxSessionBytes;
  if (evaluation.studySummaries.length > 1) return t('advice.sizeSeveral', { total: formatBytes(evaluation.totalBytes), limit: formatBytes(limit) });
  return t('advice.sizeOne', { total: formatBytes(evaluation.totalBytes), limit: formatBytes(limit) });
}

function violationList(violations: Violation[], evaluation: Evaluation, id: string): HTMLElement | null {
  if (violations.length === 0) return null;
  return h(
    'div',
    { class: 'problems', role: 'alert', id },
    h(
      'ul',
      {},
      violations.map((v) => {
        const files = (v.files ?? []).map((fid) => state.selection.get(fid)).filter((i): i is SelectedItem => Boolean(i));
        const advice = adviceFor(v, evaluation);
        return h(
          'li',
          { 'data-code': v.code },
          h('p', { class: 'problem-message' }, v.message),
          advice ? h('p', { class: 'advice' }, advice) : null,
          files.length > 0
            ? h(
                'ul',
                { class: 'files' },
                files.slice(0, 20).map((f) =>
                  h('li', {}, h('span', { class: 'file-name' }, f.path), ' ', h('button', { type: 'button', class: 'link', onclick: () => removeItems([f.id]), 'aria-label': t('file.removeNamed', { name: f.name }) }, t('file.remove'))),
                ),
              )
            : null,
        );
      }),
    ),
  );
}

function unlinkedBlock(evaluation: Evaluation): HTMLElement | null {
  if (evaluation.unlinked.length === 0) return null;
  const selectedCount = evaluation.unlinked.filter((i) => state.selectedUnlinked.has(i.id)).length;
  const addLabel = message('ADD_SELECTED_TO_STUDY', [selectedCount], currentLanguage());
  return h(
    'div',
    { class: 'unlinked', role: 'group', 'aria-labelledby': 'unlinked-title' },
    h('h3', { id: 'unlinked-title' }, message('UNLINKED_ATTACHMENTS', [], currentLanguage())),
    h(
      'ul',
      { class: 'unlinked-files' },
      evaluation.unlinked.map((item) => {
        const selected = state.selectedUnlinked.has(item.id);
        return h(
          'li',
          {},
          h(
            'button',
            {
              type: 'button',
              class: `file-toggle${selected ? ' selected' : ''}`,
              'aria-pressed': selected ? 'true' : 'false',
              id: `toggle-${item.id}`,
              onclick: () => {
                if (selected) state.selectedUnlinked.delete(item.id);
                else state.selectedUnlinked.add(item.id);
                state.linkRefusal = undefined;
                render();
              },
            },
            icon(selected ? 'check' : 'document'),
            h('span', { class: 'file-name' }, item.name),
          ),
          h('button', { type: 'button', class: 'link', onclick: () => removeItems([item.id]), 'aria-label': t('file.removeNamed', { name: item.name }) }, t('file.remove')),
        );
      }),
    ),
    h(
      'div',
      { class: 'link-row' },
      h('label', { for: 'link-target' }, addLabel),
      h(
        'select',
        {
          id: 'link-target',
          disabled: selectedCount === 0,
          onchange: (e: Event) => linkSelected((e.target as HTMLSelectElement).value),
        },
        h('option', { value: '' }, t('link.choose')),
        evaluation.studySummaries.map((s) => h('option', { value: s.studyInstanceUid }, studyLabel(s))),
      ),
    ),
    state.linkRefusal ? h('p', { class: 'error', role: 'alert', 'data-code': state.linkRefusal.code }, state.linkRefusal.message) : null,
  );
}

function studyCard(s: StudySummary, index: number, evaluation: Evaluation): HTMLElement {
  const titleId = `study-${index}-title`;
  const commentId = `comment-${index}`;
  const field = (label: UiKey, value: string | undefined) => [h('dt', {}, t(label)), h('dd', {}, value || '—')];
  const uploadedCount = state.selection.all().filter((i) => i.uploaded && state.selection.studyOf(i, evaluation.autoLinks) === s.studyInstanceUid).length;
  return h(
    'article',
    { class: 'study', 'aria-labelledby': titleId, 'data-study': s.studyInstanceUid },
    h('h3', { id: titleId }, studyLabel(s)),
    h(
      'div',
      { class: 'study-grid' },
      h('div', {}, h('h4', {}, t('study.patient')), h('dl', {}, field('study.patientName', formatPersonName(s.patientName)), field('study.birthDate', formatDicomDate(s.patientBirthDate)), field('study.patientId', s.patientId))),
      h(
        'div',
        {},
        h('h4', {}, t('study.study')),
        h(
          'dl',
          {},
          field('study.date', formatDicomDate(s.studyDate)),
          field('study.accession', s.accessionNumber),
          field('study.description', s.studyDescription),
          field('study.modalities', s.modalities.join(', ')),
        ),
      ),
    ),
    h(
      'p',
      { class: 'counts' },
      countsText(s.dicomFiles, s.attachments.length, s.bytes),
      uploadedCount > 0 ? ` ${t('study.uploadedEarlier', { count: uploadedCount })}` : '',
    ),
    s.attachments.length > 0
      ? h(
          'ul',
          { class: 'attachments', 'aria-label': t('study.attachments') },
          s.attachments.map((a) =>
            h('li', {}, icon('document'), ' ', h('span', { class: 'file-name' }, a.name), ' ', h('button', { type: 'button', class: 'link', onclick: () => removeItems([a.id]), 'aria-label': t('file.removeNamed', { name: a.name }) }, t('file.remove'))),
          ),
        )
      : null,
    h('label', { for: commentId }, t('study.comment')),
    h('textarea', {
      id: commentId,
      rows: 2,
      maxlength: 1000,
      value: state.comments.get(s.studyInstanceUid) ?? '',
      oninput: (e: Event) => state.comments.set(s.studyInstanceUid, (e.target as HTMLTextAreaElement).value),
    }),
    h('div', { class: 'row end' }, h('button', { type: 'button', class: 'danger', id: `remove-study-${index}`, onclick: () => removeStudy(s.studyInstanceUid, evaluation) }, t('study.remove'))),
  );
}

function panelVerify(evaluation: Evaluation): HTMLElement {
  const start = canStart(evaluation);
  const limits = state.session!.limits;
  const institution = state.session!.institution;
  const checkbox = (id: string, key: 'privacy' | 'sharing', label: Child) =>
    h(
      'div',
      { class: 'check' },
      h('input', {
        type: 'checkbox',
        id,
        checked: state.consent[key],
        required: true,
        onchange: (e: Event) => {
          state.consent[key] = (e.target as HTMLInputElement).checked;
          render();
        },
      }),
      h('label', { for: id }, label),
    );
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'panel-verify-title' },
    h('h2', { id: 'panel-verify-title' }, t('verify.title')),
    violationList(evaluation.blocking, evaluation, 'problems'),
    unlinkedBlock(evaluation),
    state.serverViolations.length > 0 || state.serverError
      ? h(
          'div',
          { class: 'problems server', role: 'alert', id: 'server-problems' },
          h('p', {}, t('verify.serverSaid')),
          h('ul', {}, state.serverViolations.map((v) => h('li', { 'data-code': v.code }, v.message)), state.serverError ? h('li', {}, state.serverError) : null),
        )
      : null,
    h(
      'p',
      { class: 'totals', id: 'totals' },
      t('verify.totals', { count: evaluation.studySummaries.length, size: formatBytes(evaluation.totalBytes), limit: formatBytes(limits.maxSessionBytes) }),
    ),
    h('div', { class: 'studies' }, evaluation.studySummaries.map((s, i) => studyCard(s, i, evaluation))),
    h(
      'fieldset',
      {},
      h('legend', {}, t('contact.title')),
      h('p', { class: 'hint' }, t('contact.help')),
      h(
        'div',
        { class: 'row' },
        h(
          'div',
          { class: 'field' },
          h('label', { for: 'contact-email' }, t('contact.email')),
          h('input', { id: 'contact-email', type: 'email', autocomplete: 'email', value: state.contact.email, oninput: (e: Event) => (state.contact.email = (e.target as HTMLInputElement).value) }),
        ),
        h(
          'div',
          { class: 'field' },
          h('label', { for: 'contact-phone' }, t('contact.phone')),
          h('input', { id: 'contact-phone', type: 'tel', autocomplete: 'tel', value: state.contact.phone, oninput: (e: Event) => (state.contact.phone = (e.target as HTMLInputElement).value) }),
        ),
      ),
    ),
    h(
      'fieldset',
      {},
      h('legend', {}, t('consent.title')),
      checkbox(
        'consent-privacy',
        'privacy',
        institution.privacyPolicyUrl
          ? [t('consent.privacyBefore'), h('a', { href: institution.privacyPolicyUrl, target: '_blank', rel: 'noopener' }, t('consent.privacyLink'))]
          : t('consent.privacy'),
      ),
      checkbox('consent-sharing', 'sharing', t('consent.sharing', { hospital: institution.name })),
    ),
    h(
      'div',
      { class: 'row start-row' },
      h('button', { type: 'button', id: 'start-upload', class: 'primary', disabled: !start.ok, 'aria-describedby': start.reason ? 'start-hint' : undefined, onclick: () => void startUpload() }, t('start.button')),
      start.reason ? h('p', { id: 'start-hint', class: 'hint' }, t(start.reason)) : null,
    ),
  );
}

function progressText(sent: number, total: number, secondsLeft?: number): string {
  const percent = total === 0 ? 100 : Math.floor((sent / total) * 100);
  const base = t('progress.bytes', { sent: formatBytes(sent), total: formatBytes(total), percent });
  if (secondsLeft === undefined || sent >= total) return base;
  const left = secondsLeft < 90 ? t('progress.secondsLeft', { n: secondsLeft }) : t('progress.minutesLeft', { n: Math.ceil(secondsLeft / 60) });
  return `${base} · ${left}`;
}

function progressRow(id: string, label: string, sent: number, total: number, secondsLeft?: number): HTMLElement {
  const percent = total === 0 ? 100 : Math.floor((sent / total) * 100);
  return h(
    'div',
    { class: 'progress-row' },
    h('label', { for: id }, label),
    h('progress', { id, max: 100, value: percent }),
    h('p', { id: `${id}-text`, class: 'progress-text' }, progressText(sent, total, secondsLeft)),
  );
}

function uploadingScreen(): HTMLElement {
  const p = state.progress;
  const byStudy = new Map(state.resultStudies.map((s) => [s.studyInstanceUid, s]));
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'screen-title' },
    h('h1', { id: 'screen-title', tabindex: '-1' }, t('upload.title')),
    h('p', { id: 'upload-status', role: 'status' }, state.finishing ? t('upload.finishing') : t('upload.keepOpen')),
    h('div', { id: 'overall' }, progressRow('progress-overall', t('progress.overall'), p?.sentBytes ?? 0, p?.totalBytes ?? 0, p?.secondsLeft)),
    h(
      'div',
      { class: 'study-progress' },
      (p?.studies ?? []).map((s, i) => {
        const summary = byStudy.get(s.studyInstanceUid);
        return progressRow(`progress-study-${i}`, summary ? studyLabel(summary) : t('study.unnamed'), s.sentBytes, s.totalBytes);
      }),
    ),
    h('button', { type: 'button', id: 'cancel-upload', class: 'danger', disabled: state.finishing, onclick: () => state.manager?.cancel() }, t('upload.cancel')),
  );
}

let progressFrame = 0;
/** Progress changes many times a second: update bars in place instead of rebuilding the page. */
function updateProgress(): void {
  if (progressFrame) return;
  progressFrame = requestAnimationFrame(() => {
    progressFrame = 0;
    const p = state.progress;
    if (state.screen !== 'uploading') return;
    const overall = document.getElementById('progress-overall') as HTMLProgressElement | null;
    const studies = document.querySelectorAll('.study-progress progress');
    if (!overall || (p && studies.length !== p.studies.length) || state.finishing) {
      render();
      return;
    }
    if (!p) return;
    const set = (id: string, sent: number, total: number, secondsLeft?: number) => {
      const bar = document.getElementById(id) as HTMLProgressElement | null;
      if (bar) bar.value = total === 0 ? 100 : Math.floor((sent / total) * 100);
      const text = document.getElementById(`${id}-text`);
      if (text) text.textContent = progressText(sent, total, secondsLeft);
    };
    set('progress-overall', p.sentBytes, p.totalBytes, p.secondsLeft);
    p.studies.forEach((s, i) => set(`progress-study-${i}`, s.sentBytes, s.totalBytes));
  });
}

function resultScreen(): HTMLElement {
  const result = state.result!;
  const accepted = result.status === 'ACCEPTED';
  const listed = result.reasons?.length ? result.reasons : (result.rejection ?? []);
  // One line per file and reason, even when the server reports a reason at inspection and again at completion.
  const reasons = listed.filter((r, i) => listed.findIndex((o) => o.code === r.code && o.fileId === r.fileId) === i);
  const files = result.files ?? [];
  const fileName = (fileId?: string) => files.find((f) => f.fileId === fileId)?.name;
  const byStudy = new Map<string, { dicom: number; attachments: number; bytes: number }>();
  for (const f of files) {
    if (f.status === 'REMOVED') continue;
    const key = f.studyInstanceUid ?? '';
    const s = byStudy.get(key) ?? { dicom: 0, attachments: 0, bytes: 0 };
    if (f.kind === 'dicom') s.dicom++;
    else s.attachments++;
    s.bytes += f.size;
    byStudy.set(key, s);
  }
  const labels = new Map(state.resultStudies.map((s) => [s.studyInstanceUid, studyLabel(s)]));
  const total = [...byStudy.values()].reduce((sum, s) => sum + s.bytes, 0);
  return h(
    'section',
    { class: `card result ${accepted ? 'accepted' : 'rejected'}`, 'aria-labelledby': 'screen-title', 'data-status': result.status },
    h('h1', { id: 'screen-title', tabindex: '-1' }, accepted ? t('result.accepted') : t('result.rejected')),
    accepted
      ? [
          h('p', {}, t('result.acceptedText', { hospital: state.session?.institution.name ?? '' })),
          h(
            'ul',
            { class: 'summary' },
            [...byStudy.entries()].map(([uid, s]) =>
              h('li', {}, h('strong', {}, labels.get(uid) ?? t('study.unnamed')), ': ', countsText(s.dicom, s.attachments, s.bytes)),
            ),
          ),
          h('p', {}, t('result.total', { size: formatBytes(total) })),
        ]
      : [
          h('p', {}, t('result.rejectedText')),
          h(
            'ul',
            { class: 'reasons' },
            reasons.map((r) => {
              const name = fileName(r.fileId);
              const text = r.code in messageCodes ? message(r.code, [], currentLanguage()) : r.message;
              return h('li', { 'data-code': r.code }, name ? [h('span', { class: 'file-name' }, name), ': '] : null, r.message && r.code === 'STUDY_SIZE_LIMIT' ? r.message : text);
            }),
          ),
          state.session?.institution.phone || state.session?.institution.email
            ? h('p', {}, t('result.contact', { phone: state.session?.institution.phone ?? '', email: state.session?.institution.email ?? '' }))
            : null,
        ],
    h(
      'button',
      {
        type: 'button',
        id: 'new-upload',
        onclick: () => {
          forgetSession();
          location.reload();
        },
      },
      t('result.again'),
    ),
  );
}

function skipText(reason: SkipReason): string {
  return reason === 'EXECUTABLE_PREAMBLE' || reason === 'NOT_PART10' ? message(reason, [], currentLanguage()) : t(`skipped.${reason}` as UiKey);
}

/** Reasons whose text has no parameters can be shown in the user's language; others as the server wrote them. */
const messageCodes: Record<string, true> = Object.fromEntries(
  ['NOT_DICOM', 'NOT_PART10', 'EXECUTABLE_PREAMBLE', 'DICOM_TRUNCATED', 'UNDECLARED_OBJECT', 'OBJECT_REPLACED', 'DICOMDIR_NOT_ALLOWED', 'STUDY_MISMATCH', 'SOP_MISMATCH', 'SIZE_MISMATCH', 'ATTACHMENT_TYPE_MISMATCH', 'FILE_MISSING', 'ATTACHMENT_WITHOUT_DICOM', 'UNLINKED_ATTACHMENTS', 'DUPLICATE_SOP_INSTANCE', 'SESSION_SIZE_LIMIT', 'SESSION_SIZE_LIMIT_NEW_CODE', 'ATTACHMENT_STUDY_UNKNOWN'].map((c) => [c, true]),
);

// Files dropped outside the drop zone must not make the browser navigate away from the session.
window.addEventListener('dragover', (e) => e.preventDefault());
window.addEventListener('drop', (e) => {
  e.preventDefault();
  if (state.screen === 'select' && e.dataTransfer) void collectDropped(e.dataTransfer).then(addPicked);
});

void boot();
