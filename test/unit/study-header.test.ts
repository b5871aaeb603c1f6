import { describe, expect, it } from 'vitest';
import { addToStudyHeader, definedFields, studyHeaders, type StudyHeader } from '../../lambdas/core/study-header';

describe('study header fields', () => {
  it('takes the first non-empty value of each field and every modality, sorted', () => {
    const headers = studyHeaders([
      { studyInstanceUid: 'A', header: { patientName: '', modality: 'MR', studyDate: '20240102' } },
      { studyInstanceUid: 'A', header: { patientName: 'Doe^Jane', modality: 'CT', studyDate: '19990101' } },
      { studyInstanceUid: 'A' },
      { studyInstanceUid: 'B', header: { patientId: 'P2', modality: 'CT' } },
      { studyInstanceUid: 'A', header: { modality: 'CT' } },
    ]);
    expect(headers.get('A')).toEqual({ patientName: 'Doe^Jane', studyDate: '20240102', modalities: ['CT', 'MR'], patientId: undefined, patientBirthDate: undefined, accessionNumber: undefined, studyDescription: undefined });
    expect(definedFields(headers.get('A'))).toEqual({ patientName: 'Doe^Jane', studyDate: '20240102', modalities: ['CT', 'MR'] });
    expect(definedFields(headers.get('B'))).toEqual({ patientId: 'P2', modalities: ['CT'] });
  });

  it('a study with no inspected file adds nothing to the view', () => {
    expect(definedFields(studyHeaders([{ studyInstanceUid: 'A' }]).get('A'))).toEqual({});
    const target: StudyHeader = { modalities: [] };
    addToStudyHeader(target, { patientBirthDate: '19700101' });
    expect(definedFields(target)).toEqual({ patientBirthDate: '19700101' });
  });
});
