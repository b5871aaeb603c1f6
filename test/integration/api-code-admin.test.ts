/**
 * The hospital's admin routes on DynamoDB Local and the S3 emulator: list codes with what became of
 * each, revoke by code, reference or code id (the code and its open session end, the session's
 * objects are deleted, the uploader is told plainly), and the admin check in front of both.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { message } from '../../lambdas/core/messages';
import { ADMIN_TOKEN, dicomFile, sha256Of, startApi, testUid, type ApiHarness } from './helpers/api';

let api: ApiHarness;
beforeAll(async () => {
  api = await startApi('api-code-admin');
});
afterAll(async () => api?.close());

const list = async () => {
  const res = await api.invoke({ method: 'GET', path: '/admin/upload-codes', token: ADMIN_TOKEN });
  expect(res.status).toBe(200);
  return res.body.codes as { codeId: string; reference?: string; status: string; sessionId?: string; sessionStatus?: string; createdAt: string; expiresAt: string }[];
};
const revoke = (body: unknown) => api.invoke({ method: 'POST', path: '/admin/upload-codes/revoke', token: ADMIN_TOKEN, body });

/** Opens a session with `code` and puts one declared file's bytes into the bucket. */
async function sessionWithUpload(code: string) {
  const s = await api.openSession(code);
  const [upload] = (await api.requestUploads(s.sessionId, s.token, [dicomFile(testUid(), 16, { sha256: sha256Of(new Uint8Array(16)) })])).body.uploads;
  const put = await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: new Uint8Array(16) });
  expect(put.status).toBe(200);
  return s;
}

describe('admin: list and revoke upload codes', () => {
  it('lists every code with its reference, dates, status and its session\'s state; never the code itself', async () => {
    const unused = await api.issueCode({ reference: 'REF-LIST-1' });
    const used = await api.issueCode({ reference: 'REF-LIST-2' });
    const s = await api.openSession(used);
    const codes = await list();
    const byRef = new Map(codes.map((c) => [c.reference, c]));
    expect(byRef.get('REF-LIST-1')).toMatchObject({ status: 'ACTIVE', codeId: expect.stringMatching(/^[0-9a-f]{12}$/) });
    expect(byRef.get('REF-LIST-1')!.sessionId).toBeUndefined();
    expect(byRef.get('REF-LIST-2')).toMatchObject({ status: 'REDEEMED', sessionId: s.sessionId, sessionStatus: 'OPEN' });
    expect(JSON.stringify(codes)).not.toContain(unused.replace(/-/g, ''));
    expect(JSON.stringify(codes)).not.toContain(used);
  });

  it('revoking by reference ends the code and its open session, deletes its objects, and tells the uploader plainly', async () => {
    const code = await api.issueCode({ reference: 'REF-REVOKE' });
    const s = await sessionWithUpload(code);
    expect(await api.bucket.listKeys(`sessions/${s.sessionId}/`)).toHaveLength(1);

    const res = await revoke({ reference: 'REF-REVOKE' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ revoked: 1, sessionsEnded: 1, objectsDeleted: 1 });
    expect(await api.bucket.listKeys(`sessions/${s.sessionId}/`)).toEqual([]);

    const refused = await api.requestUploads(s.sessionId, s.token, [dicomFile(testUid(), 16, { sha256: sha256Of(new Uint8Array(16)) })]);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toEqual({ code: 'SESSION_REVOKED', message: message('SESSION_REVOKED') });
    // GET says it was revoked, not merely expired.
    const view = await api.getSession(s.sessionId, s.token);
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({ status: 'EXPIRED', revokedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/) });
    expect((await api.invoke({ method: 'POST', path: '/sessions', body: { uploadCode: code }, sourceIp: '198.51.100.90' })).status).toBe(401);
    const listed = (await list()).find((c) => c.reference === 'REF-REVOKE');
    expect(listed).toMatchObject({ status: 'REVOKED', sessionStatus: 'EXPIRED' });
    // Revoking again finds nothing left to revoke.
    expect((await revoke({ reference: 'REF-REVOKE' })).status).toBe(404);
  });

  it('revokes by the code itself and by the listed code id; an accepted session keeps its data', async () => {
    const byCode = await api.issueCode();
    expect((await revoke({ code: byCode.toLowerCase() })).body).toMatchObject({ revoked: 1, sessionsEnded: 0, objectsDeleted: 0 });
    await api.issueCode({ reference: 'REF-BY-ID' });
    const { codeId } = (await list()).find((c) => c.reference === 'REF-BY-ID')!;
    expect((await revoke({ codeId })).body.revoked).toBe(1);
    expect((await list()).find((c) => c.codeId === codeId)!.status).toBe('REVOKED');
  });

  it('is for the hospital only, and takes only a well-formed JSON body', async () => {
    const code = await api.issueCode({ reference: 'REF-GUARDED' });
    for (const token of [undefined, 'not-the-admin-token-but-long-enough']) {
      expect((await api.invoke({ method: 'GET', path: '/admin/upload-codes', ...(token ? { token } : {}) })).status).toBe(401);
      expect((await api.invoke({ method: 'POST', path: '/admin/upload-codes/revoke', body: { code }, ...(token ? { token } : {}) })).status).toBe(401);
    }
    expect((await revoke({ code, reference: 'REF-GUARDED' })).status).toBe(400);
    expect((await revoke({ codeId: 'XYZ' })).status).toBe(400);
    expect((await revoke({ code: '0000-0000-0000-0000' })).status).toBe(404);
    const form = await api.invoke({ method: 'POST', path: '/admin/upload-codes/revoke', token: ADMIN_TOKEN, rawBody: JSON.stringify({ code }), headers: { 'content-type': 'text/plain' } });
    expect(form.status).toBe(415);
    expect((await list()).find((c) => c.reference === 'REF-GUARDED')!.status).toBe('ACTIVE');
  });
});
