/** The portal's API client: getSession follows nextCursor until every file is read; the summary reads one page. */
import { describe, expect, it } from 'vitest';
import { ApiClient } from '../../web/src/api';

/** Answers GET /sessions/s1 like the API: `total` files in pages of `pageSize`, the cursor being the last file id. */
function pagedApi(total: number, pageSize: number) {
  const requested: string[] = [];
  const fetchFn = async (input: string) => {
    const url = new URL(input);
    requested.push(url.search);
    const after = url.searchParams.get('cursor');
    const start = after === null ? 0 : Number(after.slice(1)) + 1;
    const files = Array.from({ length: Math.max(0, Math.min(pageSize, total - start)) }, (_, i) => ({ fileId: `f${start + i}`, status: 'VERIFIED' }));
    const more = start + files.length < total;
    const body = { status: 'OPEN', counts: { declared: total, received: total, verified: total, rejected: 0 }, files, ...(more ? { nextCursor: files.at(-1)!.fileId } : {}) };
    return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
  };
  return { client: new ApiClient('http://api.test', fetchFn), requested };
}

describe('ApiClient session pages', () => {
  it('getSession gathers every page, in order, and drops the cursor', async () => {
    const { client, requested } = pagedApi(2500, 1000);
    const state = await client.getSession('s1');
    expect(state.files.map((f) => f.fileId)).toEqual(Array.from({ length: 2500 }, (_, i) => `f${i}`));
    expect(state.nextCursor).toBeUndefined();
    expect(state.counts).toEqual({ declared: 2500, received: 2500, verified: 2500, rejected: 0 });
    expect(requested).toEqual(['', '?cursor=f999', '?cursor=f1999']);
  });

  it('getSessionSummary reads one page and keeps its cursor', async () => {
    const { client, requested } = pagedApi(2500, 1000);
    const summary = await client.getSessionSummary('s1');
    expect(summary.files).toHaveLength(1000);
    expect(summary.nextCursor).toBe('f999');
    expect(requested).toEqual(['']);
  });
});
