/** The select-and-verify screen: the hospital, what a reload kept, the file picker and the verify panel. */
import type { Institution } from '../api';
import { t } from '../i18n';
import * as s from '../store/state';
import { FilePicker } from './FilePicker';
import { VerifyPanel } from './VerifyPanel';

export function SelectScreen() {
  const session = s.session.value!;
  void s.selectionVersion.value;
  return (
    <div class="screen">
      <h1 id="screen-title" tabIndex={-1} class="visually-hidden">
        {t('select.screenTitle')}
      </h1>
      <InstitutionCard institution={session.institution} />
      <ResumeNotice />
      {s.notice.value ? (
        <p class="notice" role="status">
          {s.notice.value}
        </p>
      ) : null}
      <FilePicker />
      {s.selection.size > 0 || s.removedStudy.value ? <VerifyPanel /> : null}
    </div>
  );
}

export function InstitutionCard({ institution }: { institution: Institution }) {
  return (
    <section class="card institution" aria-labelledby="institution-title">
      <h2 id="institution-title">{t('institution.title')}</h2>
      <p class="institution-name">{institution.name}</p>
      <ContactLinks institution={institution} manual />
    </section>
  );
}

export function ContactLinks({ institution, manual }: { institution: Institution; manual?: boolean }) {
  return (
    <ul class="contact">
      {institution.phone ? (
        <li>
          {t('institution.phone')}: <a href={`tel:${institution.phone.replace(/[^+\d]/g, '')}`}>{institution.phone}</a>
        </li>
      ) : null}
      {institution.email ? (
        <li>
          {t('institution.email')}: <a href={`mailto:${institution.email}`}>{institution.email}</a>
        </li>
      ) : null}
      {manual && institution.manualUrl ? (
        <li>
          <a href={institution.manualUrl} target="_blank" rel="noopener">
            {t('institution.manual')}
          </a>
        </li>
      ) : null}
    </ul>
  );
}

/** After a reload: what was kept, what was lost, and what to do. */
function ResumeNotice() {
  const resumed = s.resumeNotice.value;
  if (!resumed) return null;
  return (
    <section class="notice resume" role="status" aria-labelledby="resume-title">
      <h2 id="resume-title">{t('resume.title')}</h2>
      <ul>
        <li>{t('resume.kept', { count: resumed.uploadedFiles })}</li>
        <li>{t('resume.lost')}</li>
        <li>{t('resume.todo')}</li>
      </ul>
    </section>
  );
}
