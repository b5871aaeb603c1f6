/**
 * Fuzz through the real handlers on DynamoDB Local: 1,200 random and hostile requests (bodies,
 * paths, tokens, encodings) from fast-check. None may answer 500, every error has the documented
 * shape, and an unrelated session with files is byte-for-byte unchanged afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../../lambdas/adapters/table';
import { ADMIN_TOKEN, attachmentFile, dicomFile, startApi, testUid, UNSENT_SHA256, type ApiHarness } from './helpers/api';

let api: ApiHarness;
let victim: { sessionId: string; token: string };
let attacker: { sessionId: string; token: string };

async function partition(sessionId: string) {
  const out = await api.table.doc.send(
    new QueryCommand({ TableName: api.table.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': keys.session(sessionId).pk }, ConsistentRead: true }),
  );
  return out.Items ?? [];
}

beforeAll(async () => {
  api = await startApi('api-fuzz');
  victim = await api.openSession(await api.issueCode(), '192.0.2.200');
  const study = testUid();
  const res = await api.requestUploads(victim.sessionId, victim.token, [dicomFile(study, 1234), attachmentFile(study, 99)]);
  expect(res.status).toBe(201);
  attacker = await api.openSession(await api.issueCode(), '192.0.2.201');
});
afterAll(async () => api?.close());

const hostileString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.constantFrom('', '.', '..', '../../etc/passwd', 'a/b', 'a\\b', 'nul\u0000byte', 'line\nbreak', '\u202Eexe.pdf', '<script>alert(1)</script>', "'; DROP TABLE x; --", '%00', '__proto__', 'constructor'),
  fc.constant('x'.repeat(1_000_000)),
  fc.constant('é'.repeat(40_000)),
);
const hostileNumber = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(-1, 0, 1.5, 1e308, -0, 10_000_000_001, Number.MAX_SAFE_INTEGER, 2 ** 53 + 1),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY),
);
const hostileValue = fc.oneof(hostileString, hostileNumber, fc.boolean(), fc.constant(null), fc.constant([]), fc.constant({}), fc.jsonValue({ maxDepth: 3 }));

/** A well-formed file declaration (it may still break a rule: duplicates, sizes, types). */
const validFile = fc
  .record({
    clientId: fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
    name: fc.constantFrom('IM0001.dcm', 'report.pdf', 'photo.jpg', 'x.exe'),
    size: fc.integer({ min: 1, max: 5000 }),
    kind: fc.constantFrom('dicom', 'attachment'),
    studyInstanceUid: fc.constantFrom('1.2.3', '1.2.840.10008.1'),
    sop: fc.stringMatching(/^[1-9][0-9]{0,5}(\.[0-9]{1,5}){1,4}$/),
    sha256: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((digest) => Buffer.from(digest).toString('base64')),
  })
  .map(({ sop, ...f }) => (f.kind === 'dicom' ? { ...f, sopInstanceUid: sop } : { ...f, contentType: 'application/pdf' }));

/** Mostly well-formed declarations, some with one hostile field or an extra one. */
const hostileFile = fc.oneof(
  { weight: 8, arbitrary: validFile },
  {
    weight: 1,
    arbitrary: fc
      .tuple(validFile, fc.constantFrom('clientId', 'name', 'size', 'kind', 'studyInstanceUid', 'sopInstanceUid', 'contentType', 'sha256'), hostileValue)
      .map(([file, field, value]) => ({ ...file, [field]: value })),
  },
  { weight: 1, arbitrary: fc.tuple(validFile, hostileValue).map(([file, extra]) => ({ ...file, extra })) },
);

const filesBody = fc.record({ files: fc.oneof({ weight: 4, arbitrary: fc.array(hostileFile, { minLength: 1, maxLength: 4 }) }, { weight: 1, arbitrary: fc.array(hostileFile, { maxLength: 40 }) }) }, { requiredKeys: [] }).map((b) => JSON.stringify(b));

const hostileBody = fc.oneof(
  { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string() },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '{"files":[' + '{},'.repeat(9_999) + '{}]}',
      '{"files":' + '['.repeat(5000) + ']'.repeat(5000) + '}',
      '{"files": [{"__proto__": {"polluted": true}, "clientId": "a", "name": "b", "size": 1, "kind": "dicom"}]}',
      '{"constructor": {"prototype": {"polluted": true}}}',
      '{"files": [',
      'null',
      '[]',
      '"files"',
      '{"files": [{"clientId":"a","name":"a.dcm","size":1e400,"kind":"dicom","studyInstanceUid":"1.2","sopInstanceUid":"1.3"}]}',
      JSON.stringify({ files: Array.from({ length: 10_000 }, (_, i) => ({ clientId: `c${i}`, name: 'a.dcm', size: 1, kind: 'dicom', studyInstanceUid: '1.2', sopInstanceUid: `1.2.${i}` })) }),
      `{"uploadCode": "${'A'.repeat(1_000_000)}"}`,
    ),
  },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

const segment = fc.oneof(
  { weight: 5, arbitrary: fc.constant('ATTACKER') },
  { weight: 2, arbitrary: fc.constant('VICTIM') },
  { weight: 1, arbitrary: fc.constantFrom('AAAAAAAAAAAAAAAAAAAAAA', '..', '.', '%2e%2e', '%2F', '%00', 'a%ZZ', '*', "'", 'SESSION#x', '') },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{1,80}$/) },
  { weight: 1, arbitrary: fc.string({ maxLength: 100 }).map((s) => encodeURIComponent(s)) },
  { weight: 1, arbitrary: fc.constant('x'.repeat(5000)) },
);
const token = fc.oneof(
  { weight: 6, arbitrary: fc.constant('ATTACKER') },
  { weight: 1, arbitrary: fc.constantFrom('VICTIM', undefined) },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{43}$/) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
);

interface Request {
  method: string;
  path: string;
  token: string | undefined;
  body: string | undefined;
}
const request: fc.Arbitrary<Request> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ method: fc.constant('POST'), path: segment.map((id) => `/sessions/${id}/uploads`), token, body: fc.oneof({ weight: 3, arbitrary: filesBody }, { weight: 1, arbitrary: hostileBody }) }) },
  { weight: 1, arbitrary: fc.record({ method: fc.constant('GET'), path: segment.map((id) => `/sessions/${id}`), token, body: fc.oneof(fc.constant(undefined), hostileBody) }) },
  { weight: 1, arbitrary: fc.record({ method: fc.constant('DELETE'), path: fc.tuple(segment, segment).map(([id, file]) => `/sessions/${id}/files/${file}`), token, body: fc.constant(undefined) }) },
  { weight: 1, arbitrary: fc.record({ method: fc.constant('POST'), path: fc.constant('/sessions'), token, body: fc.oneof(fc.record({ uploadCode: hostileValue }, { requiredKeys: [] }).map((b) => JSON.stringify(b)), hostileBody) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      method: fc.constant('POST'),
      path: fc.constant('/admin/upload-codes'),
      token: fc.constantFrom(undefined, 'ADMIN', 'wrong-admin-token-000000'),
      body: fc.oneof(fc.record({ maxSessionBytes: hostileValue, validDays: hostileValue, reference: hostileValue }, { requiredKeys: [] }).map((b) => JSON.stringify(b)), hostileBody),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      method: fc.constantFrom('GET', 'POST', 'DELETE', 'PUT'),
      path: fc.oneof(fc.constantFrom('/', '/sessions/', '//sessions', '/sessions/../admin/upload-codes'), fc.string({ maxLength: 200 }).map((p) => `/${p}`)),
      token,
      body: hostileBody,
    }),
  },
);

describe('fuzz', () => {
  it('answers 1,200 hostile requests without a single 500 and leaves an unrelated session unchanged', async () => {
    const before = await partition(victim.sessionId);
    // The session, its study and its two files: an unchanged partition shows nothing was touched.
    expect(before.length).toBeGreaterThanOrEqual(4);
    const statuses = new Map<number, number>();

    await fc.assert(
      fc.asyncProperty(request, fc.boolean(), fc.constantFrom('198.51.100.1', '198.51.100.2', '', '::1', 'not-an-ip'), async (req, base64, sourceIp) => {
        const concretePath = req.path.replace('VICTIM', victim.sessionId).replace('ATTACKER', attacker.sessionId);
        // The attacker may use its own valid token (and the admin's), never the victim's.
        const bearer = req.token === 'VICTIM' || req.token === 'ATTACKER' ? attacker.token : req.token === 'ADMIN' ? ADMIN_TOKEN : req.token;
        const encoded = req.body !== undefined && base64 ? Buffer.from(req.body).toString('base64') : req.body;
        const res = await api.invoke({
          method: req.method as 'GET',
          path: concretePath,
          rawBody: encoded,
          isBase64Encoded: base64 && req.body !== undefined,
          sourceIp,
          ...(bearer !== undefined ? { headers: { authorization: `Bearer ${bearer}` } } : {}),
        });
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        expect(res.status).not.toBe(500);
        expect([200, 201, 204, 400, 401, 404, 409, 422, 429]).toContain(res.status);
        if (res.status >= 400 && res.headers['content-type']) {
          expect(typeof res.body.error.code).toBe('string');
          expect(typeof res.body.error.message).toBe('string');
        }
      }),
      { numRuns: 1200, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31) },
    );

    if (process.env.FUZZ_DEBUG) console.log("statuses", [...statuses]);
    expect(await partition(victim.sessionId)).toEqual(before);
    const victimView = await api.getSession(victim.sessionId, victim.token);
    expect(victimView.status).toBe(200);
    expect(victimView.body.usage.reservedBytes).toBe(1234 + 99);
    // The fuzz reached past the edge: some requests were authenticated, some were refused as bad input.
    expect(statuses.get(400) ?? 0).toBeGreaterThan(100);
    expect(statuses.get(401) ?? 0).toBeGreaterThan(10);
    expect((statuses.get(201) ?? 0) + (statuses.get(422) ?? 0)).toBeGreaterThan(10);
  });
});

describe('bad input is a 400 at the edge', () => {
  const valid = () => ({ clientId: 'c1', name: 'IM0001.dcm', size: 100, kind: 'dicom', studyInstanceUid: '1.2.3', sopInstanceUid: `1.2.3.${Date.now()}.${Math.floor(Math.random() * 1e9)}`, sha256: UNSENT_SHA256 });
  const upload = (rawBody: string | undefined, extra: { isBase64Encoded?: boolean; path?: string } = {}) =>
    api.invoke({ method: 'POST', path: extra.path ?? `/sessions/${attacker.sessionId}/uploads`, token: attacker.token, rawBody, isBase64Encoded: extra.isBase64Encoded });

  const cases: [string, () => string | undefined][] = [
    ['no body', () => undefined],
    ['malformed JSON', () => '{"files": [}'],
    ['a JSON array', () => '[]'],
    ['missing files', () => '{}'],
    ['an extra top-level field', () => JSON.stringify({ files: [valid()], admin: true })],
    ['an extra file field', () => JSON.stringify({ files: [{ ...valid(), path: '/etc' }] })],
    ['a missing size', () => JSON.stringify({ files: [{ ...valid(), size: undefined }] })],
    ['a size as a string', () => JSON.stringify({ files: [{ ...valid(), size: '100' }] })],
    ['a negative size', () => JSON.stringify({ files: [{ ...valid(), size: -1 }] })],
    ['a zero size', () => JSON.stringify({ files: [{ ...valid(), size: 0 }] })],
    ['a fractional size', () => JSON.stringify({ files: [{ ...valid(), size: 1.5 }] })],
    ['a size over 10 GB', () => JSON.stringify({ files: [{ ...valid(), size: 10_000_000_001 }] })],
    ['a size of 1e400 (Infinity)', () => `{"files":[{"clientId":"c1","name":"a.dcm","size":1e400,"kind":"dicom","studyInstanceUid":"1.2","sopInstanceUid":"1.3"}]}`],
    ['an unknown kind', () => JSON.stringify({ files: [{ ...valid(), kind: 'zip' }] })],
    ['a name with a slash', () => JSON.stringify({ files: [{ ...valid(), name: 'CD/DICOM/IM0001' }] })],
    ['a name with a backslash', () => JSON.stringify({ files: [{ ...valid(), name: 'CD\\IM0001' }] })],
    ['a name with a control character', () => JSON.stringify({ files: [{ ...valid(), name: 'IM\u00000001' }] })],
    ['a name of 256 characters', () => JSON.stringify({ files: [{ ...valid(), name: 'a'.repeat(256) }] })],
    ['a name of 1 MB', () => JSON.stringify({ files: [{ ...valid(), name: 'a'.repeat(1_000_000) }] })],
    ['a DICOM file without SOP Instance UID', () => JSON.stringify({ files: [{ ...valid(), sopInstanceUid: undefined }] })],
    ['a UID with letters', () => JSON.stringify({ files: [{ ...valid(), studyInstanceUid: '1.2.abc' }] })],
    ['a UID of 65 characters', () => JSON.stringify({ files: [{ ...valid(), studyInstanceUid: `1.${'2'.repeat(63)}` }] })],
    ['no files', () => JSON.stringify({ files: [] })],
    ['33 files', () => JSON.stringify({ files: Array.from({ length: 33 }, (_, i) => ({ ...valid(), clientId: `c${i}`, sopInstanceUid: `1.2.${i}` })) })],
    ['10,000 files', () => JSON.stringify({ files: Array.from({ length: 10_000 }, () => 1) })],
    ['duplicate client ids', () => JSON.stringify({ files: [valid(), { ...valid(), sopInstanceUid: '9.9.9' }] })],
    ['a body of 100 KB', () => JSON.stringify({ files: [valid()], pad: 'x'.repeat(100_000) })],
    ['an invalid content type', () => JSON.stringify({ files: [{ ...valid(), contentType: 'text/html\r\nX-Injected: 1' }] })],
  ];

  it.each(cases)('%s', async (_, make) => {
    const before = await partition(attacker.sessionId);
    const res = await upload(make());
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('INVALID_REQUEST');
    expect(typeof res.body.error.message).toBe('string');
    expect(await partition(attacker.sessionId)).toEqual(before);
  });

  it('bad path parameters are a 400 before anything is read', async () => {
    for (const id of ['a.b', 'x'.repeat(65), '%00', "a'b", '../x']) {
      const res = await api.invoke({ method: 'GET', path: `/sessions/${encodeURIComponent(id)}`, token: attacker.token });
      expect(res.status, id).toBe(400);
    }
    const res = await api.invoke({ method: 'DELETE', path: `/sessions/${attacker.sessionId}/files/${encodeURIComponent('a/b')}`, token: attacker.token });
    expect(res.status).toBe(400);
  });

  it('a base64-encoded body is decoded (and a base64 bad body is still a 400)', async () => {
    const ok = await upload(Buffer.from(JSON.stringify({ files: [valid()] })).toString('base64'), { isBase64Encoded: true });
    expect(ok.status).toBe(201);
    const bad = await upload(Buffer.from('{"files": [').toString('base64'), { isBase64Encoded: true });
    expect(bad.status).toBe(400);
  });
});
