/**
 * The outcome. Accepted: a reference to quote, the date, each study, the hospital's phone and e-mail,
 * and a layout that prints. Rejected: each reason, per file where there is one.
 */
import { Fragment, h } from 'preact';
import { useEffect } from 'preact/hooks';
import { formatBytes, hasParameters, message, MESSAGE_CODES, type MessageCode } from '../../../lambdas/core/messages';
import type { SessionState } from '../api';
import { countsText, shortReference, studyLabel } from '../format';
import { currentLanguage, t } from '../i18n';
import { deliverySummary, watchResultDelivery } from '../store/delivery';
import { forgetSession } from '../store/session';
import * as s from '../store/state';
import { ContactLinks } from './SelectScreen';
import { StudyState } from './StudyCard';

/** Reasons whose text has no parameters are shown in the user's language; others as the server wrote them. */
const translatable = new Set<string>(MESSAGE_CODES.filter((code) => !hasParameters(code)));

export function ResultScreen() {
  const result = s.result.value!;
  const accepted = result.status === 'ACCEPTED';
  const institution = s.session.value?.institution ?? result.institution;
  const startAgain = () => {
    forgetSession();
    location.reload();
  };
  return h(
    'section',
    { class: `card result ${accepted ? 'accepted' : 'rejected'}`, 'aria-labelledby': 'screen-title', 'data-status': result.status },
    h('h1', { id: 'screen-title', tabIndex: -1 }, accepted ? t('result.accepted') : t('result.rejected')),
    accepted ? h(Accepted, { result, hospital: institution?.name ?? '' }) : h(Rejected, { result }),
    institution && (institution.phone || institution.email)
      ? h('div', { class: 'result-contact' }, h('h2', null, t('result.questions', { hospital: institution.name })), h(ContactLinks, { institution }))
      : null,
    h(
      'div',
      { class: 'row no-print' },
      accepted ? h('button', { type: 'button', id: 'print-result', onClick: () => window.print() }, t('result.print')) : null,
      h('button', { type: 'button', id: 'new-upload', onClick: startAgain }, t('result.again')),
    ),
  );
}

function Accepted({ result, hospital }: { result: SessionState; hospital: string }) {
  const studies = (result.studies ?? []).length > 0 ? result.studies! : s.resultStudies.value.map((x) => ({ ...x, attachments: x.attachments.length }));
  const total = studies.reduce((sum, x) => sum + x.bytes, 0);
  const sessionId = result.sessionId ?? s.session.value?.sessionId ?? '';
  const date = new Intl.DateTimeFormat(currentLanguage(), { dateStyle: 'long', timeStyle: 'short' }).format(s.completedAt.value ?? new Date());
  useEffect(watchResultDelivery, []);
  return h(
    Fragment,
    null,
    h('p', null, t('result.acceptedText', { hospital })),
    h(DeliveryStatus, { result, hospital }),
    h(
      'dl',
      { class: 'reference' },
      h('dt', null, t('result.reference')),
      h('dd', { id: 'result-reference' }, shortReference(sessionId)),
      h('dt', null, t('result.date')),
      h('dd', { id: 'result-date' }, date),
    ),
    h('p', { class: 'hint' }, t('result.keep')),
    h('h2', null, t('result.studies')),
    h(
      'ul',
      { class: 'summary' },
      studies.map((study) =>
        h(
          'li',
          { key: study.studyInstanceUid, 'data-study': study.studyInstanceUid },
          h('strong', null, studyLabel(study)),
          h('span', null, countsText(study.dicomFiles, study.attachments, study.bytes)),
          h(StudyState, { studyInstanceUid: study.studyInstanceUid }),
        ),
      ),
    ),
    h('p', null, t('result.total', { size: formatBytes(total) })),
  );
}

/** Delivery as a whole, in a polite live region: a screen reader hears when it changes, not each poll. */
function DeliveryStatus({ result, hospital }: { result: SessionState; hospital: string }) {
  const summary = deliverySummary(result.studies);
  const text = summary === 'none' ? '' : t(`result.delivery.${summary}`, { hospital });
  return h('p', { id: 'delivery-status', class: `delivery-status delivery-${summary}`, role: 'status', 'aria-live': 'polite', 'data-delivery': summary }, text);
}

function Rejected({ result }: { result: SessionState }) {
  const listed = result.reasons?.length ? result.reasons : (result.rejection ?? []);
  // One line per file and reason, even when the server reports a reason at inspection and again at completion.
  const reasons = listed.filter((r, i) => listed.findIndex((o) => o.code === r.code && o.fileId === r.fileId) === i);
  const names = new Map((result.files ?? []).map((f) => [f.fileId, f.name]));
  return h(
    Fragment,
    null,
    h('p', null, t('result.rejectedText')),
    h(
      'ul',
      { class: 'reasons' },
      reasons.map((r, i) => {
        const name = r.fileId ? names.get(r.fileId) : undefined;
        const text = translatable.has(r.code) ? message(r.code as MessageCode, [], currentLanguage()) : r.message;
        return h('li', { key: i, 'data-code': r.code }, name ? h(Fragment, null, h('span', { class: 'file-name' }, name), ': ') : null, text);
      }),
    ),
  );
}
