/** Step 2: what the rules say, the studies as read from their headers, contact, consent and start. */
import { formatBytes } from '../../../lambdas/core/messages';
import { t } from '../i18n';
import { distinctPatients } from '../format';
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
  return (
    <section class="card" aria-labelledby="panel-verify-title">
      <h2 id="panel-verify-title">{t('verify.title')}</h2>
      <RuleMessages evaluation={evaluation} />
      <UnlinkedFiles evaluation={evaluation} />
      <ServerProblems />
      <PatientsWarning />
      <RemovedStudyBar />
      <p class="totals" id="totals">
        {t('verify.totals', { count: evaluation.studySummaries.length, size: formatBytes(evaluation.totalBytes), limit: formatBytes(limits.maxSessionBytes) })}
      </p>
      <div class="studies">
        {evaluation.studySummaries.map((study, i) => (
          <StudyCard key={study.studyInstanceUid} study={study} index={i} evaluation={evaluation} />
        ))}
      </div>
      <ConsentAndContact />
      <div class="row start-row">
        <button type="button" id="start-upload" class="primary" disabled={Boolean(blocker)} aria-describedby={blocker ? 'start-hint' : undefined} onClick={() => void startUpload()}>
          {t('start.button')}
        </button>
        {blocker ? (
          <p id="start-hint" class="hint">
            {t(blocker)}
          </p>
        ) : null}
      </div>
    </section>
  );
}

/** Several patients in one upload: allowed, but worth a second look (names and birth dates differ). */
function PatientsWarning() {
  const patients = distinctPatients(s.evaluation.value?.studySummaries ?? []);
  return (
    <div aria-live="polite">
      {patients.length > 1 ? (
        <div class="warning" id="patients-warning">
          <p class="problem-message">{t('patients.title', { count: patients.length })}</p>
          <ul>
            {patients.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
          <p class="advice">{t('patients.help')}</p>
        </div>
      ) : null}
    </div>
  );
}

/** A removed study, with Undo until the next change. */
function RemovedStudyBar() {
  const removed = s.removedStudy.value;
  if (!removed) return null;
  return (
    <div class="notice removed-study row">
      <p>{t('study.removed', { study: removed.label })}</p>
      <button type="button" id="undo-remove" onClick={undoStudyRemoval}>
        {t('study.undo')}
      </button>
    </div>
  );
}
