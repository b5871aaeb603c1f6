/** One study as its headers describe it (also after a reload: the server's copy), its state and its files. */
import { formatDicomDate, formatPersonName, type Evaluation, type StudySummary } from '../selection';
import { countsText, studyLabel } from '../format';
import { t, type UiKey } from '../i18n';
import { removeItems, removeStudy } from '../store/files';
import * as s from '../store/state';
import { studyState } from '../store/upload';
import { Icon } from './Icon';

function Field({ label, value }: { label: UiKey; value: string | undefined }) {
  return (
    <>
      <dt>{t(label)}</dt>
      <dd>{value || '—'}</dd>
    </>
  );
}

export function StudyState({ studyInstanceUid }: { studyInstanceUid: string }) {
  const state = studyState(studyInstanceUid);
  const text =
    state.kind === 'uploading'
      ? t('study.state.uploading', { percent: state.percent })
      : state.kind === 'resumed'
        ? t('study.state.resumed', { count: state.count })
        : state.kind === 'delivered'
        ? t('study.state.delivered', { hospital: s.session.value?.institution.name ?? '' })
        : t(`study.state.${state.kind}`);
  return (
    <p class={`study-state state-${state.kind}`} data-state={state.kind}>
      {state.kind === 'uploaded' || state.kind === 'delivered' ? <Icon kind="check" /> : null} {text}
    </p>
  );
}

export function StudyCard({ study, index, evaluation }: { study: StudySummary; index: number; evaluation: Evaluation }) {
  const titleId = `study-${index}-title`;
  const commentId = `comment-${index}`;
  const uploadedCount = s.uploadedByStudy.value.get(study.studyInstanceUid) ?? 0;
  const files = study.dicomFiles + study.attachments.length;
  const tooLarge = evaluation.blocking.some((v) => v.code === 'STUDY_SIZE_LIMIT' && v.studyInstanceUid === study.studyInstanceUid);
  return (
    <article class={`study${tooLarge ? ' too-large' : ''}`} aria-labelledby={titleId} data-study={study.studyInstanceUid}>
      <div class="study-head">
        <h3 id={titleId} tabIndex={-1}>
          {studyLabel(study)}
        </h3>
        <StudyState studyInstanceUid={study.studyInstanceUid} />
      </div>
      <div class="study-grid">
        <div>
          <h4>{t('study.patient')}</h4>
          <dl>
            <Field label="study.patientName" value={formatPersonName(study.patientName)} />
            <Field label="study.birthDate" value={formatDicomDate(study.patientBirthDate)} />
            <Field label="study.patientId" value={study.patientId} />
          </dl>
        </div>
        <div>
          <h4>{t('study.study')}</h4>
          <dl>
            <Field label="study.date" value={formatDicomDate(study.studyDate)} />
            <Field label="study.accession" value={study.accessionNumber} />
            <Field label="study.description" value={study.studyDescription} />
            <Field label="study.modalities" value={study.modalities.join(', ')} />
          </dl>
        </div>
      </div>
      <p class="counts">
        {countsText(study.dicomFiles, study.attachments.length, study.bytes)}
        {uploadedCount > 0 && uploadedCount < files ? ` ${t('study.uploadedEarlier', { count: uploadedCount })}` : ''}
      </p>
      {study.attachments.length > 0 ? (
        <ul class="attachments" aria-label={t('study.attachments')}>
          {study.attachments.map((a) => (
            <li key={a.id}>
              <Icon kind="document" /> <span class="file-name">{a.name}</span>{' '}
              <button type="button" class="link" onClick={() => removeItems([a.id])} aria-label={t('file.removeNamed', { name: a.name })}>
                {t('file.remove')}
              </button>
            </li>
          ))}
        </ul>
      ) : null}
      <label for={commentId}>{t('study.comment')}</label>
      <textarea
        id={commentId}
        rows={2}
        maxLength={1000}
        value={s.comments.value[study.studyInstanceUid] ?? ''}
        onInput={(e) => (s.comments.value = { ...s.comments.value, [study.studyInstanceUid]: e.currentTarget.value })}
      />
      <div class="row end">
        <button type="button" class="danger" id={`remove-study-${index}`} aria-describedby={titleId} onClick={() => removeStudy(study.studyInstanceUid)}>
          {t('study.remove')}
        </button>
      </div>
    </article>
  );
}
