/** The manifest builder (core/manifest.ts), pure: stored verified files in, studies → series → instances out. */
import { describe, expect, it } from 'vitest';
import type { FileRecord, SessionRecord } from '../../lambdas/core/model';
import { buildManifest } from '../../lambdas/core/manifest';

const session: SessionRecord = {
  sessionId: 'S1',
  institutionId: 'demo',
  tokenHash: '0'.repeat(64),
  codeHash: '1'.repeat(64),
  status: 'COMPLETING',
  limits: { maxSessionBytes: 1e9, maxStudyBytes: 1e9, maxDicomFilesAtOnce: 10, maxAttachmentsPerStudy: 10, maxAttachmentBytes: 1e7, allowedAttachmentTypes: ['pdf'] },
  reservedBytes: 0,
  receivedBytes: 0,
  dicomCount: 0,
  attachmentCount: 0,
  version: 1,
  codeReference: 'ORDER-7',
  createdAt: '2026-11-28T01:00:00.000Z',
  expiresAt: '2026-11-30T01:00:00.000Z',
};

function dicom(fileId: string, study: string, series: string, sop: string, size: number, declaredStudy = study): FileRecord {
  return {
    sessionId: 'S1',
    fileId,
    clientId: fileId,
    name: `${fileId}.dcm`,
    kind: 'dicom',
    size,
    studyInstanceUid: declaredStudy,
    sopInstanceUid: sop,
    objectKey: `sessions/S1/files/${fileId}`,
    status: 'VERIFIED',
    header: { studyInstanceUid: study, seriesInstanceUid: series, sopInstanceUid: sop, modality: 'CT', patientId: 'P1', studyDate: '20260101' },
    createdAt: '2026-11-28T01:00:00.000Z',
  };
}

function attachment(fileId: string, study: string, size: number): FileRecord {
  return {
    sessionId: 'S1',
    fileId,
    clientId: fileId,
    name: `${fileId}.pdf`,
    kind: 'attachment',
    size,
    studyInstanceUid: study,
    objectKey: `sessions/S1/files/${fileId}`,
    status: 'VERIFIED',
    detectedType: 'pdf',
    contentType: 'application/pdf',
    createdAt: '2026-11-28T01:00:00.000Z',
  };
}

describe('buildManifest', () => {
  it('groups instances by study and series from the header, attachments by link, and totals the bytes', () => {
    const manifest = buildManifest({
      session,
      files: [dicom('a', '1.1', '1.1.1', '1.1.1.2', 100), dicom('b', '1.1', '1.1.1', '1.1.1.1', 200), dicom('c', '1.1', '1.1.2', '1.1.2.1', 300), dicom('d', '2.2', '2.2.1', '2.2.1.1', 400), attachment('p', '2.2', 50), attachment('q', '', 60)],
      autoLinks: { q: '1.1' },
      comments: { '2.2': 'compare with last year' },
      contact: { email: 'a@example.org' },
      completedAt: '2026-11-28T02:00:00.000Z',
    });
    expect(manifest).toMatchObject({
      manifestVersion: 1,
      sessionId: 'S1',
      institutionId: 'demo',
      uploadCodeReference: 'ORDER-7',
      createdAt: session.createdAt,
      completedAt: '2026-11-28T02:00:00.000Z',
      uploader: { contact: { email: 'a@example.org' }, consent: { privacyPolicy: true, dataSharing: true, givenAt: '2026-11-28T02:00:00.000Z' } },
      totals: { studies: 2, series: 3, instances: 4, attachments: 2, dicomBytes: 1000, attachmentBytes: 110, bytes: 1110 },
    });
    const [first, second] = manifest.studies;
    expect(first!.studyInstanceUid).toBe('1.1');
    expect(first!.series.map((s) => [s.seriesInstanceUid, s.instances.map((i) => i.sopInstanceUid)])).toEqual([
      ['1.1.1', ['1.1.1.1', '1.1.1.2']],
      ['1.1.2', ['1.1.2.1']],
    ]);
    expect(first!.attachments.map((a) => a.fileId)).toEqual(['q']);
    expect(first!.bytes).toBe(660);
    expect(first!.patient).toEqual({ id: 'P1' });
    expect(first!.comment).toBeUndefined();
    expect(second).toMatchObject({ studyInstanceUid: '2.2', comment: 'compare with last year', bytes: 450, studyDate: '20260101' });
    expect(second!.attachments).toEqual([{ fileId: 'p', objectKey: 'sessions/S1/files/p', name: 'p.pdf', size: 50, type: 'pdf', contentType: 'application/pdf' }]);
  });

  it('files a DICOM under the study its header names, not the one declared', () => {
    const manifest = buildManifest({ session, files: [dicom('a', '3.3', '3.3.1', '3.3.1.1', 10, '9.9')], autoLinks: {}, comments: {}, contact: {}, completedAt: 'now' });
    expect(manifest.studies.map((s) => s.studyInstanceUid)).toEqual(['3.3']);
    expect(manifest.uploadCodeReference).toBe('ORDER-7');
  });
});

describe('uniqueReasons', () => {
  it('keeps each (code, file) once, in order', async () => {
    const { uniqueReasons } = await import('../../lambdas/core/session-rejection');
    const a = { code: 'NOT_DICOM' as const, message: 'm', fileId: 'f1' };
    const b = { code: 'SIZE_MISMATCH' as const, message: 'm', fileId: 'f1' };
    const c = { code: 'NOT_DICOM' as const, message: 'm', fileId: 'f2' };
    expect(uniqueReasons([a, b, { ...a }, c, { ...c }])).toEqual([a, b, c]);
  });
});
