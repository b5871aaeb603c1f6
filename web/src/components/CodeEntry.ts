/** The first screen: the upload code. A wrong code stays in the box, with the error next to it. */
import { h } from 'preact';
import { t } from '../i18n';
import { submitCode } from '../store/session';
import * as s from '../store/state';

export function CodeEntry() {
  const error = s.codeError.value?.();
  const busy = s.busy.value;
  return h(
    'section',
    { class: 'card narrow', 'aria-labelledby': 'screen-title' },
    h('h1', { id: 'screen-title', tabIndex: -1 }, t('code.title')),
    h('p', { id: 'code-help' }, t('code.help')),
    h(
      'form',
      {
        noValidate: true,
        onSubmit: (e: Event) => {
          e.preventDefault();
          void submitCode();
        },
      },
      h('label', { for: 'upload-code' }, t('code.label')),
      h(
        'div',
        { class: 'row code-row' },
        h('input', {
          id: 'upload-code',
          name: 'uploadCode',
          autoComplete: 'off',
          autoCapitalize: 'characters',
          spellcheck: false,
          required: true,
          value: s.code.value,
          onInput: (e: Event) => (s.code.value = (e.currentTarget as HTMLInputElement).value),
          'aria-describedby': error ? 'code-error code-help' : 'code-help',
          'aria-invalid': error ? 'true' : undefined,
        }),
        h('button', { type: 'submit', class: 'primary', disabled: busy }, busy ? t('code.checking') : t('code.submit')),
      ),
      h('p', { id: 'code-error', class: 'error', role: 'alert' }, error ?? ''),
    ),
  );
}
