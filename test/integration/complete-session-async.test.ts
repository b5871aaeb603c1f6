/**
 * POST /sessions/{id}/complete at any size: the request checks from the counters and study totals, locks, queues
 * the job and answers 202 COMPLETING; the completer finishes it (manifest, outcome, event) and GET shows it. On the
 * emulators, with the real inspector and local mode's completion queue (jobs on disk, resumed by a new queue).
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { manifestKeyFor } from '../../lambdas/core/model';
import type { CompletionJob } from '../../lambdas/core/ports';
import { createCompleteSessionHandler } from '../../lambdas/handlers/complete-session';
import { buildInspectionUseCases } from '../../lambdas/runtime/inspection-deps';
import { LocalCompletionQueue } from '../../local/completion-queue';
import { apiEvent, readResult } from './helpers/api-events';
import { startApi, type ApiHarness } from './helpers/api';
import { corpusBytes, declareCorpusDicom, oracleOf, rigOn, seedSession, uploadAndInspect, type Rig } from './inspection-support';

const FILES = ['test_files/dicomdirtests/98892003/MR1/5641', 'test_files/dicomdirtests/98892003/MR2/6273', 'test_files/dicomdirtests/98892001/CT2N/6293'];
const CONSENT = { privacyPolicy: true, dataSharing: true };

let api: ApiHarness;
let rig: Rig;
let dir: string;

beforeAll(async () => {
  api = await startApi('complete-async');
  rig = rigOn(api.table, api.bucket);
  rig.api = api;
  dir = mkdtempSync(join(tmpdir(), 'completions-'));
});
afterAll(async () => {
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The use cases with a completion queue whose completer runs only when `gate` opens. */
function asyncRig(queueDir: string, gate: Promise<void> = Promise.resolve()) {
  const runs: CompletionJob[] = [];
  let finish: (job: CompletionJob) => Promise<unknown> = async () => undefined;
  const queue = new LocalCompletionQueue({
    dir: queueDir,
    run: async (job) => {
      await gate;
      runs.push(job);
      return finish(job);
    },
    onFailure: () => undefined,
  });
  const useCases = buildInspectionUseCases({ doc: api.table.doc, tableName: api.table.tableName, s3: api.bucket.s3, bucketName: api.bucket.bucketName, publisher: rig.publisher, observability: rig.observability, completionQueue: queue });
  finish = useCases.finishCompletion;
  const handler = createCompleteSessionHandler({ authorize: useCases.authorize, completeSession: useCases.requestCompletion!, observability: rig.observability });
  const post = async (sessionId: string, token: string, body: unknown) =>
    readResult(await handler(apiEvent({ method: 'POST', path: `/sessions/${sessionId}/complete`, route: '/sessions/{id}/complete', pathParameters: { id: sessionId }, token, body })));
  return { queue, runs, useCases, post };
}

async function verifiedSession() {
  const session = await seedSession(rig);
  for (const file of FILES) {
    const declared = await declareCorpusDicom(rig, session.sessionId, file);
    const { response } = await uploadAndInspect(rig, declared.key, corpusBytes(file));
    expect(response.batchItemFailures).toEqual([]);
  }
  const studies = [...new Set(FILES.map((f) => String(oracleOf(f).attributes.StudyInstanceUID)))];
  return { ...session, studies };
}

describe('asynchronous completion', () => {
  it('answers 202 COMPLETING, once per lock however often it is asked; the completer accepts, GET shows it, a later POST answers 200', async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const { queue, runs, post } = asyncRig(join(dir, 'a'), gate);
    const s = await verifiedSession();
    const body = { studies: s.studies.map((uid, i) => ({ studyInstanceUid: uid, comment: `comment ${i}` })), contact: { email: 'a@example.org' }, consent: CONSENT };

    const first = await post(s.sessionId, s.token, body);
    expect(first.status).toBe(202);
    expect(first.body).toEqual({ sessionId: s.sessionId, status: 'COMPLETING' });
    const again = await post(s.sessionId, s.token, body);
    expect(again.status).toBe(202);
    const during = await api.getSession(s.sessionId, s.token);
    expect(during.body.status).toBe('COMPLETING');

    open();
    await queue.idle();
    expect(runs).toHaveLength(1);
    const after = await api.getSession(s.sessionId, s.token);
    expect(after.body.status).toBe('ACCEPTED');
    expect(after.body.studies.map((st: { comment?: string }) => st.comment).sort()).toEqual(['comment 0', 'comment 1']);
    await api.bucket.s3.send(new HeadObjectCommand({ Bucket: api.bucket.bucketName, Key: manifestKeyFor(s.sessionId) }));
    expect(rig.publisher.ofType('UploadSessionAccepted').filter((e) => e.sessionId === s.sessionId)).toHaveLength(1);
    const decided = await post(s.sessionId, s.token, body);
    expect(decided.status).toBe(200);
    expect(decided.body).toMatchObject({ status: 'ACCEPTED', manifestKey: manifestKeyFor(s.sessionId) });
    expect(readdirSync(join(dir, 'a'))).toEqual([]);
  });

  it('checks the named studies and the consent in the request, from the study totals, and leaves the session OPEN', async () => {
    const { runs, post } = asyncRig(join(dir, 'b'));
    const s = await verifiedSession();
    const unknown = await post(s.sessionId, s.token, { studies: [{ studyInstanceUid: '1.2.3.999' }], contact: {}, consent: CONSENT });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details.unknownStudies).toEqual(['1.2.3.999']);
    const noConsent = await post(s.sessionId, s.token, { studies: [], contact: {} });
    expect(noConsent.status).toBe(422);
    expect((await api.getSession(s.sessionId, s.token)).body.status).toBe('OPEN');
    expect(runs).toEqual([]);
  });

  it('a job left on disk by a stop runs at the next start; a job whose lock is gone changes nothing', async () => {
    const stopped = asyncRig(join(dir, 'c'), new Promise<void>(() => undefined));
    const s = await verifiedSession();
    expect((await stopped.post(s.sessionId, s.token, { studies: [], contact: {}, consent: CONSENT })).status).toBe(202);
    stopped.queue.stop();
    expect(readdirSync(join(dir, 'c'))).toEqual([`${s.sessionId}.json`]);

    // A stale job (another lock) is refused without touching the session.
    const next = asyncRig(join(dir, 'c'));
    expect(await next.useCases.finishCompletion({ sessionId: s.sessionId, lockedAt: '2000-01-01T00:00:00.000Z', request: { studies: [], contact: {} } })).toBeNull();
    expect((await api.getSession(s.sessionId, s.token)).body.status).toBe('COMPLETING');

    expect(next.queue.resume()).toBe(1);
    await next.queue.idle();
    expect((await api.getSession(s.sessionId, s.token)).body.status).toBe('ACCEPTED');
    expect(readdirSync(join(dir, 'c'))).toEqual([]);
  });
});
