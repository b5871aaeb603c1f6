/** Step 1: the file and folder pickers, the drop zone, reading progress and the files left out. */
import { t, type UiKey } from '../i18n';
import { collectDropped } from '../picking';
import { addPicked } from '../store/files';
import * as s from '../store/state';

/** A hidden file input (the visible buttons open it); `pathOf` gives each picked file's path. */
function HiddenFileInput({ id, pathOf, folder }: { id: string; pathOf: (file: File) => string; folder?: boolean }) {
  return (
    <input
      type="file"
      id={id}
      multiple
      class="visually-hidden"
      tabIndex={-1}
      aria-hidden="true"
      {...(folder ? { webkitdirectory: true } : {})}
      onChange={(e) => {
        const input = e.currentTarget;
        addPicked([...(input.files ?? [])].map((file) => ({ file, path: pathOf(file) })));
        input.value = '';
      }}
    />
  );
}

export function FilePicker() {
  const scanning = s.scanning.value;
  const busy = s.scanBusy.value;
  void s.selectionVersion.value;
  const skipped = s.selection.skipped;
  const open = (id: string) => document.getElementById(id)?.click();
  return (
    <section class="card" aria-labelledby="panel-select-title">
      <h2 id="panel-select-title">{t('select.title')}</h2>
      <p>{t('select.help')}</p>
      <div class="row">
        <button type="button" id="pick-files" onClick={() => open('file-input')}>
          {t('select.files')}
        </button>
        <button type="button" id="pick-folder" onClick={() => open('folder-input')}>
          {t('select.folder')}
        </button>
      </div>
      <HiddenFileInput id="file-input" pathOf={(file) => file.name} />
      <HiddenFileInput id="folder-input" pathOf={(file) => file.webkitRelativePath || file.name} folder />
      <div
        id="drop-zone"
        class="drop-zone"
        onDragOver={(e) => {
          e.preventDefault();
          e.currentTarget.classList.add('over');
        }}
        onDragLeave={(e) => e.currentTarget.classList.remove('over')}
        onDrop={(e) => {
          e.preventDefault();
          e.stopPropagation();
          e.currentTarget.classList.remove('over');
          if (e.dataTransfer) void collectDropped(e.dataTransfer).then(addPicked);
        }}
      >
        {t('select.drop')}
      </div>
      {/* data-idle lets tests (and the benchmark) wait for reading to finish without guessing. */}
      <p id="scan-status" role="status" aria-live="polite" data-idle={busy ? 'false' : 'true'} data-files={s.selection.size}>
        {scanning.total === 0 ? '' : busy ? t('scan.progress', { done: scanning.done, total: scanning.total }) : t('scan.done', { count: s.selection.size })}
      </p>
      {skipped.length > 0 ? (
        <details class="skipped">
          <summary>{t('skipped.title', { count: skipped.length })}</summary>
          <ul>
            {skipped.slice(0, 100).map((f, i) => (
              <li key={i}>
                <span class="file-name">{f.path}</span> — {t(`skipped.${f.reason}` as UiKey)}
              </li>
            ))}
            {skipped.length > 100 ? <li>{t('skipped.more', { count: skipped.length - 100 })}</li> : null}
          </ul>
        </details>
      ) : null}
    </section>
  );
}
