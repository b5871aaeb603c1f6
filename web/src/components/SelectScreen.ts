/** The select-and-verify screen: the hospital, what a reload kept, the file picker and the verify panel. */
import { h } from 'preact';
import type { Institution } from '../api';
import { t } from '../i18n';
import * as s from '../store/state';
import { FilePicker } from './FilePicker';
import { VerifyPanel } from './VerifyPanel';

export function SelectScreen() {
  const session = s.session.value!;
  void s.selectionVersion.value;
  return h(
    'div',
    { class: 'screen' },
    h('h1', { id: 'screen-title', tabIndex: -1, class: 'visually-hidden' }, t('select.screenTitle')),
    h(InstitutionCard, { institution: session.institution }),
    h(ResumeNotice, null),
    h(AwaitedNotice, null),
    s.notice.value ? h('p', { class: 'notice', role: 'status' }, s.notice.value) : null,
    h(FilePicker, null),
    s.selection.size > 0 || s.removedStudy.value ? h(VerifyPanel, null) : null,
  );
}

export function InstitutionCard({ institution }: { institution: Institution }) {
  return h(
    'section',
    { class: 'card institution', 'aria-labelledby': 'institution-title' },
    h('h2', { id: 'institution-title' }, t('institution.title')),
    h('p', { class: 'institution-name' }, institution.name),
    h(ContactLinks, { institution, manual: true }),
  );
}

export function ContactLinks({ institution, manual }: { institution: Institution; manual?: boolean }) {
  return h(
    'ul',
    { class: 'contact' },
    institution.phone ? h('li', null, `${t('institution.phone')}: `, h('a', { href: `tel:${institution.phone.replace(/[^+\d]/g, '')}` }, institution.phone)) : null,
    institution.email ? h('li', null, `${t('institution.email')}: `, h('a', { href: `mailto:${institution.email}` }, institution.email)) : null,
    manual && institution.manualUrl ? h('li', null, h('a', { href: institution.manualUrl, target: '_blank', rel: 'noopener' }, t('institution.manual'))) : null,
  );
}

/** After a reload: what was kept, what was lost, and what to do. */
function ResumeNotice() {
  const resumed = s.resumeNotice.value;
  if (!resumed) return null;
  return h(
    'section',
    { class: 'notice resume', role: 'status', 'aria-labelledby': 'resume-title' },
    h('h2', { id: 'resume-title' }, t('resume.title')),
    h('ul', null, h('li', null, t('resume.kept', { count: resumed.uploadedFiles })), h('li', null, t('resume.lost')), h('li', null, t('resume.todo'))),
  );
}

/** After a reload: files declared and not (all) sent, which continue when added again. */
function AwaitedNotice() {
  const count = s.awaited.value.length;
  if (count === 0) return null;
  return h('p', { class: 'notice awaited', role: 'status' }, t('resume.awaited', { count }), ' ', t('resume.leftOut'));
}
