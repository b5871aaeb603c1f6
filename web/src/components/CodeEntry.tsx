/** The first screen: the upload code. A wrong code stays in the box, with the error next to it. */
import { t } from '../i18n';
import { submitCode } from '../store/session';
import * as s from '../store/state';

export function CodeEntry() {
  const error = s.codeError.value?.();
  const busy = s.busy.value;
  return (
    <section class="card narrow" aria-labelledby="screen-title">
      <h1 id="screen-title" tabIndex={-1}>
        {t('code.title')}
      </h1>
      <p id="code-help">{t('code.help')}</p>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void submitCode();
        }}
      >
        <label for="upload-code">{t('code.label')}</label>
        <div class="row code-row">
          <input
            id="upload-code"
            name="uploadCode"
            autoComplete="off"
            autoCapitalize="characters"
            spellcheck={false}
            required
            value={s.code.value}
            onInput={(e) => (s.code.value = e.currentTarget.value)}
            aria-describedby={error ? 'code-error code-help' : 'code-help'}
            aria-invalid={error ? 'true' : undefined}
          />
          <button type="submit" class="primary" disabled={busy}>
            {busy ? t('code.checking') : t('code.submit')}
          </button>
        </div>
        <p id="code-error" class="error" role="alert">
          {error ?? ''}
        </p>
      </form>
    </section>
  );
}
