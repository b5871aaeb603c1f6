/**
 * The rules' messages, exactly as the shared catalog words them, inside a live region so a screen
 * reader hears each one as it appears. Size messages name their study; each says its advice once.
 */
import { formatBytes } from '../../../lambdas/core/messages';
import type { Violation } from '../../../lambdas/core/model';
import { studyLabel } from '../format';
import { t } from '../i18n';
import type { Evaluation, SelectedItem } from '../selection';
import { removeItems } from '../store/files';
import * as s from '../store/state';

export function RuleMessages({ evaluation }: { evaluation: Evaluation }) {
  const violations = evaluation.blocking;
  return (
    <div aria-live="polite" id="problems-live">
      {violations.length > 0 ? (
        <div class="problems" id="problems">
          <ul>
            {violations.map((v, i) => (
              <RuleMessage key={`${v.code}-${v.studyInstanceUid ?? i}`} violation={v} evaluation={evaluation} />
            ))}
          </ul>
        </div>
      ) : null}
    </div>
  );
}

function RuleMessage({ violation: v, evaluation }: { violation: Violation; evaluation: Evaluation }) {
  const study = v.studyInstanceUid ? evaluation.studySummaries.find((x) => x.studyInstanceUid === v.studyInstanceUid) : undefined;
  const files = (v.files ?? []).map((id) => s.selection.get(id)).filter((i): i is SelectedItem => Boolean(i));
  return (
    <li data-code={v.code}>
      {study ? (
        <p class="problem-study">
          {studyLabel(study)} ({formatBytes(study.bytes)})
        </p>
      ) : null}
      <p class="problem-message">{v.message}</p>
      <Advice violation={v} evaluation={evaluation} />
      {files.length > 0 ? <FileList files={files.slice(0, 20)} /> : null}
    </li>
  );
}

/** The next step, where the rule's own message does not already give it. */
function Advice({ violation: v, evaluation }: { violation: Violation; evaluation: Evaluation }) {
  // The figures, unless a too-large study's message already names its size and the limit.
  if (v.code === 'SESSION_SIZE_LIMIT' && !evaluation.blocking.some((other) => other.code === 'STUDY_SIZE_LIMIT')) {
    const limit = s.session.value!.limits.maxSessionBytes;
    return <p class="advice">{t('size.facts', { total: formatBytes(evaluation.totalBytes), limit: formatBytes(limit) })}</p>;
  }
  if (v.code === 'ATTACHMENT_LIMIT') {
    const study = evaluation.studySummaries.find((x) => x.studyInstanceUid === v.studyInstanceUid);
    const { count, max } = (v.details ?? {}) as { count?: number; max?: number };
    if (!study || count === undefined || max === undefined) return null;
    return <p class="advice">{t('attachments.next', { count: count - max, study: studyLabel(study) })}</p>;
  }
  return null;
}

export function FileList({ files }: { files: SelectedItem[] }) {
  return (
    <ul class="files">
      {files.map((f) => (
        <li key={f.id}>
          <span class="file-name">{f.path}</span>{' '}
          <button type="button" class="link" onClick={() => removeItems([f.id])} aria-label={t('file.removeNamed', { name: f.name })}>
            {t('file.remove')}
          </button>
        </li>
      ))}
    </ul>
  );
}

/** What the server refused, as it said it. */
export function ServerProblems() {
  const violations = s.serverViolations.value;
  const error = s.serverError.value;
  return (
    <div role="alert">
      {violations.length > 0 || error ? (
        <div class="problems server" id="server-problems">
          <p>{t('verify.serverSaid')}</p>
          <ul>
            {violations.map((v, i) => (
              <li key={i} data-code={v.code}>
                {v.message}
              </li>
            ))}
            {error ? <li>{error}</li> : null}
          </ul>
        </div>
      ) : null}
    </div>
  );
}
