/** The uploader's contact details (optional) and the two consents the upload needs. */
import { t } from '../i18n';
import * as s from '../store/state';

export function ConsentAndContact() {
  const institution = s.session.value!.institution;
  const consent = s.consent.value;
  const contact = s.contact.value;
  const check = (key: 'privacy' | 'sharing', checked: boolean) => (s.consent.value = { ...s.consent.value, [key]: checked });
  return (
    <>
      <fieldset>
        <legend>{t('contact.title')}</legend>
        <p class="hint">{t('contact.help')}</p>
        <div class="row">
          <div class="field">
            <label for="contact-email">{t('contact.email')}</label>
            <input id="contact-email" type="email" autoComplete="email" value={contact.email} onInput={(e) => (s.contact.value = { ...s.contact.value, email: e.currentTarget.value })} />
          </div>
          <div class="field">
            <label for="contact-phone">{t('contact.phone')}</label>
            <input id="contact-phone" type="tel" autoComplete="tel" value={contact.phone} onInput={(e) => (s.contact.value = { ...s.contact.value, phone: e.currentTarget.value })} />
          </div>
        </div>
      </fieldset>
      <fieldset>
        <legend>{t('consent.title')}</legend>
        <div class="check">
          <input type="checkbox" id="consent-privacy" required checked={consent.privacy} onChange={(e) => check('privacy', e.currentTarget.checked)} />
          <label for="consent-privacy">
            {institution.privacyPolicyUrl ? (
              <>
                {t('consent.privacyBefore')}
                <a href={institution.privacyPolicyUrl} target="_blank" rel="noopener">
                  {t('consent.privacyLink')}
                </a>
              </>
            ) : (
              t('consent.privacy')
            )}
          </label>
        </div>
        <div class="check">
          <input type="checkbox" id="consent-sharing" required checked={consent.sharing} onChange={(e) => check('sharing', e.currentTarget.checked)} />
          <label for="consent-sharing">{t('consent.sharing', { hospital: institution.name })}</label>
        </div>
      </fieldset>
    </>
  );
}
