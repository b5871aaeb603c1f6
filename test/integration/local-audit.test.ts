/**
 * The audit trail over a whole session's life in local mode, delivering to a real Orthanc: each
 * step leaves its record, in order, naming the code and never the patient; the hospital reads it
 * with `npm run codes -- audit <reference>`; a failed redemption is a security event without the
 * code; and a record, once written, cannot be overwritten.
 */
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoAuditLog } from '../../lambdas/adapters/dynamo-audit-log';
import { readOracle } from '../corpus';
import { corpusFile, realPdf } from '../delivery-fixtures';
import { issueCode, ROOT, startLocalMode, type LocalMode } from '../e2e/local-mode';
import { createTestTable } from './helpers/emulators';
import { deleteStudy, orthanc } from './helpers/orthanc';

const run = promisify(execFile);
let mode: LocalMode;
beforeAll(async () => {
  mode = await startLocalMode({ DELIVERY_DICOMWEB_URL: orthanc().dicomwebUrl });
}, 120_000);
afterAll(async () => mode?.stop());

async function call(method: string, path: string, body?: unknown, token?: string) {
  const response = await fetch(`${mode.apiUrl}${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, json: (await response.json().catch(() => ({}))) as Record<string, any> };
}

async function until(check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 250));
  }
}

const audit = async (query: string) => {
  const res = await call('GET', `/admin/audit?${query}`, undefined, mode.adminToken);
  expect(res.status, JSON.stringify(res.json)).toBe(200);
  return res.json.records as Record<string, any>[];
};

const codesCli = (...args: string[]) =>
  run(process.execPath, ['--import', 'tsx', 'scripts/codes.ts', ...args, '--institution', 'demo', '--data-dir', mode.dataDir], { cwd: ROOT, encoding: 'utf8' });

describe('audit trail', () => {
  it('records a session\'s life in order, by code, with no patient data, and the CLI prints it', async () => {
    const file = 'charset_files/chrI2.dcm';
    const entry = readOracle().find((e) => e.file === file)!;
    const studyInstanceUid = String(entry.attributes.StudyInstanceUID);
    await deleteStudy(studyInstanceUid);
    const code = await issueCode(mode, { reference: 'REF-AUDIT-1' });

    expect((await call('POST', '/sessions', { uploadCode: 'ZZZZ-ZZZZ-ZZZZ-ZZZZ' })).status).toBe(401);
    const { sessionId, token } = (await call('POST', '/sessions', { uploadCode: code })).json as { sessionId: string; token: string };
    const bytes = corpusFile(file);
    const pdf = realPdf();
    const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('base64');
    const declared = [
      { clientId: 'd', name: 'IM1', size: bytes.length, kind: 'dicom', studyInstanceUid, sopInstanceUid: String(entry.attributes.SOPInstanceUID), sha256: sha(bytes) },
      { clientId: 'a', name: 'Hong Gildong letter.pdf', size: pdf.length, kind: 'attachment', studyInstanceUid, contentType: 'application/pdf', sha256: sha(pdf) },
    ];
    const uploads = await call('POST', `/sessions/${sessionId}/uploads`, { files: declared }, token);
    expect(uploads.status, JSON.stringify(uploads.json)).toBe(201);
    const extra = await call('POST', `/sessions/${sessionId}/uploads`, { files: [{ ...declared[1], clientId: 'x', name: 'again.pdf' }] }, token);
    expect(extra.status, JSON.stringify(extra.json)).toBe(201);
    expect((await call('DELETE', `/sessions/${sessionId}/files/${extra.json.uploads[0].fileId}`, undefined, token)).status).toBe(204);
    for (const u of uploads.json.uploads as { clientId: string; url: string; headers: Record<string, string> }[]) {
      const put = await fetch(u.url, { method: 'PUT', headers: u.headers, body: Buffer.from(u.clientId === 'd' ? bytes : pdf) });
      expect(put.status).toBe(200);
    }
    const files = async () => (await call('GET', `/sessions/${sessionId}`, undefined, token)).json.files as { status: string }[];
    await until(async () => (await files()).every((f) => f.status === 'VERIFIED'));
    const completion = { studies: [{ studyInstanceUid }], contact: {}, consent: { privacyPolicy: true, dataSharing: true } };
    // 202 COMPLETING while the completer works (it records the outcome); asked again, the decided answer.
    expect((await call('POST', `/sessions/${sessionId}/complete`, completion, token)).status).toBe(202);
    await until(async () => (await call('GET', `/sessions/${sessionId}`, undefined, token)).json.status !== 'COMPLETING');
    expect((await call('POST', `/sessions/${sessionId}/complete`, completion, token)).json.status).toBe('ACCEPTED');
    // A repeated completion adds no second record.
    expect((await call('POST', `/sessions/${sessionId}/complete`, completion, token)).json.status).toBe('ACCEPTED');
    await until(async () => (await audit('reference=REF-AUDIT-1')).some((r) => r.event === 'STUDY_DELIVERED'));

    const records = await audit('reference=REF-AUDIT-1');
    expect(records.map((r) => r.event)).toEqual(['CODE_ISSUED', 'CODE_REDEEMED', 'FILES_DECLARED', 'FILES_DECLARED', 'FILE_REMOVED', ...records.slice(5, -2).map(() => 'FILES_INSPECTED'), 'SESSION_ACCEPTED', 'STUDY_DELIVERED']);
    const codeId = records[0]!.codeId as string;
    expect(codeId).toMatch(/^[0-9a-f]{12}$/);
    for (const r of records) expect(r).toMatchObject({ codeId, reference: 'REF-AUDIT-1', at: expect.any(String), actor: expect.any(String), outcome: expect.stringMatching(/^(success|failure)$/) });
    expect(records[0]).toMatchObject({ actor: 'hospital admin' });
    expect(records[1]).toMatchObject({ actor: 'uploader', sessionId, clientAddressHash: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(records[2]).toMatchObject({ files: 2, bytes: bytes.length + pdf.length });
    const inspected = records.filter((r) => r.event === 'FILES_INSPECTED');
    expect(inspected.reduce((sum, r) => sum + r.verified, 0)).toBe(2);
    expect(records.at(-1)).toMatchObject({ actor: 'delivery', studyInstanceUid, instances: 2, target: 'dicomweb' });
    expect(records.map((r) => Date.parse(r.at))).toEqual(records.map((r) => Date.parse(r.at)).sort((a, b) => a - b));

    const text = JSON.stringify(records);
    expect(text).not.toContain(code.replace(/-/g, ''));
    expect(text).not.toContain('127.0.0.1');
    for (const phi of ['Hong', 'Gildong', '洪', 'I2EXAMPLE', 'IM1', 'letter.pdf', String(entry.attributes.SOPInstanceUID)]) expect(text).not.toContain(phi);

    const printed = (await codesCli('audit', 'REF-AUDIT-1')).stdout;
    for (const event of ['CODE_ISSUED', 'CODE_REDEEMED', 'FILES_DECLARED', 'FILE_REMOVED', 'FILES_INSPECTED', 'SESSION_ACCEPTED', 'STUDY_DELIVERED']) expect(printed).toContain(event);
    expect(printed).toContain(codeId);
    expect(printed).not.toMatch(/Hong|Gildong|I2EXAMPLE/);
    // The code itself, typed in full, finds the same records without travelling to the API.
    expect((await codesCli('audit', code)).stdout.split('\n').length).toBe(printed.split('\n').length);
  }, 180_000);

  it('records a failed redemption as a security event without the code, and a revocation by the hospital', async () => {
    const before = new Date().toISOString().slice(0, 10);
    expect((await call('POST', '/sessions', { uploadCode: 'WXYZ-WXYZ-WXYZ-WXYZ' })).status).toBe(401);
    const security = await audit(`securityDay=${before}`);
    expect(security.at(-1)).toMatchObject({ event: 'CODE_REDEMPTION_FAILED', actor: 'unknown client', outcome: 'failure', reasons: ['INVALID_CODE'], clientAddressHash: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(JSON.stringify(security)).not.toContain('WXYZ');

    const code = await issueCode(mode, { reference: 'REF-AUDIT-2' });
    expect((await call('POST', '/sessions', { uploadCode: code })).status).toBe(201);
    expect((await call('POST', '/admin/upload-codes/revoke', { reference: 'REF-AUDIT-2' }, mode.adminToken)).status).toBe(200);
    const records = await audit('reference=REF-AUDIT-2');
    expect(records.map((r) => [r.event, r.actor])).toEqual([
      ['CODE_ISSUED', 'hospital admin'],
      ['CODE_REDEEMED', 'uploader'],
      ['CODE_REVOKED', 'hospital admin'],
    ]);
    expect((await codesCli('audit', 'REF-AUDIT-2')).stdout).toContain('CODE_REVOKED');

    // For the hospital only, and only the three ways of asking.
    expect((await call('GET', '/admin/audit?reference=REF-AUDIT-2')).status).toBe(401);
    expect((await call('GET', '/admin/audit?reference=REF-AUDIT-2', undefined, 'not-the-admin-token-but-long-enough')).status).toBe(401);
    for (const query of ['', 'codeId=XYZ', 'securityDay=yesterday', 'reference=A&codeId=abcdefabcdef']) {
      const res = await call('GET', `/admin/audit?${query}`, undefined, mode.adminToken);
      expect(res.status, query).toBe(400);
      expect(res.json.error.code).toBe('INVALID_REQUEST');
    }
  }, 60_000);
});

describe('audit records are append-only', () => {
  it('a record cannot be overwritten: a repeat with its key adds nothing, a raw put on its key is refused', async () => {
    const table = await createTestTable('audit-append');
    const dynamo = table.doc;
    const log = new DynamoAuditLog(dynamo, table.tableName, 'demo', 2190);
    const entry = { at: '2026-01-01T00:00:00.000Z', event: 'SESSION_ACCEPTED', actor: 'uploader', outcome: 'success', codeId: 'abcdefabcdef', sessionId: 's1' } as const;
    expect(await log.append(entry, 's1#COMPLETED')).toBe(true);
    expect(await log.append({ ...entry, event: 'SESSION_REJECTED', outcome: 'failure' }, 's1#COMPLETED')).toBe(false);
    expect(await log.readCode('abcdefabcdef')).toEqual([entry]);

    const stored = (await dynamo.send(new QueryCommand({ TableName: table.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'AUDIT#demo' } }))).Items!;
    expect(stored).toHaveLength(1);
    // The TTL is the audit retention, counted from the record's time.
    expect(stored[0]!.ttl).toBe(Date.parse(entry.at) / 1000 + 2190 * 86_400);
    // The adapter's own guarded put, replayed by hand, is refused by DynamoDB itself.
    await expect(
      dynamo.send(new PutCommand({ TableName: table.tableName, Item: { ...stored[0], event: 'SESSION_REJECTED' }, ConditionExpression: 'attribute_not_exists(pk)' })),
    ).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    await table.drop();
  });
});
