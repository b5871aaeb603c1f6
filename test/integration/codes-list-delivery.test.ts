/**
 * `npm run codes -- list` shows each accepted session's delivery: the admin route's `delivery` counts,
 * read from the study items on DynamoDB Local, and the CLI's column ("delivered 2/2", "failed 1", "pending").
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDeliveryStore } from '../../lambdas/adapters/dynamo-delivery-store';
import { keys } from '../../lambdas/adapters/table';
import type { CodeListing } from '../../lambdas/core/code-admin';
import type { StudyDelivery } from '../../lambdas/core/model';
import { formatListing } from '../../scripts/codes-admin';
import { ADMIN_TOKEN, dicomFile, sha256Of, startApi, testUid, type ApiHarness } from './helpers/api';

let api: ApiHarness;
let store: DynamoDeliveryStore;
beforeAll(async () => {
  api = await startApi('codes-list-delivery');
  store = new DynamoDeliveryStore({ doc: api.clients.dynamo, tableName: api.table.tableName });
});
afterAll(async () => api?.close());

const AT = '2026-12-01T10:00:00.000Z';

/** A session of `studies` declared studies under a code with `reference`, marked ACCEPTED when asked. */
async function sessionWith(reference: string, studies: number, accepted = true): Promise<{ sessionId: string; uids: string[] }> {
  const s = await api.openSession(await api.issueCode({ reference }));
  const uids = Array.from({ length: studies }, () => testUid());
  const declared = await api.requestUploads(s.sessionId, s.token, uids.map((uid) => dicomFile(uid, 16, { sha256: sha256Of(new Uint8Array(16)) })));
  expect(declared.status).toBe(201);
  if (accepted) {
    await api.table.doc.send(
      new UpdateCommand({
        TableName: api.table.tableName,
        Key: keys.session(s.sessionId),
        UpdateExpression: 'SET #status = :accepted',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':accepted': 'ACCEPTED' },
      }),
    );
  }
  return { sessionId: s.sessionId, uids };
}

async function deliver(sessionId: string, uid: string, state: StudyDelivery['state']) {
  expect(await store.claim(sessionId, uid, 'dicomweb', AT, AT)).toBe(true);
  if (state !== 'PENDING') await store.record(sessionId, uid, { state, target: 'dicomweb', updatedAt: AT, attempts: 1, ...(state === 'FAILED' ? { reason: 'the PACS refused 1 instance(s) (HTTP 400)', retryable: false } : { instances: 3 }) });
}

describe('codes list with delivery', () => {
  it('counts each accepted session\'s studies delivered, failed and pending; an open session has none', async () => {
    const all = await sessionWith('REF-DELIVERED', 2);
    for (const uid of all.uids) await deliver(all.sessionId, uid, 'DELIVERED');
    const mixed = await sessionWith('REF-MIXED', 3);
    await deliver(mixed.sessionId, mixed.uids[0]!, 'DELIVERED');
    await deliver(mixed.sessionId, mixed.uids[1]!, 'FAILED');
    await deliver(mixed.sessionId, mixed.uids[2]!, 'PENDING');
    await sessionWith('REF-WAITING', 2); // accepted, no run has claimed its studies yet
    await sessionWith('REF-OPEN', 1, false);

    const res = await api.invoke({ method: 'GET', path: '/admin/upload-codes', token: ADMIN_TOKEN });
    expect(res.status).toBe(200);
    const codes = res.body.codes as CodeListing[];
    const byRef = new Map(codes.map((c) => [c.reference, c]));
    expect(byRef.get('REF-DELIVERED')!.delivery).toEqual({ studies: 2, delivered: 2, failed: 0, pending: 0 });
    expect(byRef.get('REF-MIXED')!.delivery).toEqual({ studies: 3, delivered: 1, failed: 1, pending: 1 });
    expect(byRef.get('REF-WAITING')!.delivery).toEqual({ studies: 2, delivered: 0, failed: 0, pending: 2 });
    expect(byRef.get('REF-OPEN')!.delivery).toBeUndefined();
    // The hospital's list carries counts only: no failure reason (it could name the PACS's answer), no study UIDs.
    expect(JSON.stringify(codes)).not.toContain('HTTP 400');
    expect(JSON.stringify(codes)).not.toContain(mixed.uids[0]!);

    const printed = formatListing(codes).split('\n');
    expect(printed[0]).toMatch(/ delivery$/);
    const line = (reference: string) => printed.find((l) => l.includes(reference))!;
    expect(line('REF-DELIVERED')).toMatch(/ACCEPTED\s+delivered 2\/2$/);
    expect(line('REF-MIXED')).toMatch(/ACCEPTED\s+delivered 1\/3, failed 1, pending 1$/);
    expect(line('REF-WAITING')).toMatch(/ACCEPTED\s+pending$/);
    expect(line('REF-OPEN')).toMatch(/OPEN\s+-$/);
  });
});
