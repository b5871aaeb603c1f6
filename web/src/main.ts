/**
 * The Upload Portal: code entry → select and verify images → upload → result. Preact components
 * (components/) render one store (store/state.ts); the actions in store/ are its only writers.
 */
import './styles.css';
import { h, render } from 'preact';
import { App } from './components/App';
import { collectDropped } from './picking';
import { addPicked } from './store/files';
import { boot, keepDraft } from './store/session';
import * as s from './store/state';

// Files dropped outside the drop zone must not make the browser navigate away from the session.
window.addEventListener('dragover', (e) => e.preventDefault());
window.addEventListener('drop', (e) => {
  e.preventDefault();
  if (s.screen.value === 'select' && e.dataTransfer) void collectDropped(e.dataTransfer).then(addPicked);
});
// Closing or reloading the tab while files are in flight stops them: the browser asks first.
window.addEventListener('beforeunload', (e) => {
  if (!s.uploading.value) return;
  e.preventDefault();
  e.returnValue = '';
});

const root = document.getElementById('app')!;
root.textContent = ''; // the static "Loading…" of index.html
render(h(App, null), root);
keepDraft();
void boot();
