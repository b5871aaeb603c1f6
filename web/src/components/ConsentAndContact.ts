/** The uploader's contact details (optional) and the two consents the upload needs. */
import { Fragment, h, type ComponentChildren } from 'preact';
import { t } from '../i18n';
import * as s from '../store/state';

function ContactField({ id, type, label, field }: { id: string; type: 'email' | 'tel'; label: string; field: 'email' | 'phone' }) {
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id }, label),
    h('input', {
      id,
      type,
      autoComplete: type,
      value: s.contact.value[field],
      onInput: (e: Event) => (s.contact.value = { ...s.contact.value, [field]: (e.currentTarget as HTMLInputElement).value }),
    }),
  );
}

function ConsentBox({ id, field, label }: { id: string; field: 'privacy' | 'sharing'; label: ComponentChildren }) {
  return h(
    'div',
    { class: 'check' },
    h('input', {
      type: 'checkbox',
      id,
      required: true,
      checked: s.consent.value[field],
      onChange: (e: Event) => (s.consent.value = { ...s.consent.value, [field]: (e.currentTarget as HTMLInputElement).checked }),
    }),
    h('label', { for: id }, label),
  );
}

export function ConsentAndContact() {
  const institution = s.session.value!.institution;
  const privacy = institution.privacyPolicyUrl
    ? h(Fragment, null, t('consent.privacyBefore'), h('a', { href: institution.privacyPolicyUrl, target: '_blank', rel: 'noopener' }, t('consent.privacyLink')))
    : t('consent.privacy');
  return h(
    Fragment,
    null,
    h(
      'fieldset',
      null,
      h('legend', null, t('contact.title')),
      h('p', { class: 'hint' }, t('contact.help')),
      h(
        'div',
        { class: 'row' },
        h(ContactField, { id: 'contact-email', type: 'email', label: t('contact.email'), field: 'email' }),
        h(ContactField, { id: 'contact-phone', type: 'tel', label: t('contact.phone'), field: 'phone' }),
      ),
    ),
    h(
      'fieldset',
      null,
      h('legend', null, t('consent.title')),
      h(ConsentBox, { id: 'consent-privacy', field: 'privacy', label: privacy }),
      h(ConsentBox, { id: 'consent-sharing', field: 'sharing', label: t('consent.sharing', { hospital: institution.name }) }),
    ),
  );
}
