/**
 * Authentication through the real handlers: session tokens (missing, malformed, wrong, another
 * session's), upload codes (mistyped, used, expired, revoked: one generic 401), the rate limit on
 * failed redemptions (429 with Retry-After), and the local admin token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../../lambdas/adapters/table';
import { message } from '../../lambdas/core/messages';
import { ADMIN_TOKEN, dicomFile, startApi, testUid, type ApiHarness } from './helpers/api';

let api: ApiHarness;
let iam: ApiHarness;

beforeAll(async () => {
  [api, iam] = await Promise.all([startApi('api-auth'), startApi('api-auth-iam', { adminToken: false })]);
});
afterAll(async () => Promise.all([api?.close(), iam?.close()]));

const invalidCode = { error: { code: 'INVALID_CODE', message: message('INVALID_CODE') } };
let ipSerial = 0;
/** A fresh client address per test, so the rate limit of one test never leaks into another. */
const freshIp = () => `203.0.113.${++ipSerial}`;

function redeem(code: string, sourceIp: string) {
  return api.invoke({ method: 'POST', path: '/sessions', body: { uploadCode: code }, sourceIp });
}

describe('session tokens', () => {
  it('every session route refuses a missing, malformed, wrong or other session\'s token with 401', async () => {
    const a = await api.openSession(await api.issueCode());
    const b = await api.openSession(await api.issueCode());
    const [upload] = (await api.requestUploads(b.sessionId, b.token, [dicomFile(testUid(), 10)])).body.uploads;
    const before = await api.getSession(b.sessionId, b.token);

    const wrongTokens: (string | undefined)[] = [undefined, a.token, 'A'.repeat(43), `${b.token.slice(0, -1)}${b.token.endsWith('A') ? 'B' : 'A'}`];
    for (const token of wrongTokens) {
      const calls = [
        api.getSession(b.sessionId, token as string),
        api.invoke({ method: 'GET', path: `/sessions/${b.sessionId}`, ...(token ? { token } : {}) }),
        api.invoke({ method: 'POST', path: `/sessions/${b.sessionId}/uploads`, ...(token ? { token } : {}), body: { files: [dicomFile(testUid(), 10)] } }),
        api.invoke({ method: 'DELETE', path: `/sessions/${b.sessionId}/files/${upload.fileId}`, ...(token ? { token } : {}) }),
      ];
      for (const res of await Promise.all(calls)) {
        expect(res.status).toBe(401);
        expect(res.body.error.code).toBe('UNAUTHORIZED');
      }
    }
    for (const header of ['Basic abc', 'Bearer', `Bearer ${b.token} extra`, `bearer ${b.token}x`, `Bearer ${'x'.repeat(5000)}`]) {
      const res = await api.invoke({ method: 'GET', path: `/sessions/${b.sessionId}`, headers: { authorization: header } });
      expect(res.status).toBe(401);
    }
    // A well-formed token for a session that does not exist looks the same as a wrong one.
    expect((await api.getSession('AAAAAAAAAAAAAAAAAAAAAA', b.token)).status).toBe(401);
    expect(await api.getSession(b.sessionId, b.token)).toEqual(before);
  });
});

describe('request format', () => {
  it('takes the bearer scheme in any case (RFC 7235), and nothing but the scheme', async () => {
    const s = await api.openSession(await api.issueCode());
    for (const scheme of ['bearer', 'BEARER', 'bEaReR']) {
      const res = await api.invoke({ method: 'GET', path: `/sessions/${s.sessionId}`, headers: { authorization: `${scheme} ${s.token}` } });
      expect(res.status, scheme).toBe(200);
    }
    for (const header of [`Bearer:${s.token}`, `Bearers ${s.token}`, `Basic ${s.token}`]) {
      expect((await api.invoke({ method: 'GET', path: `/sessions/${s.sessionId}`, headers: { authorization: header } })).status, header).toBe(401);
    }
  });

  it('answers 415 to a body not sent as application/json, before anything else happens', async () => {
    const s = await api.openSession(await api.issueCode());
    const unsupported = { error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: message('UNSUPPORTED_MEDIA_TYPE') } };
    for (const type of ['text/plain', 'text/plain; charset=utf-8', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonx', '']) {
      const upload = await api.invoke({ method: 'POST', path: `/sessions/${s.sessionId}/uploads`, token: s.token, body: { files: [dicomFile(testUid(), 10)] }, headers: { 'content-type': type } });
      expect(upload.status, type).toBe(415);
      expect(upload.body).toEqual(unsupported);
    }
    expect((await api.getSession(s.sessionId, s.token)).body.files).toEqual([]);
    const json = await api.invoke({ method: 'POST', path: `/sessions/${s.sessionId}/uploads`, token: s.token, body: { files: [dicomFile(testUid(), 10)] }, headers: { 'content-type': 'Application/JSON; charset=UTF-8' } });
    expect(json.status).toBe(201);
  });

  it('does not count form-style redemptions against the address: a foreign page cannot lock an address out', async () => {
    const shared = freshIp();
    for (let i = 0; i < 12; i++) {
      const res = await api.invoke({ method: 'POST', path: '/sessions', rawBody: JSON.stringify({ uploadCode: `ZZZZ-ZZZZ-ZZZZ-${String(i).padStart(4, '0')}` }), headers: { 'content-type': 'text/plain' }, sourceIp: shared });
      expect(res.status).toBe(415);
    }
    expect((await redeem(await api.issueCode(), shared)).status).toBe(201);
  });
});

describe('upload codes', () => {
  it('accepts a code however it is typed: lower case, spaces, O for 0 and I/L for 1', async () => {
    const code = await api.issueCode();
    const typed = ` ${code.toLowerCase().replace(/-/g, ' ').replace(/0/g, 'o').replace(/1/g, 'l')} `;
    const res = await redeem(typed, freshIp());
    expect(res.status).toBe(201);
  });

  it('opens exactly one session when the same fresh code is redeemed 5 times at once', async () => {
    const code = await api.issueCode();
    const results = await Promise.all(Array.from({ length: 5 }, () => redeem(code, freshIp())));
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 201]);
    expect(new Set(results.map((r) => r.body.sessionId)).size).toBe(1);
    // Each resume replaced the token: exactly one of the five still works.
    const valid = await Promise.all(results.map(async (r) => (await api.getSession(r.body.sessionId, r.body.token)).status));
    expect(valid.filter((status) => status === 200)).toHaveLength(1);
  });

  it('refuses mistyped, used, expired and revoked codes with one generic 401', async () => {
    const ip = freshIp();
    const mistyped = await api.issueCode();
    const swapped = mistyped.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
    expect((await redeem(swapped, ip)).body).toEqual(invalidCode);
    expect((await redeem('not a code', ip)).body).toEqual(invalidCode);

    const used = await api.issueCode();
    const session = await api.openSession(used, freshIp());
    await api.table.doc.send(
      new UpdateCommand({
        TableName: api.table.tableName,
        Key: keys.session(session.sessionId),
        UpdateExpression: 'SET #status = :accepted',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':accepted': 'ACCEPTED' },
      }),
    );
    const usedAgain = await redeem(used, ip);
    expect(usedAgain.status).toBe(401);
    expect(usedAgain.body).toEqual(invalidCode);

    const revoked = await api.issueCode();
    await api.deps.revokeUploadCode({ code: revoked });
    expect((await redeem(revoked, ip)).body).toEqual(invalidCode);
  });

  it('a code works until its expiry and not after', async () => {
    const code = await api.issueCode({ validDays: 1 });
    const unused = await api.issueCode({ validDays: 1 });
    const day = 86_400_000;
    try {
      api.clock.advance(day - 5_000);
      expect((await redeem(code, freshIp())).status).toBe(201);
      api.clock.advance(10_000);
      const late = await redeem(unused, freshIp());
      expect(late.status).toBe(401);
      expect(late.body).toEqual(invalidCode);
      // Resuming with an expired code is refused too (the session keeps its own token and expiry).
      expect((await redeem(code, freshIp())).status).toBe(401);
    } finally {
      api.clock.advance(-(day + 5_000));
    }
  });
});

describe('brute force', () => {
  it('answers 429 with Retry-After after 10 failed redemptions from one address, until the window ends', async () => {
    const attacker = freshIp();
    const good = await api.issueCode();
    // Fixed windows: start the attack just inside one, so all 11 attempts fall into it.
    const windowMs = 600_000;
    api.clock.freeze(new Date(Math.floor(Date.now() / windowMs) * windowMs + 1000));
    for (let i = 0; i < 10; i++) {
      const res = await redeem(`ZZZZ-ZZZZ-ZZZZ-${String(i).padStart(4, '0')}`, attacker);
      expect(res.status).toBe(401);
    }
    const blocked = await redeem('ZZZZ-ZZZZ-ZZZZ-9999', attacker);
    expect(blocked.status).toBe(429);
    expect(blocked.body.error).toEqual({ code: 'RATE_LIMITED', message: message('RATE_LIMITED'), details: { retryAfterSeconds: expect.any(Number) } });
    const retryAfter = Number(blocked.headers['retry-after']);
    expect(retryAfter).toBe(599);
    // Blocked means blocked: even the right code waits. Another address is not affected.
    expect((await redeem(good, attacker)).status).toBe(429);
    const other = await redeem(good, freshIp());
    expect(other.status).toBe(201);
    try {
      api.clock.advance(retryAfter * 1000 + 1000);
      expect((await redeem(good, attacker)).status).toBe(200);
    } finally {
      api.clock.advance(-(retryAfter * 1000 + 1000));
      api.clock.unfreeze();
    }
  });
});

describe('admin route', () => {
  it('locally requires the admin token', async () => {
    const body = { maxSessionBytes: 5_000_000, reference: 'REQ-7', validDays: 2 };
    for (const token of [undefined, 'wrong-admin-token-0123456789']) {
      const res = await api.invoke({ method: 'POST', path: '/admin/upload-codes', body, ...(token ? { token } : {}) });
      expect(res.status).toBe(401);
    }
    const ok = await api.invoke({ method: 'POST', path: '/admin/upload-codes', body, token: ADMIN_TOKEN });
    expect(ok.status).toBe(201);
    expect(ok.body).toEqual({ code: expect.stringMatching(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/), expiresAt: expect.any(String), maxSessionBytes: 5_000_000, reference: 'REQ-7' });
    const days = (Date.parse(ok.body.expiresAt) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(1.99);
    expect(days).toBeLessThanOrEqual(2);
    const session = await api.openSession(ok.body.code, freshIp());
    expect(session.limits.maxSessionBytes).toBe(5_000_000);
  });

  it('on AWS (no local admin token) trusts the IAM authorizer; bad bodies are still 400', async () => {
    const ok = await iam.invoke({ method: 'POST', path: '/admin/upload-codes' });
    expect(ok.status).toBe(201);
    const days = (Date.parse(ok.body.expiresAt) - Date.now()) / 86_400_000;
    expect(Math.round(days)).toBe(iam.config.institution.codes.validDays);
    const bad = [
      { maxSessionBytes: 10_000_000_001 },
      { maxSessionBytes: -1 },
      { maxSessionBytes: 1.5 },
      { validDays: 0 },
      { validDays: 366 },
      { reference: 'a\nb' },
      { reference: 'x'.repeat(101) },
      { extra: true },
    ];
    for (const body of bad) {
      const res = await iam.invoke({ method: 'POST', path: '/admin/upload-codes', body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('INVALID_REQUEST');
    }
    const boundary = await iam.invoke({ method: 'POST', path: '/admin/upload-codes', body: { maxSessionBytes: 10_000_000_000, validDays: 365 } });
    expect(boundary.status).toBe(201);
  });
});
