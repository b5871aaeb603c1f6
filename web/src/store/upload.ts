/**
 * Upload actions: start (through the transfer layer in uploader.ts, which this file only drives),
 * cancel, complete, and each study's state (waiting, uploading, uploaded, delivered).
 */
import { batch } from '@preact/signals';
import { ApiError } from '../api';
import { t, type UiKey } from '../i18n';
import { workerHasher } from '../hasher';
import type { UploadJob, UploadManager, UploadProgress } from '../uploader';
import type { Evaluation } from '../selection';
import { completeAndWait } from './completion';
import { commitRemovedStudy } from './files';
import { errorText, forgetSession } from './session';
import * as s from './state';

let manager: UploadManager | undefined;

export function startBlocker(evaluation: Evaluation): UiKey | undefined {
  if (s.scanBusy.value) return 'start.waitScan';
  if (!s.selection.all().some((i) => i.kind === 'dicom')) return 'start.needDicom';
  if (evaluation.violations.length > 0) return 'start.fixProblems';
  if (!s.consent.value.privacy || !s.consent.value.sharing) return 'start.needConsent';
  return undefined;
}

function jobsFor(evaluation: Evaluation): UploadJob[] {
  const jobs: UploadJob[] = [];
  for (const item of s.selection.all()) {
    if (item.uploaded) continue;
    jobs.push({
      clientId: item.id,
      name: item.name,
      size: item.size,
      kind: item.kind,
      studyInstanceUid: s.selection.studyOf(item, evaluation.autoLinks)!,
      ...(item.dicom?.sopInstanceUid ? { sopInstanceUid: item.dicom.sopInstanceUid } : {}),
      ...(item.contentType ? { contentType: item.contentType } : {}),
      ...(item.sha256 ? { sha256: item.sha256 } : {}),
      ...(item.partHashes ? { partHashes: item.partHashes } : {}),
      // Declared already (before a reload, or by an attempt that stopped): continued, not declared again.
      ...(item.fileId ? { fileId: item.fileId } : {}),
      body: s.bodies.get(item.id)!,
    });
  }
  return jobs;
}

/** Progress arrives many times a second; the screen takes at most one update per frame. */
let pending: UploadProgress | undefined;
function showProgress(next: UploadProgress): void {
  if (pending === undefined) requestAnimationFrame(() => ((s.progress.value = pending), (pending = undefined)));
  pending = next;
}

export async function startUpload(): Promise<void> {
  const current = s.session.value!;
  const evaluation = s.evaluation.value!;
  if (startBlocker(evaluation)) return;
  commitRemovedStudy();
  batch(() => {
    s.serverViolations.value = [];
    s.serverError.value = undefined;
    s.finishing.value = false;
    s.progress.value = undefined;
    s.resultStudies.value = evaluation.studySummaries;
    s.uploading.value = true;
    s.screen.value = 'uploading';
  });
  await leaveOutAwaited(current.sessionId);
  let transfers: typeof import('../uploader');
  try {
    // The transfer layer loads when an upload starts, so the page a patient first sees does not carry it.
    transfers = await import('../uploader');
  } catch (error) {
    backToSelect(() => (s.serverError.value = errorText(error)));
    return;
  }
  const { UploadCancelledError, UploadFailedError, UploadManager, xhrTransfer } = transfers;
  manager = new UploadManager(jobsFor(evaluation), {
    sessionId: current.sessionId,
    api: s.apiClient(),
    transfer: xhrTransfer,
    hash: workerHasher,
    maxDicomFilesAtOnce: current.limits.maxDicomFilesAtOnce,
    onProgress: showProgress,
  });
  try {
    await manager.run();
  } catch (error) {
    markUploaded();
    backToSelect(() => {
      if (error instanceof UploadCancelledError) s.notice.value = t('upload.cancelled');
      else if (error instanceof ApiError && error.violations.length > 0) s.serverViolations.value = error.violations;
      else if (error instanceof UploadFailedError) s.serverError.value = t('upload.failed', { name: error.fileName });
      else s.serverError.value = errorText(error);
    });
    return;
  }
  markUploaded();
  s.finishing.value = true;
  await complete(evaluation);
}

export function cancelUpload(): void {
  manager?.cancel();
}

function backToSelect(say: () => void): void {
  batch(() => {
    say();
    s.uploading.value = false;
    s.screen.value = 'select';
    s.selectionChanged();
  });
}

/**
 * Declarations of a reloaded session whose file was not added again are what the user chose to
 * leave out: released before the upload (the notice said so), so completion does not wait for them.
 */
async function leaveOutAwaited(sessionId: string): Promise<void> {
  const left = s.awaited.value;
  if (left.length === 0) return;
  s.awaited.value = [];
  await Promise.allSettled(left.map((file) => s.apiClient().removeFile(sessionId, file.fileId)));
}

/** What the attempt achieved: files sent are uploaded; files declared and not sent keep their declaration for the next attempt. */
function markUploaded(): void {
  if (!manager) return;
  for (const [clientId, fileId] of manager.uploaded) {
    const item = s.selection.get(clientId);
    if (item) Object.assign(item, { uploaded: true, fileId });
  }
  for (const item of s.selection.all()) {
    if (item.uploaded) continue;
    const fileId = manager.unsent.get(item.id);
    if (fileId) item.fileId = fileId;
    else if (item.fileId) {
      // Released (S3 refused its bytes): declared afresh, and hashed again, next time.
      delete item.fileId;
      delete item.sha256;
      delete item.partHashes;
    }
  }
  manager = undefined;
}

/** Completes the session; while the inspector is still checking files (409) it waits and asks again. */
async function complete(evaluation: Evaluation): Promise<void> {
  const sessionId = s.session.value!.sessionId;
  const studies = evaluation.studySummaries.map(({ studyInstanceUid }) => {
    const comment = s.comments.value[studyInstanceUid]?.trim();
    return comment ? { studyInstanceUid, comment } : { studyInstanceUid };
  });
  const contact: { email?: string; phone?: string } = {};
  if (s.contact.value.email.trim()) contact.email = s.contact.value.email.trim();
  if (s.contact.value.phone.trim()) contact.phone = s.contact.value.phone.trim();
  const deadline = Date.now() + 5 * 60_000;
  for (let delay = 300; ; delay = Math.min(delay * 1.3, 2000)) {
    try {
      const answer = await completeAndWait(s.apiClient(), sessionId, { studies, contact, consent: { privacyPolicy: true, dataSharing: true } });
      // The completion answer is short; the session view adds the files and studies for the summary.
      const view = await s.apiClient().getSession(sessionId).catch(() => undefined);
      batch(() => {
        s.result.value = { ...view, ...answer, files: view?.files ?? [], studies: view?.studies ?? [] };
        s.completedAt.value = new Date();
        s.uploading.value = false;
        s.screen.value = 'result';
      });
      forgetSession();
      return;
    } catch (error) {
      if (error instanceof ApiError && error.status === 409 && error.code === 'FILES_PENDING' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, delay));
        continue;
      }
      backToSelect(() => {
        if (error instanceof ApiError && error.status === 422 && error.violations.length > 0) s.serverViolations.value = error.violations;
        else s.serverError.value = errorText(error);
      });
      return;
    }
  }
}

export type StudyState =
  | { kind: 'waiting' }
  | { kind: 'resumed'; count: number }
  | { kind: 'uploading'; percent: number }
  | { kind: 'uploaded' }
  | { kind: 'delivering' }
  | { kind: 'delivered' }
  | { kind: 'followUp' };

/**
 * Where a study stands. After acceptance the session view's per-study `delivery` decides: being
 * delivered, delivered, or (a failed delivery) left to the hospital; without one it is "Uploaded".
 */
export function studyState(studyInstanceUid: string): StudyState {
  const done = s.result.value;
  if (done) {
    const delivery = done.studies?.find((x) => x.studyInstanceUid === studyInstanceUid)?.delivery?.state;
    if (!delivery) return { kind: 'uploaded' };
    return delivery === 'DELIVERED' ? { kind: 'delivered' } : delivery === 'FAILED' ? { kind: 'followUp' } : { kind: 'delivering' };
  }
  const p = s.progress.value?.studies.find((x) => x.studyInstanceUid === studyInstanceUid);
  if (s.uploading.value && p) {
    if (p.sentBytes >= p.totalBytes) return { kind: 'uploaded' };
    return p.sentBytes > 0 ? { kind: 'uploading', percent: Math.floor((p.sentBytes / p.totalBytes) * 100) } : { kind: 'waiting' };
  }
  const study = s.evaluation.value?.studySummaries.find((x) => x.studyInstanceUid === studyInstanceUid);
  const files = study ? study.dicomFiles + study.attachments.length : 0;
  if (files === 0 || s.uploadedByStudy.value.get(studyInstanceUid) !== files) return { kind: 'waiting' };
  // After a reload only the files that arrived are known: the study may have more still to add.
  return s.resumeNotice.value ? { kind: 'resumed', count: files } : { kind: 'uploaded' };
}
