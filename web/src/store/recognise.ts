/**
 * After a reload, the files added again are recognised by their bytes (SHA-256, never by name):
 * one that already arrived is not sent again, one declared but not (all) sent continues that
 * declaration (a fresh URL, or its multipart upload from the parts S3 holds). Only a file of the
 * same size as one of the reloaded session is hashed here; its hashes are kept for the upload.
 */
import { workerHasher } from '../hasher';
import type { BlobHashes } from '../hashing';
import type { SelectedItem } from '../selection';
import * as s from './state';

/** Files hashed at once: each holds one slice in the worker; more would only compete for the disk. */
const PARALLEL_HASHES = 2;
let running = 0;
const queue: (() => void)[] = [];
/** Items of the reloaded session already matched by a file added again. */
const recognised = new Set<string>();
const unmatchedStored = (i: SelectedItem) => i.uploaded === true && i.sha256 !== undefined && i.sourceKey.startsWith('server:') && !recognised.has(i.id);

async function hashInTurn(body: () => Promise<Blob>): Promise<BlobHashes | undefined> {
  if (running >= PARALLEL_HASHES) await new Promise<void>((resolve) => queue.push(resolve));
  running++;
  try {
    return await workerHasher(await body());
  } catch {
    // Unreadable now: it is added as a new file, whose upload reports the problem.
    return undefined;
  } finally {
    running--;
    queue.shift()?.();
  }
}

/** A file of the reloaded session this one could be: same kind and size, not yet matched. */
function couldBe(item: SelectedItem): boolean {
  const size = item.size;
  return (
    s.awaited.value.some((a) => a.size === size && a.kind === item.kind && a.sha256) ||
    s.selection.all().some((i) => unmatchedStored(i) && i.size === size && i.kind === item.kind)
  );
}

/** Adds a picked file to the selection, unless it is one the reloaded session holds already; `whenHashing` brackets the hashing. */
export function addOrRecognise(item: SelectedItem, body: () => Promise<Blob>, whenHashing: (busy: boolean) => void): void {
  if (!couldBe(item)) {
    if (s.selection.add(item)) s.bodies.set(item.id, body);
    return;
  }
  whenHashing(true);
  void hashInTurn(body)
    .then((hashes) => settle(item, body, hashes))
    .finally(() => whenHashing(false));
}

function settle(item: SelectedItem, body: () => Promise<Blob>, hashes: BlobHashes | undefined): void {
  const known = hashes ? { sha256: hashes.sha256, ...(hashes.parts ? { partHashes: hashes.parts } : {}) } : {};
  const stored = hashes && s.selection.all().find((i) => unmatchedStored(i) && i.sha256 === hashes.sha256);
  if (stored) {
    // Already on the server: it stays as it is, now with the header read from the file.
    if (!s.selection.claim(item.sourceKey)) return;
    if (item.dicom) stored.dicom = item.dicom;
    recognised.add(stored.id);
    s.resumeNotice.value = undefined;
    return;
  }
  const awaited = hashes && s.awaited.value.find((a) => a.sha256 === hashes.sha256 && a.size === item.size);
  if (awaited) s.awaited.value = s.awaited.value.filter((a) => a !== awaited);
  // An attachment continues in the study it was declared with.
  const link = awaited?.kind === 'attachment' && awaited.studyInstanceUid ? { linkedStudy: awaited.studyInstanceUid } : {};
  const added: SelectedItem = { ...item, ...known, ...(awaited ? { fileId: awaited.fileId, ...link } : {}) };
  if (s.selection.add(added)) s.bodies.set(added.id, body);
  else if (awaited) s.awaited.value = [...s.awaited.value, awaited];
}
