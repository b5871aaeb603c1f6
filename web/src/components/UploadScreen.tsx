/** While uploading: overall progress, each study's state and progress, and Cancel. */
import { progressText, percentOf, studyLabel } from '../format';
import { t } from '../i18n';
import * as s from '../store/state';
import { cancelUpload } from '../store/upload';
import { StudyState } from './StudyCard';

function ProgressRow({ id, label, sent, total, secondsLeft }: { id: string; label: string; sent: number; total: number; secondsLeft?: number }) {
  return (
    <div class="progress-row">
      <label for={id}>{label}</label>
      <progress id={id} max={100} value={percentOf(sent, total)} />
      <p id={`${id}-text`} class="progress-text">
        {progressText(sent, total, secondsLeft)}
      </p>
    </div>
  );
}

export function UploadScreen() {
  const p = s.progress.value;
  const finishing = s.finishing.value;
  const studies = s.resultStudies.value;
  return (
    <section class="card" aria-labelledby="screen-title">
      <h1 id="screen-title" tabIndex={-1}>
        {t('upload.title')}
      </h1>
      <p id="upload-status" role="status">
        {finishing ? t('upload.finishing') : t('upload.keepOpen')}
      </p>
      <div id="overall">
        <ProgressRow id="progress-overall" label={t('progress.overall')} sent={p?.sentBytes ?? 0} total={p?.totalBytes ?? 0} secondsLeft={p?.secondsLeft} />
      </div>
      <ul class="study-progress">
        {studies.map((study, i) => {
          const row = p?.studies.find((x) => x.studyInstanceUid === study.studyInstanceUid);
          return (
            <li key={study.studyInstanceUid} data-study={study.studyInstanceUid}>
              {row ? <ProgressRow id={`progress-study-${i}`} label={studyLabel(study)} sent={row.sentBytes} total={row.totalBytes} /> : <p class="progress-label">{studyLabel(study)}</p>}
              <StudyState studyInstanceUid={study.studyInstanceUid} />
            </li>
          );
        })}
      </ul>
      <button type="button" id="cancel-upload" class="danger" disabled={finishing} onClick={cancelUpload}>
        {t('upload.cancel')}
      </button>
    </section>
  );
}
