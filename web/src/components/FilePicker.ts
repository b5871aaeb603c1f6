/** Step 1: the file and folder pickers, the drop zone, reading progress and the files left out. */
import { h } from 'preact';
import { message } from '../../../lambdas/core/messages';
import { currentLanguage, t, type UiKey } from '../i18n';
import type { SkipReason } from '../selection';
import { collectDropped } from '../picking';
import { addPicked } from '../store/files';
import * as s from '../store/state';

/** A hidden file input (the visible buttons open it); `pathOf` gives each picked file's path. */
function HiddenFileInput({ id, pathOf, folder }: { id: string; pathOf: (file: File) => string; folder?: boolean }) {
  return h('input', {
    type: 'file',
    id,
    multiple: true,
    class: 'visually-hidden',
    tabIndex: -1,
    'aria-hidden': 'true',
    ...(folder ? { webkitdirectory: true } : {}),
    onChange: (e: Event) => {
      const input = e.currentTarget as HTMLInputElement;
      addPicked([...(input.files ?? [])].map((file) => ({ file, path: pathOf(file) })));
      input.value = '';
    },
  });
}

function DropZone() {
  const zone = (e: Event) => e.currentTarget as HTMLElement;
  return h(
    'div',
    {
      id: 'drop-zone',
      class: 'drop-zone',
      onDragOver: (e: DragEvent) => {
        e.preventDefault();
        zone(e).classList.add('over');
      },
      onDragLeave: (e: DragEvent) => zone(e).classList.remove('over'),
      onDrop: (e: DragEvent) => {
        e.preventDefault();
        e.stopPropagation();
        zone(e).classList.remove('over');
        if (e.dataTransfer) void collectDropped(e.dataTransfer).then(addPicked);
      },
    },
    t('select.drop'),
  );
}

function SkippedFiles() {
  void s.selectionVersion.value;
  const skipped = s.selection.skipped;
  if (skipped.length === 0) return null;
  return h(
    'details',
    { class: 'skipped' },
    h('summary', null, t('skipped.title', { count: skipped.length })),
    h(
      'ul',
      null,
      skipped.slice(0, 100).map((f, i) => h('li', { key: i }, h('span', { class: 'file-name' }, f.path), ' — ', skipText(f.reason))),
      skipped.length > 100 ? h('li', null, t('skipped.more', { count: skipped.length - 100 })) : null,
    ),
  );
}

export function FilePicker() {
  const scanning = s.scanning.value;
  const busy = s.scanBusy.value;
  void s.selectionVersion.value;
  const open = (id: string) => document.getElementById(id)?.click();
  const status = scanning.total === 0 ? '' : busy ? t('scan.progress', { done: scanning.done, total: scanning.total }) : t('scan.done', { count: s.selection.size });
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'panel-select-title' },
    h('h2', { id: 'panel-select-title' }, t('select.title')),
    h('p', null, t('select.help')),
    h(
      'div',
      { class: 'row' },
      h('button', { type: 'button', id: 'pick-files', onClick: () => open('file-input') }, t('select.files')),
      h('button', { type: 'button', id: 'pick-folder', onClick: () => open('folder-input') }, t('select.folder')),
    ),
    h(HiddenFileInput, { id: 'file-input', pathOf: (file) => file.name }),
    h(HiddenFileInput, { id: 'folder-input', pathOf: (file) => file.webkitRelativePath || file.name, folder: true }),
    h(DropZone, null),
    // data-idle lets tests (and the benchmark) wait for reading to finish without guessing.
    h('p', { id: 'scan-status', role: 'status', 'aria-live': 'polite', 'data-idle': busy ? 'false' : 'true', 'data-files': s.selection.size }, status),
    h(SkippedFiles, null),
  );
}

/** Files the inspector would refuse are named with its reason from the shared catalog. */
function skipText(reason: SkipReason): string {
  return reason === 'EXECUTABLE_PREAMBLE' || reason === 'NOT_PART10' ? message(reason, [], currentLanguage()) : t(`skipped.${reason}` as UiKey);
}
