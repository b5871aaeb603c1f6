/**
 * Upload requests check the rules against the session's study totals (STUDY# items), not its file
 * items. These are the cases where the totals alone would not say enough: a duplicate SOP Instance
 * UID across requests (the file item, whose id derives from the UID, refuses; the answer names the batch's file), and attachments
 * orphaned by removing every DICOM file of their study (the file items are read; the answer names
 * the stored attachment, as evaluateSelection over the files does).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { message } from '../../lambdas/core/messages';
import { attachmentFile, dicomFile, startApi, testUid, type ApiHarness } from './helpers/api';

let api: ApiHarness;

beforeAll(async () => {
  api = await startApi('api-study-totals');
});
afterAll(async () => api?.close());

async function declare(s: { sessionId: string; token: string }, files: unknown[]) {
  const res = await api.requestUploads(s.sessionId, s.token, files);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.uploads as { clientId: string; fileId: string }[];
}

describe('rules from study totals', () => {
  it('a SOP Instance UID declared in an earlier request: 422 naming the batch file, nothing reserved', async () => {
    const s = await api.openSession(await api.issueCode());
    const study = testUid();
    const sop = testUid();
    await declare(s, [dicomFile(study, 100, { sopInstanceUid: sop })]);
    const again = dicomFile(study, 100, { sopInstanceUid: sop });
    const fresh = dicomFile(study, 100);
    const res = await api.requestUploads(s.sessionId, s.token, [fresh, again]);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('DUPLICATE_SOP_INSTANCE');
    expect(res.body.error.message).toBe(message('DUPLICATE_SOP_INSTANCE'));
    expect(res.body.error.details.violations[0].files).toEqual([again.clientId]);
    const state = await api.getSession(s.sessionId, s.token);
    expect(state.body.files).toHaveLength(1);
    expect(state.body.usage.reservedBytes).toBe(100);
  });

  it('an attachment whose study lost all its DICOM files is named by its file id when two new studies arrive', async () => {
    const s = await api.openSession(await api.issueCode());
    const study = testUid();
    const [image, report] = await declare(s, [dicomFile(study, 100), attachmentFile(study, 50)]);
    expect((await api.removeFile(s.sessionId, s.token, image!.fileId)).status).toBe(204);
    const res = await api.requestUploads(s.sessionId, s.token, [dicomFile(testUid(), 100), dicomFile(testUid(), 100)]);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('UNLINKED_ATTACHMENTS');
    expect(res.body.error.details.violations[0].files).toEqual([report!.fileId]);
  });

  it('study totals carry attachments and bytes across requests: the per-study limits hold', async () => {
    const s = await api.openSession(await api.issueCode());
    const study = testUid();
    await declare(s, [dicomFile(study, 100), ...Array.from({ length: 6 }, () => attachmentFile(study, 10))]);
    await declare(s, [dicomFile(study, 100), ...Array.from({ length: 4 }, () => attachmentFile(undefined, 10))]);
    const res = await api.requestUploads(s.sessionId, s.token, [attachmentFile(undefined, 10)]);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('ATTACHMENT_LIMIT');
    expect(res.body.error.message).toBe(message('ATTACHMENT_LIMIT', { x: 11, max: 10 }));
  });

  it('one item per DICOM file: the uniqueness of an image costs no item of its own', async () => {
    const s = await api.openSession(await api.issueCode());
    const study = testUid();
    const uploads = await declare(s, Array.from({ length: 10 }, () => dicomFile(study, 100)));
    const { Items } = await api.clients.dynamo.send(
      new QueryCommand({ TableName: api.table.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `SESSION#${s.sessionId}` } }),
    );
    const kinds = (Items ?? []).map((item) => String(item.sk).split('#')[0]).sort();
    expect(kinds).toEqual(['FILE', 'FILE', 'FILE', 'FILE', 'FILE', 'FILE', 'FILE', 'FILE', 'FILE', 'FILE', 'SESSION', 'STUDY']);
    // The ids are 128-bit base64url, and none shows its image's UID.
    for (const u of uploads) expect(u.fileId).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});
