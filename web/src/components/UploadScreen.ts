/** While uploading: overall progress, each study's state and progress, and Cancel. */
import { h } from 'preact';
import { percentOf, progressText, studyLabel } from '../format';
import { t } from '../i18n';
import * as s from '../store/state';
import { cancelUpload } from '../store/upload';
import { StudyState } from './StudyCard';

function ProgressRow({ id, label, sent, total, secondsLeft }: { id: string; label: string; sent: number; total: number; secondsLeft?: number }) {
  return h(
    'div',
    { class: 'progress-row' },
    h('label', { for: id }, label),
    h('progress', { id, max: 100, value: percentOf(sent, total) }),
    h('p', { id: `${id}-text`, class: 'progress-text' }, progressText(sent, total, secondsLeft)),
  );
}

export function UploadScreen() {
  const p = s.progress.value;
  const finishing = s.finishing.value;
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'screen-title' },
    h('h1', { id: 'screen-title', tabIndex: -1 }, t('upload.title')),
    h('p', { id: 'upload-status', role: 'status' }, finishing ? t('upload.finishing') : t('upload.keepOpen')),
    h('div', { id: 'overall' }, h(ProgressRow, { id: 'progress-overall', label: t('progress.overall'), sent: p?.sentBytes ?? 0, total: p?.totalBytes ?? 0, secondsLeft: p?.secondsLeft })),
    h(
      'ul',
      { class: 'study-progress' },
      s.resultStudies.value.map((study, i) => {
        const row = p?.studies.find((x) => x.studyInstanceUid === study.studyInstanceUid);
        return h(
          'li',
          { key: study.studyInstanceUid, 'data-study': study.studyInstanceUid },
          row
            ? h(ProgressRow, { id: `progress-study-${i}`, label: studyLabel(study), sent: row.sentBytes, total: row.totalBytes })
            : h('p', { class: 'progress-label' }, studyLabel(study)),
          h(StudyState, { studyInstanceUid: study.studyInstanceUid }),
        );
      }),
    ),
    h('button', { type: 'button', id: 'cancel-upload', class: 'danger', disabled: finishing, onClick: cancelUpload }, t('upload.cancel')),
  );
}
