/**
 * Every rule of DESIGN.md at its boundary, through the real API on DynamoDB Local: the last value
 * that passes, the first that breaks (422 with the rule's code and exact message), and a 422 never
 * reserves anything. Plus removal (released exactly once, object deleted) and closed sessions (409).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { formatBytes, message } from '../../lambdas/core/messages';
import { objectKeyFor } from '../../lambdas/core/model';
import { attachmentFile, dicomFile, sha256Of, startApi, testUid, type ApiHarness } from './helpers/api';
import { testInstitution } from './helpers/emulators';

let api: ApiHarness;
const MAX_STUDY = 600_000;
const MAX_ATTACHMENT = 50_000;

beforeAll(async () => {
  api = await startApi('api-rules', {
    institution: testInstitution({
      limits: { maxSessionBytes: 1_000_000, maxStudyBytes: MAX_STUDY, maxAttachmentBytes: MAX_ATTACHMENT, maxAttachmentsPerStudy: 10, maxDicomFilesAtOnce: 10 },
    }),
  });
});
afterAll(async () => api?.close());

async function session(codeBody: Record<string, unknown> = {}) {
  return api.openSession(await api.issueCode(codeBody));
}

async function snapshot(sessionId: string, token: string) {
  const res = await api.getSession(sessionId, token);
  expect(res.status).toBe(200);
  return { usage: res.body.usage, files: res.body.files.length, studies: res.body.studies };
}

async function accepted(s: { sessionId: string; token: string }, files: unknown[]) {
  const res = await api.requestUploads(s.sessionId, s.token, files);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.uploads as { clientId: string; fileId: string; url: string; headers: Record<string, string> }[];
}

/** Asserts the 422 with code and exact message, and that nothing was reserved. */
async function refused(s: { sessionId: string; token: string }, files: unknown[], code: string, text: string) {
  const before = await snapshot(s.sessionId, s.token);
  const res = await api.requestUploads(s.sessionId, s.token, files);
  expect(res.status, JSON.stringify(res.body)).toBe(422);
  expect(res.body.error.code).toBe(code);
  expect(res.body.error.message).toBe(text);
  expect(await snapshot(s.sessionId, s.token)).toEqual(before);
  return res.body.error;
}

describe('rules at their boundaries', () => {
  it('DICOM_BATCH_LIMIT: 10 DICOM files in one request pass, 11 do not', async () => {
    const s = await session();
    const study = testUid();
    await accepted(s, Array.from({ length: 10 }, () => dicomFile(study, 100)));
    await refused(s, Array.from({ length: 11 }, () => dicomFile(study, 100)), 'DICOM_BATCH_LIMIT', message('DICOM_BATCH_LIMIT', [10]));
  });

  it('SESSION_SIZE_LIMIT: a code limit of exactly the total passes, one byte more does not', async () => {
    const s = await session({ maxSessionBytes: 1000 });
    expect(s.limits.maxSessionBytes).toBe(1000);
    await accepted(s, [dicomFile(testUid(), 600), dicomFile(testUid(), 400)]);
    const error = await refused(s, [dicomFile(testUid(), 1)], 'SESSION_SIZE_LIMIT', message('SESSION_SIZE_LIMIT_NEW_CODE'));
    expect(error.details.violations.map((v: { code: string }) => v.code)).toEqual(['SESSION_SIZE_LIMIT']);
  });

  it('SESSION_SIZE_LIMIT: a code with a limit of 0 refuses the first byte', async () => {
    const s = await session({ maxSessionBytes: 0 });
    const error = await refused(s, [dicomFile(testUid(), 1)], 'STUDY_SIZE_LIMIT', message('STUDY_SIZE_LIMIT', [formatBytes(0)]));
    expect(error.details.violations.map((v: { code: string }) => v.code)).toEqual(['STUDY_SIZE_LIMIT', 'SESSION_SIZE_LIMIT']);
    // With one study the session message is DESIGN.md's exact text.
    expect(error.details.violations[1].message).toBe('Total file size exceeds the limit');
  });

  it('STUDY_SIZE_LIMIT: a study of exactly the limit passes, one byte more does not, across requests', async () => {
    const s = await session();
    const study = testUid();
    await accepted(s, [dicomFile(study, MAX_STUDY / 2)]);
    await accepted(s, [dicomFile(study, MAX_STUDY / 2)]);
    await refused(s, [dicomFile(study, 1)], 'STUDY_SIZE_LIMIT', message('STUDY_SIZE_LIMIT', [formatBytes(MAX_STUDY)]));
    // Another study still fits in the session.
    await accepted(s, [dicomFile(testUid(), 1)]);
  });

  it('ATTACHMENT_WITHOUT_DICOM: an attachment alone is refused; with a DICOM file it passes', async () => {
    const s = await session();
    await refused(s, [attachmentFile(undefined, 100)], 'ATTACHMENT_WITHOUT_DICOM', message('ATTACHMENT_WITHOUT_DICOM'));
    await accepted(s, [dicomFile(testUid(), 100), attachmentFile(undefined, 100)]);
  });

  it('ATTACHMENT_WITHOUT_DICOM wins over ATTACHMENT_STUDY_UNKNOWN when the session and the batch hold no DICOM', async () => {
    const s = await session();
    await refused(s, [attachmentFile(testUid(), 100)], 'ATTACHMENT_WITHOUT_DICOM', message('ATTACHMENT_WITHOUT_DICOM'));
    const [dicom] = await accepted(s, [dicomFile(testUid(), 100)]);
    await refused(s, [attachmentFile(testUid(), 50)], 'ATTACHMENT_STUDY_UNKNOWN', message('ATTACHMENT_STUDY_UNKNOWN'));
    expect((await api.removeFile(s.sessionId, s.token, dicom!.fileId)).status).toBe(204);
    await refused(s, [attachmentFile(testUid(), 50)], 'ATTACHMENT_WITHOUT_DICOM', message('ATTACHMENT_WITHOUT_DICOM'));
  });

  it('UNLINKED_ATTACHMENTS: with one study an attachment is linked to it; with two it must name one', async () => {
    const s = await session();
    const first = testUid();
    const [upload] = await accepted(s, [dicomFile(first, 100)]).then(async () => accepted(s, [attachmentFile(undefined, 50)]));
    const state = await api.getSession(s.sessionId, s.token);
    expect(state.body.files.find((f: { fileId: string }) => f.fileId === upload!.fileId).studyInstanceUid).toBe(first);

    const second = testUid();
    await accepted(s, [dicomFile(second, 100)]);
    await refused(s, [attachmentFile(undefined, 50)], 'UNLINKED_ATTACHMENTS', message('UNLINKED_ATTACHMENTS'));
    await accepted(s, [attachmentFile(second, 50)]);
  });

  it('ATTACHMENT_STUDY_UNKNOWN: an attachment linked to a study that is not in the upload is refused', async () => {
    const s = await session();
    await accepted(s, [dicomFile(testUid(), 100)]);
    await refused(s, [attachmentFile(testUid(), 50)], 'ATTACHMENT_STUDY_UNKNOWN', message('ATTACHMENT_STUDY_UNKNOWN'));
  });

  it('ATTACHMENT_LIMIT: 10 attachments per study pass, the 11th does not', async () => {
    const s = await session();
    const study = testUid();
    await accepted(s, [dicomFile(study, 100), ...Array.from({ length: 9 }, () => attachmentFile(study, 10))]);
    await accepted(s, [attachmentFile(study, 10)]);
    await refused(s, [attachmentFile(study, 10)], 'ATTACHMENT_LIMIT', message('ATTACHMENT_LIMIT', { x: 11, max: 10 }));
    // The limit is per study: another study takes its own 10.
    const other = testUid();
    await accepted(s, [dicomFile(other, 100), ...Array.from({ length: 10 }, () => attachmentFile(other, 10))]);
  });

  it('ATTACHMENT_TOO_LARGE: an attachment of exactly the maximum passes, one byte more does not', async () => {
    const s = await session();
    const study = testUid();
    await accepted(s, [dicomFile(study, 100), attachmentFile(study, MAX_ATTACHMENT)]);
    await refused(s, [attachmentFile(study, MAX_ATTACHMENT + 1)], 'ATTACHMENT_TOO_LARGE', message('ATTACHMENT_TOO_LARGE', [formatBytes(MAX_ATTACHMENT)]));
  });

  it('ATTACHMENT_TYPE_NOT_ALLOWED: PDF, JPEG and PNG pass (by type or name); anything else does not', async () => {
    const s = await session();
    const study = testUid();
    await accepted(s, [
      dicomFile(study, 100),
      attachmentFile(study, 10, { name: 'scan.JPG', contentType: undefined }),
      attachmentFile(study, 10, { name: 'photo', contentType: 'image/png' }),
    ]);
    await refused(
      s,
      [attachmentFile(study, 10, { name: 'setup.exe', contentType: 'application/x-msdownload' })],
      'ATTACHMENT_TYPE_NOT_ALLOWED',
      message('ATTACHMENT_TYPE_NOT_ALLOWED', ['PDF, JPEG, PNG']),
    );
  });

  it('DUPLICATE_SOP_INSTANCE: refused within a request and across requests; allowed again once removed', async () => {
    const s = await session();
    const study = testUid();
    const sop = testUid();
    await refused(
      s,
      [dicomFile(study, 100, { sopInstanceUid: sop }), dicomFile(study, 100, { sopInstanceUid: sop })],
      'DUPLICATE_SOP_INSTANCE',
      message('DUPLICATE_SOP_INSTANCE'),
    );
    const [first] = await accepted(s, [dicomFile(study, 100, { sopInstanceUid: sop })]);
    await refused(s, [dicomFile(study, 100, { sopInstanceUid: sop })], 'DUPLICATE_SOP_INSTANCE', message('DUPLICATE_SOP_INSTANCE'));
    expect((await api.removeFile(s.sessionId, s.token, first!.fileId)).status).toBe(204);
    await accepted(s, [dicomFile(study, 100, { sopInstanceUid: sop })]);
  });
});

describe('removing files', () => {
  it('releases the reservation exactly once and deletes an arrived object', async () => {
    const s = await session({ maxSessionBytes: 1000 });
    const study = testUid();
    const [kept, removed] = await accepted(s, [dicomFile(study, 400), dicomFile(study, 600, { sha256: sha256Of(new Uint8Array(600)) })]);
    const put = await fetch(removed!.url, { method: 'PUT', headers: removed!.headers, body: new Uint8Array(600) });
    expect(put.status).toBe(200);
    const key = objectKeyFor(s.sessionId, removed!.fileId);
    expect(await api.bucket.objectSize(key)).toBe(600);

    // Full: nothing more fits.
    await refused(s, [dicomFile(testUid(), 1)], 'SESSION_SIZE_LIMIT', message('SESSION_SIZE_LIMIT_NEW_CODE'));

    const deletes = await Promise.all([1, 2, 3].map(() => api.removeFile(s.sessionId, s.token, removed!.fileId)));
    expect(deletes.map((d) => d.status)).toEqual([204, 204, 204]);
    expect(await api.bucket.objectSize(key)).toBeUndefined();
    const after = await api.getSession(s.sessionId, s.token);
    expect(after.body.usage.reservedBytes).toBe(400);
    expect(after.body.files.map((f: { fileId: string }) => f.fileId)).toEqual([kept!.fileId]);
    expect(after.body.studies).toEqual([{ studyInstanceUid: study, bytes: 400, dicomFiles: 1, attachments: 0, counts: { declared: 1, received: 0, verified: 0, rejected: 0 }, receivedBytes: 0 }]);

    // Exactly the released 600 bytes fit again, not one more.
    await accepted(s, [dicomFile(testUid(), 600)]);
    await refused(s, [dicomFile(testUid(), 1)], 'SESSION_SIZE_LIMIT', message('SESSION_SIZE_LIMIT_NEW_CODE'));
  });

  it('answers 404 for a file that is not in the session, including another session\'s file', async () => {
    const a = await session();
    const b = await session();
    const [upload] = await accepted(a, [dicomFile(testUid(), 10)]);
    expect((await api.removeFile(b.sessionId, b.token, upload!.fileId)).status).toBe(404);
    expect((await api.removeFile(a.sessionId, a.token, 'AAAAAAAAAAAAAAAAAAAAAA')).status).toBe(404);
    expect((await snapshot(a.sessionId, a.token)).files).toBe(1);
  });

  it('deletes an object that arrived for a file removed before (a repeated DELETE cleans up again)', async () => {
    const s = await session();
    const [upload] = await accepted(s, [dicomFile(testUid(), 10)]);
    expect((await api.removeFile(s.sessionId, s.token, upload!.fileId)).status).toBe(204);
    const key = objectKeyFor(s.sessionId, upload!.fileId);
    await api.bucket.s3.send(new PutObjectCommand({ Bucket: api.bucket.bucketName, Key: key, Body: new Uint8Array(10) }));
    expect((await api.removeFile(s.sessionId, s.token, upload!.fileId)).status).toBe(204);
    expect(await api.bucket.objectSize(key)).toBeUndefined();
    expect((await snapshot(s.sessionId, s.token)).usage.reservedBytes).toBe(0);
  });
});

describe('closed sessions', () => {
  it('a revoked code ends its OPEN session: changes are 409, the code is refused', async () => {
    const code = await api.issueCode();
    const s = await api.openSession(code);
    const [upload] = await accepted(s, [dicomFile(testUid(), 10)]);
    expect(await api.deps.revokeUploadCode({ code })).toMatchObject({ revoked: 1, sessionsEnded: 1, objectsDeleted: 0 });
    const res = await api.requestUploads(s.sessionId, s.token, [dicomFile(testUid(), 10)]);
    expect(res.status).toBe(409);
    expect(res.body.error).toEqual({ code: 'SESSION_REVOKED', message: message('SESSION_REVOKED') });
    expect((await api.removeFile(s.sessionId, s.token, upload!.fileId)).status).toBe(409);
    expect((await api.getSession(s.sessionId, s.token)).body.status).toBe('EXPIRED');
    const again = await api.invoke({ method: 'POST', path: '/sessions', body: { uploadCode: code }, sourceIp: '198.51.100.77' });
    expect(again.status).toBe(401);
    await expect(api.deps.revokeUploadCode({ code: '0000-0000-0000-0000' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('a session past its expiry is EXPIRED: uploads are 409', async () => {
    const s = await session();
    api.clock.advance(api.config.institution.session.sessionHours * 3_600_000 + 1000);
    try {
      const res = await api.requestUploads(s.sessionId, s.token, [dicomFile(testUid(), 10)]);
      expect(res.status).toBe(409);
      expect((await api.getSession(s.sessionId, s.token)).body.status).toBe('EXPIRED');
    } finally {
      api.clock.advance(-(api.config.institution.session.sessionHours * 3_600_000 + 1000));
    }
  });
});
