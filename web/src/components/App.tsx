/** The page: the skip link first, the header with the language choice, then the current screen. */
import { useEffect } from 'preact/hooks';
import { currentLanguage, languages, setLanguage, t } from '../i18n';
import type { Language } from '../../../lambdas/core/messages';
import * as s from '../store/state';
import { CodeEntry } from './CodeEntry';
import { ResultScreen } from './ResultScreen';
import { SelectScreen } from './SelectScreen';
import { UploadScreen } from './UploadScreen';

export function App() {
  const screen = s.screen.value;
  const language = currentLanguage();
  useEffect(() => {
    document.documentElement.lang = language;
    document.title = t('app.title');
  }, [language]);
  useEffect(() => {
    // A new screen: focus goes where the user acts next (the code box) or to the screen's title.
    const target = document.getElementById(screen === 'code' ? 'upload-code' : 'screen-title');
    target?.focus();
  }, [screen]);
  return (
    <>
      <a class="skip-link" href="#main">
        {t('skip')}
      </a>
      <header class="top">
        <p class="brand">{t('app.title')}</p>
        <div class="lang">
          <label for="language">{t('language')}</label>
          <select id="language" value={language} onChange={(e) => setLanguage(e.currentTarget.value as Language)}>
            {languages.map((l) => (
              <option key={l.code} value={l.code} lang={l.code}>
                {l.name}
              </option>
            ))}
          </select>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {screen === 'loading' ? <p role="status">{t('loading')}</p> : null}
        {screen === 'code' ? <CodeEntry /> : null}
        {screen === 'select' ? <SelectScreen /> : null}
        {screen === 'uploading' ? <UploadScreen /> : null}
        {screen === 'result' ? <ResultScreen /> : null}
      </main>
      <p class="visually-hidden" role="status" aria-live="polite" id="announcer">
        {s.announcement.value}
      </p>
    </>
  );
}
