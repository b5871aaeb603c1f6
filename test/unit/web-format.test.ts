import { describe, expect, it } from 'vitest';
import { distinctPatients, percentOf, progressText, shortReference, studyLabel } from '../../web/src/format';
import { Selection, type StudySummary } from '../../web/src/selection';
import { setLanguage } from '../../web/src/i18n';
import { CODE_GROUPS, normalizeUploadCode } from '../../lambdas/core/codes';
import { uiCatalogs } from '../../web/src/i18n';

const study = (fields: Partial<StudySummary>): StudySummary => ({ studyInstanceUid: '1.2', modalities: [], dicomFiles: 1, attachments: [], bytes: 1, ...fields });

describe('portal wording', () => {
  it('counts patients by name and birth date, ignoring case, spacing and unnamed studies', () => {
    expect(distinctPatients([study({ patientName: 'Doe^Jane', patientBirthDate: '19700101' }), study({ patientName: 'DOE^JANE ', patientBirthDate: '19700101' })])).toEqual(['Jane Doe (1970-01-01)']);
    expect(distinctPatients([study({ patientName: 'Doe^Jane', patientBirthDate: '19700101' }), study({ patientName: 'Doe^Jane', patientBirthDate: '19710101' }), study({})])).toEqual([
      'Jane Doe (1970-01-01)',
      'Jane Doe (1971-01-01)',
    ]);
    expect(distinctPatients([study({ patientName: 'Doe^John' }), study({ patientName: 'Roe^Rita' })])).toEqual(['John Doe', 'Rita Roe']);
  });

  it('names a study by patient, date and description, else its modalities, else says it has none', () => {
    setLanguage('en');
    expect(studyLabel(study({ patientName: 'Doe^Jane', studyDate: '20240102', studyDescription: 'Knee' }))).toBe('Jane Doe · 2024-01-02 · Knee');
    expect(studyLabel(study({ modalities: ['CT', 'MR'] }))).toBe('CT, MR');
    expect(studyLabel(study({}))).toBe('Study without a description');
  });

  it('a reference is the session id’s first 8 characters; progress rounds down', () => {
    expect(shortReference('AbC_d-12xyzXYZ0123456789')).toBe('AbC_d-12');
    expect(percentOf(999, 1000)).toBe(99);
    expect(percentOf(0, 0)).toBe(100);
    expect(progressText(500_000, 1_000_000, 30)).toBe('500 KB of 1 MB (50%) · about 30 seconds left');
  });

  it('the example code in every language has the format the core issues', () => {
    for (const catalog of Object.values(uiCatalogs)) {
      const example = /[0-9A-Z]{4}(?:-[0-9A-Z]{4})+/.exec(catalog['code.help'])![0];
      expect(example.split('-')).toHaveLength(CODE_GROUPS);
      expect(normalizeUploadCode(example)).toBe(example.replace(/-/g, ''));
    }
  });

  it('a resumed study takes its header fields from the server until its files are read again', () => {
    const selection = new Selection();
    selection.knownStudies.set('1.2', { patientName: 'Doe^Jane', studyDate: '20240102', modalities: ['MR'] });
    selection.add({ id: 'a', name: 'x.dcm', path: 'x.dcm', size: 10, kind: 'dicom', sourceKey: 'server:f1', uploaded: true, fileId: 'f1', dicom: { studyInstanceUid: '1.2' } });
    const limits = { maxSessionBytes: 1e9, maxStudyBytes: 1e9, maxDicomFilesAtOnce: 10, maxAttachmentsPerStudy: 10, maxAttachmentBytes: 1e6, allowedAttachmentTypes: ['pdf' as const] };
    expect(selection.evaluate(limits, 'en').studySummaries[0]).toMatchObject({ patientName: 'Doe^Jane', studyDate: '20240102', modalities: ['MR'], dicomFiles: 1 });
    selection.add({ id: 'b', name: 'y.dcm', path: 'y.dcm', size: 10, kind: 'dicom', sourceKey: 'k', dicom: { studyInstanceUid: '1.2', modality: 'CT', patientName: 'Other^Name' } });
    expect(selection.evaluate(limits, 'en').studySummaries[0]).toMatchObject({ patientName: 'Doe^Jane', modalities: ['CT', 'MR'], dicomFiles: 2 });
  });
});
