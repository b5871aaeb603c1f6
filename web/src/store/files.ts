/**
 * File actions: adding picked or dropped files (headers read in the worker), removing files and
 * whole studies (with undo), and linking attachments to a study.
 */
import { batch } from '@preact/signals';
import { currentLanguage, t } from '../i18n';
import type { PickedFile } from '../picking';
import type { ScanResult } from '../scan';
import { HeaderScanner } from '../scanner';
import type { SelectedItem } from '../selection';
import { entryBlob } from '../zip';
import { studyLabel } from '../format';
import { addOrRecognise } from './recognise';
import * as s from './state';

let scanner: HeaderScanner | undefined;
let nextId = 1;

export function nextClientId(): string {
  return `c${nextId++}`;
}

function countScanned(total: number, done: number): void {
  const now = s.scanning.value;
  s.scanning.value = { total: now.total + total, done: now.done + done };
}

/** While thousands of headers arrive, the evaluation runs at most every 200 ms. */
let changeTimer: ReturnType<typeof setTimeout> | undefined;
function scheduleChange(): void {
  changeTimer ??= setTimeout(() => {
    changeTimer = undefined;
    s.selectionChanged();
  }, 200);
}

export function addPicked(files: PickedFile[]): void {
  if (files.length === 0) return;
  scanner ??= new HeaderScanner();
  const picked = new Map<string, PickedFile>();
  const jobs = files.map((file) => {
    const id = nextClientId();
    picked.set(id, file);
    return { id, blob: file.file };
  });
  batch(() => {
    countScanned(jobs.length, 0);
    s.notice.value = undefined;
  });
  void scanner
    .scanFiles(jobs, (results) => {
      for (const { id, result } of results) {
        const f = picked.get(id)!;
        picked.delete(id);
        if (result.kind === 'zip') void openZip(f);
        else accept(id, f.file.name, f.path, f.file.size, `${f.path}|${f.file.size}|${f.file.lastModified}`, result, async () => f.file);
      }
      countScanned(0, results.length);
      scheduleChange();
    })
    .catch(() => {
      // Whatever the worker did not answer for is listed as unreadable, so reading never hangs.
      for (const f of picked.values()) s.selection.skip({ name: f.file.name, path: f.path, reason: 'unreadable' });
      countScanned(0, picked.size);
      s.notice.value = t('scan.failed');
    })
    .finally(() => {
      picked.clear();
      s.selectionChanged();
    });
}

async function openZip(f: PickedFile): Promise<void> {
  countScanned(1, 0);
  try {
    await scanner!.scanZip(f.file, (entries) => {
      for (const { entry, dataStart, result } of entries) {
        const name = entry.name.split('/').pop() || entry.name;
        const path = `${f.path}/${entry.name}`;
        const type = result.kind === 'attachment' ? result.contentType : '';
        accept(nextClientId(), name, path, entry.size, `${path}|${entry.size}|${f.file.lastModified}`, result, () => entryBlob(f.file, entry, dataStart, type));
      }
      scheduleChange();
    });
  } catch {
    s.selection.skip({ name: f.file.name, path: f.path, reason: 'unreadable' });
  } finally {
    countScanned(0, 1);
    s.selectionChanged();
  }
}

function accept(id: string, name: string, path: string, size: number, sourceKey: string, result: ScanResult, body: () => Promise<Blob>): void {
  if (result.kind === 'skip' || result.kind === 'dicomdir' || result.kind === 'zip') {
    s.selection.skip({ name, path, reason: result.kind === 'skip' ? result.reason : result.kind === 'dicomdir' ? 'dicomdir' : 'unsupported' });
    return;
  }
  const item: SelectedItem =
    result.kind === 'dicom'
      ? { id, name, path, size, kind: 'dicom', dicom: result.dicom, contentType: 'application/dicom', sourceKey }
      : { id, name, path, size, kind: 'attachment', attachmentType: result.attachmentType, contentType: result.contentType, sourceKey };
  // The scan is not over while a file is hashed to tell whether the reloaded session holds it already.
  addOrRecognise(item, body, (busy) => (busy ? countScanned(1, 0) : (countScanned(0, 1), scheduleChange())));
}

/** Removes files; those already on the server are removed there too. */
export function removeItems(ids: string[]): void {
  commitRemovedStudy();
  dropItems(ids, true);
}

function dropItems(ids: string[], fromServer: boolean): SelectedItem[] {
  const items = ids.map((id) => s.selection.get(id)).filter((i): i is SelectedItem => Boolean(i));
  const unlinked = new Set(s.selectedUnlinked.value);
  for (const item of items) {
    if (fromServer && item.fileId) void s.apiClient().removeFile(s.session.value!.sessionId, item.fileId).catch(() => undefined);
    unlinked.delete(item.id);
  }
  s.selection.remove(ids);
  batch(() => {
    s.selectedUnlinked.value = unlinked;
    s.linkRefusal.value = undefined;
    s.serverViolations.value = [];
    s.selectionChanged();
  });
  return items;
}

/** Removes a study and the attachments linked to it; undoStudyRemoval() brings it back. */
export function removeStudy(studyInstanceUid: string): void {
  commitRemovedStudy();
  const evaluation = s.evaluation.value!;
  const study = evaluation.studySummaries.find((x) => x.studyInstanceUid === studyInstanceUid);
  const ids = s.selection
    .all()
    .filter((i) => s.selection.studyOf(i, evaluation.autoLinks) === studyInstanceUid)
    .map((i) => i.id);
  const bodies = new Map(ids.flatMap((id) => (s.bodies.has(id) ? [[id, s.bodies.get(id)!] as const] : [])));
  const { [studyInstanceUid]: comment, ...otherComments } = s.comments.value;
  // Files on the server stay there until the removal is final: an undo must find them.
  const items = dropItems(ids, false);
  const label = study ? studyLabel(study) : t('study.unnamed');
  batch(() => {
    s.comments.value = otherComments;
    s.removedStudy.value = { label, items: items.map((i) => ({ ...i, linkedStudy: i.kind === 'attachment' ? studyInstanceUid : i.linkedStudy })), bodies, comment };
    s.announcement.value = t('study.removed', { study: label });
  });
}

export function undoStudyRemoval(): void {
  const removed = s.removedStudy.value;
  if (!removed) return;
  for (const item of removed.items) s.selection.add(item);
  for (const [id, body] of removed.bodies) s.bodies.set(id, body);
  const uid = removed.items.find((i) => i.kind === 'dicom')?.dicom?.studyInstanceUid;
  batch(() => {
    if (uid && removed.comment) s.comments.value = { ...s.comments.value, [uid]: removed.comment };
    s.removedStudy.value = undefined;
    s.announcement.value = t('study.restored', { study: removed.label });
    s.selectionChanged();
  });
}

/** Makes a pending study removal final: its files already on the server are removed there. */
export function commitRemovedStudy(): void {
  const removed = s.removedStudy.value;
  if (!removed) return;
  s.removedStudy.value = undefined;
  for (const item of removed.items) {
    s.bodies.delete(item.id);
    if (item.fileId) void s.apiClient().removeFile(s.session.value!.sessionId, item.fileId).catch(() => undefined);
  }
}

export function toggleUnlinked(id: string, selected: boolean): void {
  const next = new Set(s.selectedUnlinked.value);
  if (selected) next.add(id);
  else next.delete(id);
  batch(() => {
    s.selectedUnlinked.value = next;
    s.linkRefusal.value = undefined;
  });
}

/** Links the selected attachments to a study; false (and the rule's message shown) when the rule refuses. */
export function linkSelected(studyInstanceUid: string): boolean {
  const ids = [...s.selectedUnlinked.value];
  if (ids.length === 0) return false;
  const refused = s.selection.link(ids, studyInstanceUid, s.session.value!.limits, currentLanguage());
  if (refused) {
    s.linkRefusal.value = refused;
    return false;
  }
  const study = s.evaluation.value?.studySummaries.find((x) => x.studyInstanceUid === studyInstanceUid);
  batch(() => {
    s.selectedUnlinked.value = new Set();
    s.linkRefusal.value = undefined;
    s.announcement.value = t('link.done', { count: ids.length, study: study ? studyLabel(study) : t('study.unnamed') });
    s.selectionChanged();
  });
  return true;
}
