/**
 * The rules' messages, exactly as the shared catalog words them, inside a live region so a screen
 * reader hears each one as it appears. Size messages name their study; each says its advice once.
 */
import { h } from 'preact';
import { formatBytes } from '../../../lambdas/core/messages';
import type { Violation } from '../../../lambdas/core/model';
import { studyLabel } from '../format';
import { t } from '../i18n';
import type { Evaluation, SelectedItem } from '../selection';
import { removeItems } from '../store/files';
import * as s from '../store/state';

export function RuleMessages({ evaluation }: { evaluation: Evaluation }) {
  const violations = evaluation.blocking;
  return h(
    'div',
    { 'aria-live': 'polite', id: 'problems-live' },
    violations.length > 0
      ? h(
          'div',
          { class: 'problems', id: 'problems' },
          h('ul', null, violations.map((v, i) => h(RuleMessage, { key: `${v.code}-${v.studyInstanceUid ?? i}`, violation: v, evaluation }))),
        )
      : null,
  );
}

function RuleMessage({ violation: v, evaluation }: { violation: Violation; evaluation: Evaluation }) {
  const study = v.studyInstanceUid ? evaluation.studySummaries.find((x) => x.studyInstanceUid === v.studyInstanceUid) : undefined;
  const files = (v.files ?? []).map((id) => s.selection.get(id)).filter((i): i is SelectedItem => Boolean(i));
  return h(
    'li',
    { 'data-code': v.code },
    study ? h('p', { class: 'problem-study' }, `${studyLabel(study)} (${formatBytes(study.bytes)})`) : null,
    h('p', { class: 'problem-message' }, v.message),
    h(Advice, { violation: v, evaluation }),
    files.length > 0 ? h(FileList, { files: files.slice(0, 20) }) : null,
  );
}

/** The next step, where the rule's own message does not already give it. */
function Advice({ violation: v, evaluation }: { violation: Violation; evaluation: Evaluation }) {
  // The figures, unless a too-large study's message already names its size and the limit.
  if (v.code === 'SESSION_SIZE_LIMIT' && !evaluation.blocking.some((other) => other.code === 'STUDY_SIZE_LIMIT')) {
    const limit = s.session.value!.limits.maxSessionBytes;
    return h('p', { class: 'advice' }, t('size.facts', { total: formatBytes(evaluation.totalBytes), limit: formatBytes(limit) }));
  }
  if (v.code === 'ATTACHMENT_LIMIT') {
    const study = evaluation.studySummaries.find((x) => x.studyInstanceUid === v.studyInstanceUid);
    const { count, max } = (v.details ?? {}) as { count?: number; max?: number };
    if (!study || count === undefined || max === undefined) return null;
    return h('p', { class: 'advice' }, t('attachments.next', { count: count - max, study: studyLabel(study) }));
  }
  return null;
}

function FileList({ files }: { files: SelectedItem[] }) {
  return h(
    'ul',
    { class: 'files' },
    files.map((f) =>
      h(
        'li',
        { key: f.id },
        h('span', { class: 'file-name' }, f.path),
        ' ',
        h('button', { type: 'button', class: 'link', onClick: () => removeItems([f.id]), 'aria-label': t('file.removeNamed', { name: f.name }) }, t('file.remove')),
      ),
    ),
  );
}

/** What the server refused, as it said it. */
export function ServerProblems() {
  const violations = s.serverViolations.value;
  const error = s.serverError.value;
  return h(
    'div',
    { role: 'alert' },
    violations.length > 0 || error
      ? h(
          'div',
          { class: 'problems server', id: 'server-problems' },
          h('p', null, t('verify.serverSaid')),
          h('ul', null, violations.map((v, i) => h('li', { key: i, 'data-code': v.code }, v.message)), error ? h('li', null, error) : null),
        )
      : null,
  );
}
