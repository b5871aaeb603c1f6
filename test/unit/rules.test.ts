import { describe, expect, it } from 'vitest';
import { evaluateSelection, type SelectionFile } from '../../lambdas/core/rules';
import type { Limits } from '../../lambdas/core/model';

const limits = (over: Partial<Limits> = {}): Limits => ({
  maxSessionBytes: 1000,
  maxStudyBytes: 1000,
  maxDicomFilesAtOnce: 10,
  maxAttachmentsPerStudy: 10,
  maxAttachmentBytes: 500,
  allowedAttachmentTypes: ['pdf', 'jpeg', 'png'],
  ...over,
});

let n = 0;
const dicom = (study: string, size = 1, extra: Partial<SelectionFile> = {}): SelectionFile => ({ id: `d${++n}`, kind: 'dicom', size, studyInstanceUid: study, ...extra });
const attachment = (study?: string, size = 1, extra: Partial<SelectionFile> = {}): SelectionFile => ({ id: `a${++n}`, kind: 'attachment', size, studyInstanceUid: study, ...extra });
const codes = (files: SelectionFile[], l = limits()) => evaluateSelection(files, l).violations.map((v) => v.code);

describe('evaluateSelection', () => {
  it('passes an empty selection and a clean one', () => {
    expect(codes([])).toEqual([]);
    expect(codes([dicom('1.2'), attachment('1.2')])).toEqual([]);
  });

  describe('ATTACHMENT_WITHOUT_DICOM', () => {
    it('refuses attachments alone with the exact message', () => {
      const result = evaluateSelection([attachment(), attachment()], limits());
      expect(result.violations).toHaveLength(1);
      expect(result.violations[0]).toMatchObject({
        code: 'ATTACHMENT_WITHOUT_DICOM',
        message: 'You can only upload non-DICOM files if you also upload at least one DICOM file',
      });
      expect(result.violations[0]!.files).toHaveLength(2);
    });
    it('clears once one DICOM file is added, and links automatically', () => {
      const a = attachment();
      const result = evaluateSelection([a, dicom('1.2')], limits());
      expect(result.violations).toEqual([]);
      expect(result.autoLinks).toEqual({ [a.id]: '1.2' });
      expect(result.studies[0]).toMatchObject({ studyInstanceUid: '1.2', dicomFiles: 1, attachments: 1, bytes: 2 });
    });
  });

  describe('UNLINKED_ATTACHMENTS', () => {
    it('with several studies lists each unlinked attachment', () => {
      const a1 = attachment();
      const a2 = attachment('9.9'); // linked to a study that is not in the selection
      const result = evaluateSelection([dicom('1'), dicom('2'), a1, a2, attachment('2')], limits());
      expect(result.violations).toHaveLength(1);
      expect(result.violations[0]).toMatchObject({ code: 'UNLINKED_ATTACHMENTS', message: 'Please add the following files to a study or remove them' });
      expect(result.violations[0]!.files).toEqual([a1.id, a2.id]);
      expect(result.autoLinks).toEqual({});
    });
    it('with one study links nothing by hand', () => {
      expect(codes([dicom('1'), dicom('1'), attachment(), attachment('other')])).toEqual([]);
    });
  });

  describe('ATTACHMENT_LIMIT', () => {
    const withAttachments = (count: number, l = limits()) =>
      evaluateSelection([dicom('1'), ...Array.from({ length: count }, () => attachment('1'))], l);
    it('allows exactly the maximum', () => {
      expect(withAttachments(10).violations).toEqual([]);
    });
    it('refuses one more, and the message carries the count', () => {
      const result = withAttachments(11);
      expect(result.violations).toHaveLength(1);
      expect(result.violations[0]).toMatchObject({
        code: 'ATTACHMENT_LIMIT',
        studyInstanceUid: '1',
        message: "Currently added '11' non-DICOM files. Adding these would surpass the maximum of 10 non-DICOM files that can be added to a study.",
      });
    });
    it('counts per study, not per session', () => {
      const files = [dicom('1'), dicom('2'), ...Array.from({ length: 10 }, () => attachment('1')), ...Array.from({ length: 10 }, () => attachment('2'))];
      expect(codes(files)).toEqual([]);
    });
    it('works with a limit of 0', () => {
      expect(withAttachments(0, limits({ maxAttachmentsPerStudy: 0 })).violations).toEqual([]);
      expect(withAttachments(1, limits({ maxAttachmentsPerStudy: 0 })).violations.map((v) => v.code)).toEqual(['ATTACHMENT_LIMIT']);
    });
  });

  describe('SESSION_SIZE_LIMIT and STUDY_SIZE_LIMIT', () => {
    it('passes exactly at the session limit and fails one byte over', () => {
      expect(codes([dicom('1', 600), dicom('2', 400)], limits({ maxStudyBytes: 1000 }))).toEqual([]);
      const over = evaluateSelection([dicom('1', 600), dicom('2', 401)], limits());
      expect(over.violations).toHaveLength(1);
      expect(over.violations[0]!.code).toBe('SESSION_SIZE_LIMIT');
    });
    it('with several studies over the limit suggests a new upload code, starting with the exact text', () => {
      const v = evaluateSelection([dicom('1', 600), dicom('2', 401)], limits()).violations[0]!;
      expect(v.message.startsWith('Total file size exceeds the limit')).toBe(true);
      expect(v.message).toContain('request a new upload code');
      expect(v.details).toMatchObject({ advice: 'REQUEST_NEW_CODE', bytes: 1001, limit: 1000 });
    });
    it('one study over the limit says the hospital has to allow larger studies', () => {
      const result = evaluateSelection([dicom('1', 1001)], limits());
      expect(result.violations.map((v) => v.code).sort()).toEqual(['SESSION_SIZE_LIMIT', 'STUDY_SIZE_LIMIT']);
      const study = result.violations.find((v) => v.code === 'STUDY_SIZE_LIMIT')!;
      expect(study.message).toContain('hospital allows larger studies');
      expect(study.studyInstanceUid).toBe('1');
      expect(result.violations.find((v) => v.code === 'SESSION_SIZE_LIMIT')!.message).toBe('Total file size exceeds the limit');
    });
    it('applies maxStudyBytes below the session limit, at its boundary', () => {
      const l = limits({ maxStudyBytes: 500 });
      expect(codes([dicom('1', 499), attachment('1', 1), dicom('2', 500)], l)).toEqual([]);
      expect(codes([dicom('1', 500), attachment('1', 1), dicom('2', 10)], l)).toEqual(['STUDY_SIZE_LIMIT']);
    });
    it('counts attachments in the session total', () => {
      expect(codes([dicom('1', 900), attachment('1', 100)])).toEqual([]);
      expect(codes([dicom('1', 900), attachment('1', 101)]).sort()).toEqual(['SESSION_SIZE_LIMIT', 'STUDY_SIZE_LIMIT']);
    });
    it('works with a limit of 0: empty files pass, one byte fails', () => {
      const zero = limits({ maxSessionBytes: 0, maxStudyBytes: 0 });
      expect(codes([dicom('1', 0)], zero)).toEqual([]);
      expect(codes([dicom('1', 1)], zero)).toContain('SESSION_SIZE_LIMIT');
    });
  });

  describe('DICOM_BATCH_LIMIT', () => {
    const batch = (count: number, l = limits()) => codes(Array.from({ length: count }, () => dicom('1', 1, { inBatch: true })), l);
    it('allows exactly maxDicomFilesAtOnce in one batch, refuses one more', () => {
      expect(batch(10)).toEqual([]);
      expect(batch(11)).toEqual(['DICOM_BATCH_LIMIT']);
    });
    it('does not count files declared before this batch', () => {
      const earlier = Array.from({ length: 30 }, () => dicom('1'));
      const now = Array.from({ length: 10 }, () => dicom('1', 1, { inBatch: true }));
      expect(codes([...earlier, ...now])).toEqual([]);
    });
    it('follows the configured limit, down to 1', () => {
      expect(batch(1, limits({ maxDicomFilesAtOnce: 1 }))).toEqual([]);
      expect(batch(2, limits({ maxDicomFilesAtOnce: 1 }))).toEqual(['DICOM_BATCH_LIMIT']);
    });
  });

  describe('attachment size, type and duplicate images', () => {
    it('allows an attachment of exactly maxAttachmentBytes, refuses one byte more', () => {
      expect(codes([dicom('1'), attachment('1', 500)])).toEqual([]);
      expect(codes([dicom('1'), attachment('1', 501)])).toEqual(['ATTACHMENT_TOO_LARGE']);
    });
    it('refuses attachment types the hospital did not allow', () => {
      expect(codes([dicom('1'), attachment('1', 1, { attachmentType: 'other' })])).toEqual(['ATTACHMENT_TYPE_NOT_ALLOWED']);
      expect(codes([dicom('1'), attachment('1', 1, { attachmentType: 'png' })], limits({ allowedAttachmentTypes: ['pdf'] }))).toEqual(['ATTACHMENT_TYPE_NOT_ALLOWED']);
      expect(codes([dicom('1'), attachment('1', 1, { attachmentType: 'pdf' })], limits({ allowedAttachmentTypes: ['pdf'] }))).toEqual([]);
    });
    it('refuses the same SOPInstanceUID twice', () => {
      const first = dicom('1', 1, { sopInstanceUid: '1.2.3' });
      const second = dicom('1', 1, { sopInstanceUid: '1.2.3' });
      const result = evaluateSelection([first, second, dicom('1', 1, { sopInstanceUid: '1.2.4' })], limits());
      expect(result.violations).toHaveLength(1);
      expect(result.violations[0]).toMatchObject({ code: 'DUPLICATE_SOP_INSTANCE', files: [second.id] });
    });
  });

  it('speaks the language asked for, from the one catalog', () => {
    const result = evaluateSelection([attachment()], limits(), 'de');
    expect(result.violations[0]!.message).toBe('Sie können Nicht-DICOM-Dateien nur hochladen, wenn Sie auch mindestens eine DICOM-Datei hochladen');
  });
});
