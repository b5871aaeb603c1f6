/** Step 2: what the rules say, the studies as read from their headers, contact, consent and start. */
import { h } from 'preact';
import { formatBytes } from '../../../lambdas/core/messages';
import { distinctPatients } from '../format';
import { t } from '../i18n';
import { undoStudyRemoval } from '../store/files';
import * as s from '../store/state';
import { startBlocker, startUpload } from '../store/upload';
import { ConsentAndContact } from './ConsentAndContact';
import { RuleMessages, ServerProblems } from './RuleMessages';
import { StudyCard } from './StudyCard';
import { UnlinkedFiles } from './UnlinkedFiles';

export function VerifyPanel() {
  const evaluation = s.evaluation.value!;
  const limits = s.session.value!.limits;
  const blocker = startBlocker(evaluation);
  const totals = t('verify.totals', { count: evaluation.studySummaries.length, size: formatBytes(evaluation.totalBytes), limit: formatBytes(limits.maxSessionBytes) });
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'panel-verify-title' },
    h('h2', { id: 'panel-verify-title' }, t('verify.title')),
    h(RuleMessages, { evaluation }),
    h(UnlinkedFiles, { evaluation }),
    h(ServerProblems, null),
    h(PatientsWarning, null),
    h(RemovedStudyBar, null),
    h('p', { class: 'totals', id: 'totals' }, totals),
    h(
      'div',
      { class: 'studies' },
      evaluation.studySummaries.map((study, index) => h(StudyCard, { key: study.studyInstanceUid, study, index, evaluation })),
    ),
    h(ConsentAndContact, null),
    h(
      'div',
      { class: 'row start-row' },
      h(
        'button',
        { type: 'button', id: 'start-upload', class: 'primary', disabled: Boolean(blocker), 'aria-describedby': blocker ? 'start-hint' : undefined, onClick: () => void startUpload() },
        t('start.button'),
      ),
      blocker ? h('p', { id: 'start-hint', class: 'hint' }, t(blocker)) : null,
    ),
  );
}

/** Several patients in one upload: allowed, but worth a second look (names and birth dates differ). */
function PatientsWarning() {
  const patients = distinctPatients(s.evaluation.value?.studySummaries ?? []);
  return h(
    'div',
    { 'aria-live': 'polite' },
    patients.length > 1
      ? h(
          'div',
          { class: 'warning', id: 'patients-warning' },
          h('p', { class: 'problem-message' }, t('patients.title', { count: patients.length })),
          h('ul', null, patients.map((p) => h('li', { key: p }, p))),
          h('p', { class: 'advice' }, t('patients.help')),
        )
      : null,
  );
}

/** A removed study, with Undo until the next change. */
function RemovedStudyBar() {
  const removed = s.removedStudy.value;
  if (!removed) return null;
  return h(
    'div',
    { class: 'notice removed-study row' },
    h('p', null, t('study.removed', { study: removed.label })),
    h('button', { type: 'button', id: 'undo-remove', onClick: undoStudyRemoval }, t('study.undo')),
  );
}
