/**
 * Concurrent upload requests can never overshoot a limit: 50 parallel requests against room for
 * exactly 20 files (session bytes) and against the 10-attachments-per-study limit, each run 3 times
 * on DynamoDB Local. While they run, a watcher reads the stored counters and records the maximum.
 * Plus the retry path for transactions that lose to a concurrent writer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../../lambdas/adapters/table';
import { DynamoReservationStore } from '../../lambdas/adapters/dynamo-reservation-store';
import { DynamoSessionStore } from '../../lambdas/adapters/dynamo-session-store';
import { NodeIds } from '../../lambdas/adapters/node-ids';
import { Sha256SecretHasher } from '../../lambdas/adapters/node-secret-hasher';
import { S3MultipartUploads } from '../../lambdas/adapters/s3-multipart-uploads';
import { DynamoMultipartRecorder } from '../../lambdas/adapters/dynamo-multipart-recorder';
import { S3UploadSigner } from '../../lambdas/adapters/s3-upload-signer';
import { ConflictError } from '../../lambdas/core/errors';
import type { ReservationStore } from '../../lambdas/core/ports';
import { MAX_RESERVATION_ATTEMPTS } from '../../lambdas/core/limits';
import { makeRequestUploads } from '../../lambdas/core/uploads';
import { attachmentFile, dicomFile, startApi, testUid, type ApiHarness } from './helpers/api';

let api: ApiHarness;

beforeAll(async () => {
  api = await startApi('api-concurrency');
});
afterAll(async () => api?.close());

/** Reads an item over and over until stopped, keeping the highest value of `attribute` seen. */
function watchMaximum(key: { pk: string; sk: string }, attribute: string) {
  let running = true;
  let maximum = 0;
  let reads = 0;
  const loop = (async () => {
    while (running) {
      const out = await api.table.doc.send(new GetCommand({ TableName: api.table.tableName, Key: key, ConsistentRead: true }));
      maximum = Math.max(maximum, Number(out.Item?.[attribute] ?? 0));
      reads++;
    }
  })();
  return async () => {
    running = false;
    await loop;
    return { maximum, reads };
  };
}

const FILE_BYTES = 1000;
const ROOM_FOR = 20;

describe('50 parallel upload requests', () => {
  for (const run of [1, 2, 3]) {
    it(`reserve exactly 20 files when the session has room for exactly 20 (run ${run})`, async () => {
      const s = await api.openSession(await api.issueCode({ maxSessionBytes: ROOM_FOR * FILE_BYTES }));
      const studies = [testUid(), testUid()];
      const stop = watchMaximum(keys.session(s.sessionId), 'reservedBytes');
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => api.requestUploads(s.sessionId, s.token, [dicomFile(studies[i % 2]!, FILE_BYTES)])),
      );
      const watched = await stop();

      const statuses = results.map((r) => r.status);
      expect(statuses.filter((st) => st === 201)).toHaveLength(ROOM_FOR);
      expect(statuses.filter((st) => st === 422)).toHaveLength(50 - ROOM_FOR);
      for (const r of results.filter((x) => x.status === 422)) expect(r.body.error.code).toBe('SESSION_SIZE_LIMIT');

      const state = await api.getSession(s.sessionId, s.token);
      expect(state.body.usage.reservedBytes).toBe(ROOM_FOR * FILE_BYTES);
      expect(state.body.files).toHaveLength(ROOM_FOR);
      expect(state.body.studies.reduce((sum: number, st: { bytes: number }) => sum + st.bytes, 0)).toBe(ROOM_FOR * FILE_BYTES);
      expect(state.body.studies.reduce((sum: number, st: { dicomFiles: number }) => sum + st.dicomFiles, 0)).toBe(ROOM_FOR);
      expect(watched.reads).toBeGreaterThan(0);
      expect(watched.maximum).toBeLessThanOrEqual(ROOM_FOR * FILE_BYTES);
    });
  }
});

describe('50 parallel attachment requests to one study', () => {
  for (const run of [1, 2, 3]) {
    it(`reserve exactly 10 attachments for the study (run ${run})`, async () => {
      const s = await api.openSession(await api.issueCode());
      const study = testUid();
      const first = await api.requestUploads(s.sessionId, s.token, [dicomFile(study, 100)]);
      expect(first.status).toBe(201);
      const stop = watchMaximum(keys.study(s.sessionId, study), 'attachmentCount');
      const results = await Promise.all(Array.from({ length: 50 }, () => api.requestUploads(s.sessionId, s.token, [attachmentFile(study, 10)])));
      const watched = await stop();

      const statuses = results.map((r) => r.status);
      expect(statuses.filter((st) => st === 201)).toHaveLength(10);
      expect(statuses.filter((st) => st === 422)).toHaveLength(40);
      for (const r of results.filter((x) => x.status === 422)) expect(r.body.error.code).toBe('ATTACHMENT_LIMIT');

      const state = await api.getSession(s.sessionId, s.token);
      expect(state.body.studies).toEqual([{ studyInstanceUid: study, bytes: 100 + 10 * 10, dicomFiles: 1, attachments: 10, counts: { declared: 11, received: 0, verified: 0, rejected: 0 }, receivedBytes: 0 }]);
      expect(state.body.files).toHaveLength(11);
      expect(state.body.usage.reservedBytes).toBe(200);
      expect(watched.maximum).toBeLessThanOrEqual(10);
    });
  }
});

describe('resume during uploads', () => {
  it('re-redeeming the code while upload requests run never answers 500 and keeps the counters consistent', async () => {
    const code = await api.issueCode();
    const s = await api.openSession(code);
    const study = testUid();
    const results = await Promise.all([
      ...Array.from({ length: 20 }, () => api.requestUploads(s.sessionId, s.token, [dicomFile(study, 10)])),
      ...Array.from({ length: 5 }, () => api.invoke({ method: 'POST', path: '/sessions', body: { uploadCode: code }, sourceIp: '192.0.2.99' })),
    ]);
    const uploads = results.slice(0, 20);
    const resumes = results.slice(20);
    expect(resumes.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    // Requests that ran after the first resume carry a replaced token: 401, never 500.
    for (const r of uploads) expect([201, 401]).toContain(r.status);
    const accepted = uploads.filter((r) => r.status === 201).length;
    const latest = resumes.map((r) => r.body.token as string);
    const views = await Promise.all(latest.map((token) => api.getSession(s.sessionId, token)));
    const view = views.find((v) => v.status === 200)!;
    expect(view.body.files).toHaveLength(accepted);
    expect(view.body.usage.reservedBytes).toBe(accepted * 10);
  });
});

describe('losing to a concurrent writer', () => {
  /**
   * DynamoDB Local runs transactions one at a time, so it never reports TransactionConflict the way
   * DynamoDB does under contention. Inject that outcome in front of the real reservation store.
   */
  async function requestUploadsLosing(times: number) {
    const { dynamo, s3 } = api.clients;
    const real = new DynamoReservationStore(dynamo, api.config.tableName);
    let calls = 0;
    const reservations: ReservationStore = {
      reserve: async (r) => (++calls <= times ? { ok: false, refusal: 'conflict' } : real.reserve(r)),
      release: (file, now) => real.release(file, now),
    };
    const signer = new S3UploadSigner(s3, api.config.bucketName);
    const requestUploads = makeRequestUploads({
      sessions: new DynamoSessionStore(dynamo, api.config.tableName),
      reservations,
      signer,
      multipart: new S3MultipartUploads(s3, api.config.bucketName, signer),
      recorder: new DynamoMultipartRecorder(dynamo, api.config.tableName),
      hasher: new Sha256SecretHasher(),
      ids: new NodeIds(),
      clock: api.clock,
      institution: api.config.institution,
    });
    return { requestUploads, calls: () => calls };
  }

  it('retries and succeeds once the conflict is gone', async () => {
    const s = await api.openSession(await api.issueCode());
    const { requestUploads, calls } = await requestUploadsLosing(3);
    const result = await requestUploads({ sessionId: s.sessionId, token: s.token, files: [dicomFile(testUid(), 10) as never] });
    expect(result.uploads).toHaveLength(1);
    expect(calls()).toBe(4);
    expect((await api.getSession(s.sessionId, s.token)).body.usage.reservedBytes).toBe(10);
  });

  it(`gives up after ${MAX_RESERVATION_ATTEMPTS} attempts with 409 SESSION_BUSY and reserves nothing`, async () => {
    const s = await api.openSession(await api.issueCode());
    const { requestUploads, calls } = await requestUploadsLosing(1000);
    const failure = requestUploads({ sessionId: s.sessionId, token: s.token, files: [dicomFile(testUid(), 10) as never] });
    await expect(failure).rejects.toBeInstanceOf(ConflictError);
    await expect(failure).rejects.toMatchObject({ code: 'SESSION_BUSY' });
    expect(calls()).toBe(MAX_RESERVATION_ATTEMPTS);
    const state = await api.getSession(s.sessionId, s.token);
    expect(state.body.usage.reservedBytes).toBe(0);
    expect(state.body.files).toEqual([]);
  });
});
