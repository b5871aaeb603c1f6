import { describe, expect, it } from 'vitest';
import { Selection, formatDicomDate, formatPersonName, type SelectedItem } from '../../web/src/selection';
import type { Limits } from '../../lambdas/core/model';

const limits: Limits = {
  maxSessionBytes: 1_000_000,
  maxStudyBytes: 1_000_000,
  maxDicomFilesAtOnce: 10,
  maxAttachmentsPerStudy: 10,
  maxAttachmentBytes: 100_000,
  allowedAttachmentTypes: ['pdf', 'jpeg', 'png'],
};

let n = 0;
function dicom(study: string, extra: Partial<SelectedItem> = {}): SelectedItem {
  const id = `d${++n}`;
  return { id, name: `${id}.dcm`, path: `${id}.dcm`, size: 1000, kind: 'dicom', sourceKey: id, dicom: { studyInstanceUid: study, sopInstanceUid: `1.2.${n}`, patientName: 'Citizen^Jan', studyDate: '20200913', modality: 'CT' }, ...extra };
}
function pdf(extra: Partial<SelectedItem> = {}): SelectedItem {
  const id = `a${++n}`;
  return { id, name: `${id}.pdf`, path: `${id}.pdf`, size: 500, kind: 'attachment', attachmentType: 'pdf', contentType: 'application/pdf', sourceKey: id, ...extra };
}

describe('Selection (portal rules through the shared rule module)', () => {
  it('an attachment alone gives the exact message; a DICOM file clears it and auto-links the attachment', () => {
    const s = new Selection();
    const report = pdf();
    s.add(report);
    const alone = s.evaluate(limits, 'en');
    expect(alone.blocking.map((v) => v.message)).toEqual(['You can only upload non-DICOM files if you also upload at least one DICOM file']);

    s.add(dicom('1.1'));
    const linked = s.evaluate(limits, 'en');
    expect(linked.violations).toEqual([]);
    expect(linked.autoLinks[report.id]).toBe('1.1');
    expect(linked.studySummaries[0]!.attachments.map((a) => a.id)).toEqual([report.id]);
    expect(s.studyOf(report, linked.autoLinks)).toBe('1.1');
  });

  it('with two studies, attachments wait in the unlinked list until linked', () => {
    const s = new Selection();
    s.add(dicom('1.1'));
    s.add(dicom('2.2', { dicom: { studyInstanceUid: '2.2', patientName: 'Doe^Ann', modality: 'MR' } }));
    const a = pdf();
    const b = pdf();
    s.add(a);
    s.add(b);
    const before = s.evaluate(limits, 'en');
    expect(before.unlinked.map((i) => i.id)).toEqual([a.id, b.id]);
    expect(before.violations.find((v) => v.code === 'UNLINKED_ATTACHMENTS')?.message).toBe('Please add the following files to a study or remove them');
    expect(before.blocking).toEqual([]);

    expect(s.link([a.id, b.id], '2.2', limits, 'en')).toBeNull();
    const after = s.evaluate(limits, 'en');
    expect(after.unlinked).toEqual([]);
    expect(after.violations).toEqual([]);
    expect(after.studySummaries.find((x) => x.studyInstanceUid === '2.2')!.attachments).toHaveLength(2);
  });

  it('refuses a link that would pass 10 attachments, with the count in the message', () => {
    const s = new Selection();
    s.add(dicom('1.1'));
    s.add(dicom('2.2'));
    const first = Array.from({ length: 9 }, () => pdf());
    first.forEach((f) => s.add(f));
    expect(s.link(first.map((f) => f.id), '1.1', limits, 'en')).toBeNull();
    const more = [pdf(), pdf()];
    more.forEach((f) => s.add(f));
    const refused = s.link(more.map((f) => f.id), '1.1', limits, 'en');
    expect(refused?.code).toBe('ATTACHMENT_LIMIT');
    expect(refused?.message).toBe("Currently added '11' non-DICOM files. Adding these would surpass the maximum of 10 non-DICOM files that can be added to a study.");
    // Nothing changed: both are still waiting.
    expect(s.evaluate(limits, 'en').unlinked.map((i) => i.id)).toEqual(more.map((f) => f.id));
  });

  it('11 attachments on one study give the limit message with the count', () => {
    const s = new Selection();
    s.add(dicom('1.1'));
    for (let i = 0; i < 11; i++) s.add(pdf());
    const e = s.evaluate(limits, 'en');
    expect(e.blocking.map((v) => v.message)).toEqual([
      "Currently added '11' non-DICOM files. Adding these would surpass the maximum of 10 non-DICOM files that can be added to a study.",
    ]);
  });

  it('over the session limit gives the size message; several studies add the new-code advice', () => {
    const s = new Selection();
    s.add(dicom('1.1', { size: 600_000 }));
    s.add(dicom('1.1', { size: 500_000 }));
    const one = s.evaluate({ ...limits, maxStudyBytes: 2_000_000, maxSessionBytes: 1_000_000 }, 'en');
    expect(one.blocking.map((v) => v.message)).toContain('Total file size exceeds the limit');
    s.add(dicom('2.2', { size: 10 }));
    const several = s.evaluate(limits, 'en');
    expect(several.blocking.find((v) => v.code === 'SESSION_SIZE_LIMIT')?.message).toMatch(/^Total file size exceeds the limit\. .*new upload code/);
  });

  it('groups studies with patient and study fields, and removes a study with its attachments', () => {
    const s = new Selection();
    s.add(dicom('1.1', { dicom: { studyInstanceUid: '1.1', modality: 'CT', patientId: 'P1', studyDescription: 'Head' } }));
    s.add(dicom('1.1', { dicom: { studyInstanceUid: '1.1', modality: 'PR' } }));
    const a = pdf();
    s.add(a);
    const e = s.evaluate(limits, 'en');
    expect(e.studySummaries).toHaveLength(1);
    expect(e.studySummaries[0]).toMatchObject({ dicomFiles: 2, modalities: ['CT', 'PR'], patientId: 'P1', studyDescription: 'Head', bytes: 2500 });
    s.removeStudy('1.1', e.autoLinks);
    expect(s.size).toBe(0);
  });

  it('ignores the same file added twice', () => {
    const s = new Selection();
    const d = dicom('1.1');
    expect(s.add(d)).toBe(true);
    expect(s.add({ ...d, id: 'other' })).toBe(false);
    expect(s.size).toBe(1);
  });

  it('rule messages follow the chosen language', async () => {
    await import('../../web/src/i18n');
    const s = new Selection();
    s.add(pdf());
    expect(s.evaluate(limits, 'nl').blocking[0]!.message).toBe('U kunt alleen niet-DICOM-bestanden uploaden als u ook minstens één DICOM-bestand uploadt');
    expect(s.evaluate(limits, 'en').blocking[0]!.message).toBe('You can only upload non-DICOM files if you also upload at least one DICOM file');
  });
});

describe('display formatting', () => {
  it('formats DICOM dates and person names', () => {
    expect(formatDicomDate('20200913')).toBe('2020-09-13');
    expect(formatDicomDate('2020')).toBe('2020');
    expect(formatDicomDate(undefined)).toBeUndefined();
    expect(formatPersonName('Citizen^Jan')).toBe('Jan Citizen');
    expect(formatPersonName('Yamada^Tarou=山田^太郎')).toBe('Tarou Yamada');
    expect(formatPersonName('^^^')).toBeUndefined();
  });
});
