/** One study as its headers describe it (also after a reload: the server's copy), its state and its files. */
import { Fragment, h } from 'preact';
import { countsText, studyLabel } from '../format';
import { t, type UiKey } from '../i18n';
import { formatDicomDate, formatPersonName, type Evaluation, type SelectedItem, type StudySummary } from '../selection';
import { removeItems, removeStudy } from '../store/files';
import * as s from '../store/state';
import { studyState } from '../store/upload';
import { Icon } from './Icon';

function Field({ label, value }: { label: UiKey; value: string | undefined }) {
  return h(Fragment, null, h('dt', null, t(label)), h('dd', null, value || '—'));
}

export function StudyState({ studyInstanceUid }: { studyInstanceUid: string }) {
  const state = studyState(studyInstanceUid);
  const text =
    state.kind === 'uploading'
      ? t('study.state.uploading', { percent: state.percent })
      : state.kind === 'resumed'
        ? t('study.state.resumed', { count: state.count })
        : state.kind === 'delivered' || state.kind === 'delivering' || state.kind === 'followUp'
          ? t(`study.state.${state.kind}`, { hospital: s.session.value?.institution.name ?? s.result.value?.institution?.name ?? '' })
          : t(`study.state.${state.kind}`);
  const done = state.kind === 'uploaded' || state.kind === 'delivered' || state.kind === 'followUp';
  return h('p', { class: `study-state state-${state.kind}`, 'data-state': state.kind }, done ? h(Icon, { kind: 'check' }) : null, ' ', text);
}

function HeaderFields({ study }: { study: StudySummary }) {
  return h(
    'div',
    { class: 'study-grid' },
    h(
      'div',
      null,
      h('h4', null, t('study.patient')),
      h(
        'dl',
        null,
        h(Field, { label: 'study.patientName', value: formatPersonName(study.patientName) }),
        h(Field, { label: 'study.birthDate', value: formatDicomDate(study.patientBirthDate) }),
        h(Field, { label: 'study.patientId', value: study.patientId }),
      ),
    ),
    h(
      'div',
      null,
      h('h4', null, t('study.study')),
      h(
        'dl',
        null,
        h(Field, { label: 'study.date', value: formatDicomDate(study.studyDate) }),
        h(Field, { label: 'study.accession', value: study.accessionNumber }),
        h(Field, { label: 'study.description', value: study.studyDescription }),
        h(Field, { label: 'study.modalities', value: study.modalities.join(', ') }),
      ),
    ),
  );
}

function Attachments({ attachments }: { attachments: SelectedItem[] }) {
  if (attachments.length === 0) return null;
  return h(
    'ul',
    { class: 'attachments', 'aria-label': t('study.attachments') },
    attachments.map((a) =>
      h(
        'li',
        { key: a.id },
        h(Icon, { kind: 'document' }),
        ' ',
        h('span', { class: 'file-name' }, a.name),
        ' ',
        h('button', { type: 'button', class: 'link', onClick: () => removeItems([a.id]), 'aria-label': t('file.removeNamed', { name: a.name }) }, t('file.remove')),
      ),
    ),
  );
}

export function StudyCard({ study, index, evaluation }: { study: StudySummary; index: number; evaluation: Evaluation }) {
  const uid = study.studyInstanceUid;
  const titleId = `study-${index}-title`;
  const commentId = `comment-${index}`;
  const uploadedCount = s.uploadedByStudy.value.get(uid) ?? 0;
  const files = study.dicomFiles + study.attachments.length;
  const tooLarge = evaluation.blocking.some((v) => v.code === 'STUDY_SIZE_LIMIT' && v.studyInstanceUid === uid);
  return h(
    'article',
    { class: `study${tooLarge ? ' too-large' : ''}`, 'aria-labelledby': titleId, 'data-study': uid },
    h('div', { class: 'study-head' }, h('h3', { id: titleId, tabIndex: -1 }, studyLabel(study)), h(StudyState, { studyInstanceUid: uid })),
    h(HeaderFields, { study }),
    h(
      'p',
      { class: 'counts' },
      countsText(study.dicomFiles, study.attachments.length, study.bytes),
      uploadedCount > 0 && uploadedCount < files ? ` ${t('study.uploadedEarlier', { count: uploadedCount })}` : '',
    ),
    h(Attachments, { attachments: study.attachments }),
    h('label', { for: commentId }, t('study.comment')),
    h('textarea', {
      id: commentId,
      rows: 2,
      maxLength: 1000,
      value: s.comments.value[uid] ?? '',
      onInput: (e: Event) => (s.comments.value = { ...s.comments.value, [uid]: (e.currentTarget as HTMLTextAreaElement).value }),
    }),
    h(
      'div',
      { class: 'row end' },
      h('button', { type: 'button', class: 'danger', id: `remove-study-${index}`, 'aria-describedby': titleId, onClick: () => removeStudy(uid) }, t('study.remove')),
    ),
  );
}
