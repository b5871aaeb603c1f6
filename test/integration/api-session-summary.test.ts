/**
 * GET /sessions/{id} at any size: counts kept by the verdicts, study totals, and the files in pages of at most
 * FILES_PAGE_LIMIT with an opaque `nextCursor`. Against DynamoDB Local with the real handlers and adapters.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoSessionStore } from '../../lambdas/adapters/dynamo-session-store';
import { DynamoFileVerdicts } from '../../lambdas/adapters/dynamo-file-verdicts';
import { dicomFile, startApi, testUid, type ApiHarness } from './helpers/api';

let api: ApiHarness;

beforeAll(async () => {
  api = await startApi('api-session-summary');
});
afterAll(async () => api?.close());

async function sessionWith(files: number) {
  const s = await api.openSession(await api.issueCode());
  const study = testUid();
  const fileIds: string[] = [];
  for (let i = 0; i < files; i += 10) {
    const res = await api.requestUploads(s.sessionId, s.token, Array.from({ length: Math.min(10, files - i) }, () => dicomFile(study, 100)));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    fileIds.push(...(res.body.uploads as { fileId: string }[]).map((u) => u.fileId));
  }
  return { ...s, study, fileIds };
}

describe('GET /sessions/{id} summary', () => {
  it('counts what was declared and judged, and a removed file leaves the counts', async () => {
    const s = await sessionWith(25);
    const verdicts = new DynamoFileVerdicts(api.clients.dynamo, api.table.tableName);
    const at = new Date().toISOString();
    const judge = (fileId: string, status: 'VERIFIED' | 'REJECTED') =>
      verdicts.recordVerdict({ sessionId: s.sessionId, fileId, studyInstanceUid: s.study }, { status, size: 100, inspectionBytesRead: 100, inspectedAt: at });
    expect(await Promise.all([judge(s.fileIds[0]!, 'VERIFIED'), judge(s.fileIds[1]!, 'VERIFIED'), judge(s.fileIds[2]!, 'REJECTED')])).toEqual(['recorded', 'recorded', 'recorded']);
    expect(await judge(s.fileIds[0]!, 'VERIFIED')).toBe('already'); // a repeated event counts once

    const before = await api.getSession(s.sessionId, s.token);
    expect(before.status).toBe(200);
    expect(before.body.counts).toEqual({ declared: 25, received: 3, verified: 2, rejected: 1 });
    expect(before.body.files).toHaveLength(25);
    expect(before.body.nextCursor).toBeUndefined();
    expect(before.body.studies).toEqual([
      { studyInstanceUid: s.study, bytes: 2500, dicomFiles: 25, attachments: 0, counts: { declared: 25, received: 3, verified: 2, rejected: 1 }, receivedBytes: 300 },
    ]);

    expect((await api.removeFile(s.sessionId, s.token, s.fileIds[0]!)).status).toBe(204);
    const after = await api.getSession(s.sessionId, s.token);
    expect(after.body.counts).toEqual({ declared: 24, received: 2, verified: 1, rejected: 1 });
    expect(after.body.files.map((f: { fileId: string }) => f.fileId)).not.toContain(s.fileIds[0]);
    expect(after.body.studies[0]).toMatchObject({ counts: { declared: 24, received: 2, verified: 1, rejected: 1 }, receivedBytes: 200 });
  });

  it('pages the files in a stable order: every file once, and nextCursor only while more follow', async () => {
    const s = await sessionWith(23);
    const store = new DynamoSessionStore(api.clients.dynamo, api.table.tableName);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.loadFilesPage(s.sessionId, { limit: 10, ...(cursor ? { cursor } : {}) });
      expect(page.files.length).toBeLessThanOrEqual(10);
      seen.push(...page.files.map((f) => f.fileId));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBeGreaterThanOrEqual(3);
    expect([...seen].sort()).toEqual([...s.fileIds].sort());

    // Through the API: the page after a cursor holds the files after it.
    const first = await store.loadFilesPage(s.sessionId, { limit: 10 });
    const rest = await api.invoke({ method: 'GET', path: `/sessions/${s.sessionId}`, route: '/sessions/{id}', pathParameters: { id: s.sessionId }, token: s.token, query: { cursor: first.nextCursor! } });
    expect(rest.status).toBe(200);
    expect(rest.body.files).toHaveLength(13);
    expect(rest.body.counts.declared).toBe(23);
  });

  it('answers 400 for a cursor it never issued, and 401 without the session token', async () => {
    const s = await sessionWith(1);
    const call = { method: 'GET' as const, path: `/sessions/${s.sessionId}`, route: '/sessions/{id}', pathParameters: { id: s.sessionId } };
    const bad = await api.invoke({ ...call, token: s.token, query: { cursor: '../../etc' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBeDefined();
    const unknown = await api.invoke({ ...call, token: s.token, query: { other: '1' } });
    expect(unknown.status).toBe(400);
    const anonymous = await api.invoke({ ...call, token: 'not-the-token', query: { cursor: s.fileIds[0]! } });
    expect(anonymous.status).toBe(401);
  });
});
