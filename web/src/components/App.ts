/** The page: the skip link first, the header with the language choice, then the current screen. */
import { Fragment, h } from 'preact';
import { useEffect } from 'preact/hooks';
import type { Language } from '../../../lambdas/core/messages';
import { currentLanguage, languages, setLanguage, t } from '../i18n';
import * as s from '../store/state';
import { CodeEntry } from './CodeEntry';
import { ResultScreen } from './ResultScreen';
import { SelectScreen } from './SelectScreen';
import { UploadScreen } from './UploadScreen';

const SCREENS = { code: CodeEntry, select: SelectScreen, uploading: UploadScreen, result: ResultScreen };

export function App() {
  const screen = s.screen.value;
  const language = currentLanguage();
  useEffect(() => {
    document.documentElement.lang = language;
    document.title = t('app.title');
  }, [language]);
  useEffect(() => {
    // A new screen: focus goes where the user acts next (the code box) or to the screen's title.
    document.getElementById(screen === 'code' ? 'upload-code' : 'screen-title')?.focus();
  }, [screen]);
  return h(
    Fragment,
    null,
    h('a', { class: 'skip-link', href: '#main' }, t('skip')),
    h(
      'header',
      { class: 'top' },
      h('p', { class: 'brand' }, t('app.title')),
      h(
        'div',
        { class: 'lang' },
        h('label', { for: 'language' }, t('language')),
        h(
          'select',
          { id: 'language', value: language, onChange: (e: Event) => setLanguage((e.currentTarget as HTMLSelectElement).value as Language) },
          languages.map((l) => h('option', { key: l.code, value: l.code, lang: l.code }, l.name)),
        ),
      ),
    ),
    h('main', { id: 'main', tabIndex: -1 }, screen === 'loading' ? h('p', { role: 'status' }, t('loading')) : h(SCREENS[screen], null)),
    h('p', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite', id: 'announcer' }, s.announcement.value),
  );
}
