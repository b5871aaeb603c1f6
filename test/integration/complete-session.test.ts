/**
 * POST /sessions/{id}/complete and the sweep, on the emulators. The happy path runs through the
 * real API (code → session → upload request → presigned PUTs with fetch), the real inspector and
 * the real completion handler, and checks the manifest against the corpus oracle. Completion
 * re-checks the rules from stored, verified state, answers the same twice, and cleans up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetObjectCommand, GetObjectTaggingCommand } from '@aws-sdk/client-s3';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { keys, type SessionItem } from '../../lambdas/adapters/table';
import type { Manifest } from '../../lambdas/core/manifest';
import { en } from '../../lambdas/core/messages';
import { manifestKeyFor, objectKeyFor } from '../../lambdas/core/model';
import { createCompleteSessionHandler } from '../../lambdas/handlers/complete-session';
import { createSweeperHandler } from '../../lambdas/handlers/sweeper';
import { apiEvent, readResult } from './helpers/api-events';
import { sha256Of, startApi, type ApiHarness } from './helpers/api';
import {
  corpusBytes,
  declareCorpusDicom,
  declareFile,
  oracleOf,
  pdfBytes,
  pngBytes,
  putObject,
  rigOn,
  seedSession,
  sqsEvent,
  sqsMessage,
  uploadAndInspect,
  type Rig,
} from './inspection-support';

const STUDY_A = ['test_files/dicomdirtests/98892003/MR1/5641', 'test_files/dicomdirtests/98892003/MR2/6273', 'test_files/dicomdirtests/98892003/MR2/6605'];
const STUDY_B = ['test_files/dicomdirtests/98892001/CT2N/6293', 'test_files/dicomdirtests/98892001/CT2N/6924', 'test_files/dicomdirtests/98892001/CT5N/2062'];
const CONSENT = { privacyPolicy: true, dataSharing: true };

let api: ApiHarness;
let rig: Rig;
let complete: ReturnType<typeof createCompleteSessionHandler>;

beforeAll(async () => {
  api = await startApi('complete');
  rig = rigOn(api.table, api.bucket);
  rig.api = api;
  complete = createCompleteSessionHandler({ authorize: rig.useCases.authorize, completeSession: rig.useCases.completeSession, observability: rig.observability });
});
afterAll(async () => {
  await api?.close();
});

async function completeCall(sessionId: string, token: string | undefined, body: unknown) {
  return readResult(
    await complete(apiEvent({ method: 'POST', path: `/sessions/${sessionId}/complete`, route: '/sessions/{id}/complete', pathParameters: { id: sessionId }, token, body })),
  );
}

async function sessionItem(sessionId: string): Promise<SessionItem> {
  const out = await api.table.doc.send(new GetCommand({ TableName: api.table.tableName, Key: keys.session(sessionId), ConsistentRead: true }));
  return out.Item as SessionItem;
}

/** PUTs bytes to a presigned URL exactly as the portal does. */
async function putPresigned(upload: { url: string; headers: Record<string, string> }, bytes: Uint8Array): Promise<void> {
  const res = await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: Buffer.from(bytes) });
  expect(res.status).toBe(200);
}

/** Delivers the ObjectCreated events for keys already in the bucket, with the ETags S3 reports. */
async function deliverEvents(objectKeys: string[]) {
  const objects = await Promise.all(
    objectKeys.map(async (key) => {
      const head = await rig.reader.head(key);
      return { key, size: head!.size, etag: head!.etag! };
    }),
  );
  const response = await rig.inspector(sqsEvent(objects.map((o) => sqsMessage(api.bucket.bucketName, o))));
  expect(response.batchItemFailures).toEqual([]);
}

describe('the happy path through the real API', () => {
  it('2 studies with linked attachments → ACCEPTED, a manifest that matches the oracle, one event, same answer twice', async () => {
    const code = await api.issueCode({ reference: 'REF-2026-0042' });
    const session = await api.openSession(code);
    const uidOf = (file: string, attribute: string) => String(oracleOf(file).attributes[attribute]);
    const studyA = uidOf(STUDY_A[0]!, 'StudyInstanceUID');
    const studyB = uidOf(STUDY_B[0]!, 'StudyInstanceUID');
    const pdf = pdfBytes('discharge letter');
    const png = pngBytes();
    const declared = [
      ...[...STUDY_A, ...STUDY_B].map((file, i) => ({
        clientId: `d${i}`,
        name: `IM${i}.dcm`,
        size: oracleOf(file).size,
        kind: 'dicom',
        studyInstanceUid: uidOf(file, 'StudyInstanceUID'),
        sopInstanceUid: uidOf(file, 'SOPInstanceUID'),
        bytes: corpusBytes(file),
      })),
      { clientId: 'pdf', name: 'letter.pdf', size: pdf.length, kind: 'attachment', studyInstanceUid: studyA, contentType: 'application/pdf', bytes: pdf },
      { clientId: 'png', name: 'photo.png', size: png.length, kind: 'attachment', studyInstanceUid: studyB, contentType: 'image/png', bytes: png },
    ];
    const requested = await api.requestUploads(session.sessionId, session.token, declared.map(({ bytes, ...file }) => ({ ...file, sha256: sha256Of(bytes) })));
    expect(requested.status).toBe(201);
    const uploads = requested.body.uploads as { clientId: string; fileId: string; url: string; headers: Record<string, string> }[];
    expect(uploads).toHaveLength(declared.length);

    // Before anything arrived: 409 listing every pending file.
    const early = await completeCall(session.sessionId, session.token, { studies: [], contact: {}, consent: CONSENT });
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('FILES_PENDING');
    expect([...early.body.error.details.fileIds].sort()).toEqual(uploads.map((u) => u.fileId).sort());

    for (const upload of uploads) await putPresigned(upload, declared.find((d) => d.clientId === upload.clientId)!.bytes);
    const objectKeys = uploads.map((u) => `sessions/${session.sessionId}/files/${u.fileId}`);
    await deliverEvents(objectKeys);

    const body = {
      studies: [
        { studyInstanceUid: studyA, comment: 'MR follow-up, please compare with 2024' },
        { studyInstanceUid: studyB },
      ],
      contact: { email: 'patient@example.org', phone: '+31 6 1234 5678' },
      consent: CONSENT,
    };
    const accepted = await completeCall(session.sessionId, session.token, body);
    expect(accepted.status).toBe(200);
    const totalBytes = declared.reduce((n, d) => n + d.size, 0);
    expect(accepted.body).toMatchObject({ sessionId: session.sessionId, status: 'ACCEPTED', manifestKey: manifestKeyFor(session.sessionId), acceptedBytes: totalBytes });

    // The manifest: studies → series → instances with header summaries equal to the oracle's.
    const object = await api.bucket.s3.send(new GetObjectCommand({ Bucket: api.bucket.bucketName, Key: manifestKeyFor(session.sessionId) }));
    const manifest = JSON.parse(await object.Body!.transformToString()) as Manifest;
    expect(manifest.uploadCodeReference).toBe('REF-2026-0042');
    expect(manifest.uploader.contact).toEqual(body.contact);
    expect(manifest.totals).toMatchObject({ studies: 2, instances: 6, attachments: 2, bytes: totalBytes });
    expect(manifest.studies.map((s) => s.studyInstanceUid).sort()).toEqual([studyA, studyB].sort());
    for (const study of manifest.studies) {
      const files = study.studyInstanceUid === studyA ? STUDY_A : STUDY_B;
      const instances = study.series.flatMap((series) =>
        series.instances.map((instance) => {
          expect(instance.header.seriesInstanceUid).toBe(series.seriesInstanceUid);
          return instance;
        }),
      );
      expect(instances.map((i) => i.sopInstanceUid).sort()).toEqual(files.map((f) => uidOf(f, 'SOPInstanceUID')).sort());
      for (const instance of instances) {
        const file = files.find((f) => uidOf(f, 'SOPInstanceUID') === instance.sopInstanceUid)!;
        const truth = oracleOf(file).attributes;
        expect(instance.header).toMatchObject({
          studyInstanceUid: truth.StudyInstanceUID,
          seriesInstanceUid: truth.SeriesInstanceUID,
          sopClassUid: truth.SOPClassUID,
          modality: truth.Modality,
          transferSyntaxUid: truth.TransferSyntaxUID,
        });
        if (truth.PatientID) expect(instance.header.patientId).toBe(truth.PatientID);
      }
      expect(study.attachments).toHaveLength(1);
      expect(study.attachments[0]!.type).toBe(study.studyInstanceUid === studyA ? 'pdf' : 'png');
    }
    expect(manifest.studies.find((s) => s.studyInstanceUid === studyA)!.comment).toBe(body.studies[0]!.comment);

    // The objects become accepted data after the answer: the session is due for retention tagging,
    // and the sweeper, invoked by the UploadSessionAccepted event as the stack's rule does, tags every file.
    const tagsOf = async (key: string) => (await api.bucket.s3.send(new GetObjectTaggingCommand({ Bucket: api.bucket.bucketName, Key: key }))).TagSet ?? [];
    expect((await sessionItem(session.sessionId)).retentionDueSince).toBe(accepted.body.completedAt);
    expect(await tagsOf(objectKeys[0]!)).not.toContainEqual({ Key: 'upload-state', Value: 'accepted' });
    const sweeper = createSweeperHandler({ sweep: rig.useCases.sweep, observability: rig.observability });
    const acceptedEvent = { 'detail-type': 'UploadSessionAccepted', detail: rig.publisher.ofType('UploadSessionAccepted').find((e) => e.sessionId === session.sessionId) };
    expect(await sweeper(acceptedEvent)).toMatchObject({ retentionApplied: 1, objectsTagged: objectKeys.length, expired: 0, failed: 0 });
    for (const key of objectKeys) expect(await tagsOf(key)).toContainEqual({ Key: 'upload-state', Value: 'accepted' });
    const tagged = await sessionItem(session.sessionId);
    expect(tagged.retentionDueSince).toBeUndefined();
    expect(tagged.retentionAppliedAt).toBeDefined();
    // Once applied, neither the event again nor the schedule tags anything.
    expect(await sweeper(acceptedEvent)).toMatchObject({ retentionApplied: 0, objectsTagged: 0 });
    expect((await sweeper()).objectsTagged).toBe(0);
    // The replace-after-acceptance attack: the first file's URL (still within its expiry) with another
    // DICOM image of the same size. S3 refuses to replace the object; nothing changes.
    const target = uploads.find((u) => u.clientId === 'd0')!;
    const original = declared.find((d) => d.clientId === 'd0')!.bytes;
    const forged = Buffer.from(original);
    forged[forged.length - 1] = forged[forged.length - 1]! ^ 0xff;
    const replaced = await fetch(target.url, { method: 'PUT', headers: target.headers, body: new Uint8Array(forged) });
    expect(replaced.status).toBe(412);
    const kept = await api.bucket.s3.send(new GetObjectCommand({ Bucket: api.bucket.bucketName, Key: objectKeyFor(session.sessionId, target.fileId) }));
    expect(sha256Of(await kept.Body!.transformToByteArray())).toBe(sha256Of(original));
    expect((await api.getSession(session.sessionId, session.token)).body.status).toBe('ACCEPTED');
    // The session refuses further uploads.
    const more = await api.requestUploads(session.sessionId, session.token, [{ ...declared[6], bytes: undefined, clientId: 'late', name: 'late.pdf' }].map(({ bytes: _b, ...f }) => ({ ...f, sha256: sha256Of(pdf) })));
    expect(more.status).toBe(409);

    const events = rig.publisher.ofType('UploadSessionAccepted').filter((e) => e.sessionId === session.sessionId);
    expect(events).toEqual([expect.objectContaining({ manifestKey: manifestKeyFor(session.sessionId), studies: 2, dicomFiles: 6, attachments: 2, bytes: totalBytes })]);
    expect(rig.observability.total('SessionsAccepted')).toBeGreaterThanOrEqual(1);

    const again = await completeCall(session.sessionId, session.token, body);
    expect(again).toEqual(accepted);
    expect(rig.publisher.ofType('UploadSessionAccepted').filter((e) => e.sessionId === session.sessionId)).toHaveLength(1);
    const view = await api.getSession(session.sessionId, session.token);
    expect(view.body.status).toBe('ACCEPTED');
  });
});

describe('completion refuses what it must', () => {
  it('a wrong token → 401; bad bodies → 400; no consent → 422 CONSENT_REQUIRED; nothing changes', async () => {
    const { sessionId, token } = await seedSession(rig);
    const file = await declareCorpusDicom(rig, sessionId, STUDY_A[0]!);
    await uploadAndInspect(rig, file.key, corpusBytes(STUDY_A[0]!));
    expect((await completeCall(sessionId, 'x'.repeat(43), { consent: CONSENT })).status).toBe(401);
    expect((await completeCall(sessionId, undefined, { consent: CONSENT })).status).toBe(401);
    for (const bad of [{ consent: 'yes' }, { consent: CONSENT, studies: 'all' }, { consent: CONSENT, contact: { email: 'not-an-address' } }, { consent: CONSENT, extra: 1 }, { consent: CONSENT, studies: [{ studyInstanceUid: '1.2.3', comment: 'x'.repeat(5000) }] }]) {
      const res = await completeCall(sessionId, token, bad);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('INVALID_REQUEST');
    }
    for (const consent of [undefined, { privacyPolicy: true, dataSharing: false }, { privacyPolicy: false, dataSharing: true }]) {
      const res = await completeCall(sessionId, token, consent ? { consent } : {});
      expect(res.status).toBe(422);
      expect(res.body.error).toMatchObject({ code: 'CONSENT_REQUIRED', message: en.CONSENT_REQUIRED });
    }
    const unknownStudy = await completeCall(sessionId, token, { studies: [{ studyInstanceUid: '1.2.3.4' }], consent: CONSENT });
    expect(unknownStudy.status).toBe(400);
    expect((await sessionItem(sessionId)).status).toBe('OPEN');
    expect((await completeCall(sessionId, token, { consent: CONSENT })).body.status).toBe('ACCEPTED');
  });

  it('an empty session → 422 NOTHING_TO_UPLOAD; an expired one → 409', async () => {
    const empty = await seedSession(rig);
    const res = await completeCall(empty.sessionId, empty.token, { consent: CONSENT });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('NOTHING_TO_UPLOAD');
    const expired = await seedSession(rig, { status: 'EXPIRED' });
    const gone = await completeCall(expired.sessionId, expired.token, { consent: CONSENT });
    expect(gone.status).toBe(409);
    expect(gone.body.error.code).toBe('SESSION_NOT_OPEN');

    // Past its expiry but not swept yet: still expired, and a late object is deleted on arrival.
    const lapsed = await seedSession(rig, { expiresAt: new Date(Date.now() - 1000).toISOString() });
    const file = await declareCorpusDicom(rig, lapsed.sessionId, STUDY_A[0]!);
    await uploadAndInspect(rig, file.key, corpusBytes(STUDY_A[0]!));
    expect(await api.bucket.objectSize(file.key)).toBeUndefined();
    const late = await completeCall(lapsed.sessionId, lapsed.token, { consent: CONSENT });
    expect(late.status).toBe(409);
    expect(late.body.error).toMatchObject({ code: 'SESSION_NOT_OPEN', details: { status: 'EXPIRED' } });
  });

  it('a session the inspector rejected answers REJECTED with its reasons, every time', async () => {
    const { sessionId, token } = await seedSession(rig);
    const file = await declareCorpusDicom(rig, sessionId, STUDY_A[0]!, { size: 4 });
    await uploadAndInspect(rig, file.key, pdfBytes().subarray(0, 4));
    const first = await completeCall(sessionId, token, { consent: CONSENT });
    const second = await completeCall(sessionId, token, { consent: CONSENT });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ sessionId, status: 'REJECTED', reasons: [{ code: 'NOT_DICOM', message: en.NOT_DICOM, fileId: file.fileId }] });
    expect(second).toEqual(first);
  });
});

describe('completion re-checks every rule from stored, verified state', () => {
  it('two files whose bytes are the same image → DUPLICATE_SOP_INSTANCE, objects deleted', async () => {
    const { sessionId, token } = await seedSession(rig);
    const image = STUDY_A[0]!;
    // The declarations claim two images; what arrived is one image twice (the header says so).
    const one = await declareCorpusDicom(rig, sessionId, image);
    const two = await declareCorpusDicom(rig, sessionId, image, { sopInstanceUid: undefined });
    await uploadAndInspect(rig, one.key, corpusBytes(image));
    await uploadAndInspect(rig, two.key, corpusBytes(image));
    const res = await completeCall(sessionId, token, { consent: CONSENT });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('REJECTED');
    // The second of the two (in stored order) is the duplicate.
    expect(res.body.reasons).toEqual([{ code: 'DUPLICATE_SOP_INSTANCE', message: en.DUPLICATE_SOP_INSTANCE, fileId: expect.toBeOneOf([one.fileId, two.fileId]) }]);
    expect(await api.bucket.listKeys(`sessions/${sessionId}/`)).toEqual([]);
    expect(rig.publisher.ofType('UploadSessionRejected').filter((e) => e.sessionId === sessionId)).toEqual([
      expect.objectContaining({ reasonCodes: ['DUPLICATE_SOP_INSTANCE'] }),
    ]);
    expect(rig.observability.total('SessionsRejected', 'DUPLICATE_SOP_INSTANCE')).toBeGreaterThanOrEqual(1);
  });

  it('stored limits the verified bytes exceed → SESSION_SIZE_LIMIT', async () => {
    const files = STUDY_A.slice(0, 2);
    const total = files.reduce((n, f) => n + oracleOf(f).size, 0);
    const { sessionId, token } = await seedSession(rig, { limits: { ...rig.limits, maxSessionBytes: total - 1, maxStudyBytes: total - 1 } });
    for (const f of files) {
      const declared = await declareCorpusDicom(rig, sessionId, f);
      await uploadAndInspect(rig, declared.key, corpusBytes(f));
    }
    const res = await completeCall(sessionId, token, { consent: CONSENT });
    expect(res.body.status).toBe('REJECTED');
    expect(res.body.reasons.map((r: { code: string }) => r.code)).toContain('SESSION_SIZE_LIMIT');
  });

  it('two completions at once: one does the work, both get the same ACCEPTED answer, one event', async () => {
    const { sessionId, token } = await seedSession(rig);
    for (const f of STUDY_B) {
      const declared = await declareCorpusDicom(rig, sessionId, f);
      await uploadAndInspect(rig, declared.key, corpusBytes(f));
    }
    const pdf = pdfBytes();
    const attachment = await declareFile(rig, sessionId, { kind: 'attachment', size: pdf.length, studyInstanceUid: '', attachmentType: 'pdf' });
    await uploadAndInspect(rig, attachment.key, pdf);
    const results = await Promise.all([1, 2, 3].map(() => completeCall(sessionId, token, { consent: CONSENT })));
    const accepted = results.filter((r) => r.status === 200);
    expect(accepted.length).toBeGreaterThanOrEqual(1);
    for (const r of results) if (r.status !== 200) expect(r.body.error.code).toBe('COMPLETION_IN_PROGRESS');
    for (const r of accepted) expect(r.body).toEqual(accepted[0]!.body);
    expect(accepted[0]!.body.status).toBe('ACCEPTED');
    // Afterwards every call answers the stored result.
    expect((await completeCall(sessionId, token, { consent: CONSENT })).body).toEqual(accepted[0]!.body);
    expect(rig.publisher.ofType('UploadSessionAccepted').filter((e) => e.sessionId === sessionId)).toHaveLength(1);
    // The unlinked attachment went to the only study, automatically.
    const object = await api.bucket.s3.send(new GetObjectCommand({ Bucket: api.bucket.bucketName, Key: manifestKeyFor(sessionId) }));
    const manifest = JSON.parse(await object.Body!.transformToString()) as Manifest;
    expect(manifest.studies).toHaveLength(1);
    expect(manifest.studies[0]!.attachments.map((a) => a.fileId)).toEqual([attachment.fileId]);
  });
});

describe('the sweep of expired sessions', () => {
  it('expires OPEN sessions past their expiry and deletes their objects; leaves the others alone', async () => {
    const past = new Date(Date.now() - 60_000).toISOString();
    const stale = await seedSession(rig, { expiresAt: past });
    const staleFile = await declareCorpusDicom(rig, stale.sessionId, STUDY_A[0]!);
    await putObject(rig, staleFile.key, corpusBytes(STUDY_A[0]!));
    const fresh = await seedSession(rig);
    const freshFile = await declareCorpusDicom(rig, fresh.sessionId, STUDY_A[1]!);
    await putObject(rig, freshFile.key, corpusBytes(STUDY_A[1]!));
    const done = await seedSession(rig, { expiresAt: past, status: 'ACCEPTED' });
    const doneFile = await declareCorpusDicom(rig, done.sessionId, STUDY_A[2]!);
    await putObject(rig, doneFile.key, corpusBytes(STUDY_A[2]!));

    const sweeper = createSweeperHandler({ sweep: rig.useCases.sweep, observability: rig.observability });
    const result = await sweeper();
    expect(result.expired).toBeGreaterThanOrEqual(1);
    expect(result.failed).toBe(0);
    expect((await sessionItem(stale.sessionId)).status).toBe('EXPIRED');
    expect(await api.bucket.objectSize(staleFile.key)).toBeUndefined();
    expect((await sessionItem(fresh.sessionId)).status).toBe('OPEN');
    expect(await api.bucket.objectSize(freshFile.key)).toBe(freshFile.size);
    expect((await sessionItem(done.sessionId)).status).toBe('ACCEPTED');
    expect(await api.bucket.objectSize(doneFile.key)).toBe(doneFile.size);

    // Nothing left to do the second time; a late PUT to the expired session is deleted on arrival.
    expect((await sweeper()).expired).toBe(0);
    await uploadAndInspect(rig, staleFile.key, corpusBytes(STUDY_A[0]!));
    expect(await api.bucket.objectSize(staleFile.key)).toBeUndefined();
    const res = await completeCall(stale.sessionId, stale.token, { consent: CONSENT });
    expect(res.status).toBe(409);
  });

  it('tags the files of an accepted session whose event never reached the sweeper; a malformed event gets the full sweep', async () => {
    const lost = await seedSession(rig, { status: 'ACCEPTED' });
    const files = [await declareCorpusDicom(rig, lost.sessionId, STUDY_A[0]!), await declareCorpusDicom(rig, lost.sessionId, STUDY_A[1]!)];
    for (const [i, f] of files.entries()) await putObject(rig, f.key, corpusBytes(STUDY_A[i]!));
    await api.table.doc.send(
      new UpdateCommand({ TableName: api.table.tableName, Key: keys.session(lost.sessionId), UpdateExpression: 'SET retentionDueSince = :at', ExpressionAttributeValues: { ':at': new Date().toISOString() } }),
    );
    const tagsOf = async (key: string) => (await api.bucket.s3.send(new GetObjectTaggingCommand({ Bucket: api.bucket.bucketName, Key: key }))).TagSet ?? [];
    expect(await tagsOf(files[0]!.key)).toEqual([]);

    const sweeper = createSweeperHandler({ sweep: rig.useCases.sweep, observability: rig.observability });
    // An id that is not one of ours is not looked up: the whole table is swept instead, which finds the session.
    const result = await sweeper({ 'detail-type': 'UploadSessionAccepted', detail: { sessionId: '../../etc' } });
    expect(result.failed).toBe(0);
    expect(result.retentionApplied).toBeGreaterThanOrEqual(1);
    for (const f of files) expect(await tagsOf(f.key)).toEqual([{ Key: 'upload-state', Value: 'accepted' }]);
    expect((await sessionItem(lost.sessionId)).retentionDueSince).toBeUndefined();
  });
});
