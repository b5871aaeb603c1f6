/**
 * The inspector end to end on the emulators: real corpus files PUT to s3rver, S3 → SQS messages
 * with URL-encoded keys, the real handler, DynamoDB Local. Every lie an uploader can tell is caught
 * with a reason per file, and the session's objects are gone afterwards. Repeated events change
 * nothing. Bad bytes are rejections, never crashes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { keys, type FileItem, type SessionItem } from '../../lambdas/adapters/table';
import { objectKeyFor } from '../../lambdas/core/model';
import { FIRST_HEADER_CHUNK } from '../../lambdas/core/limits';
import { S3ObjectReader } from '../../lambdas/adapters/s3-object-reader';
import { en, type MessageCode } from '../../lambdas/core/messages';
import {
  corpusBytes,
  createRig,
  declareCorpusDicom,
  declareFile,
  elfBytes,
  oracleOf,
  pdfBytes,
  putObject,
  seedSession,
  sqsEvent,
  sqsMessage,
  uploadAndInspect,
  zipBytes,
  type Rig,
} from './inspection-support';

const MR_1 = 'test_files/dicomdirtests/98892003/MR1/5641';
const MR_2 = 'test_files/dicomdirtests/98892003/MR2/6273';
const CT_1 = 'test_files/dicomdirtests/98892001/CT2N/6293';

let rig: Rig;
beforeAll(async () => {
  rig = await createRig('inspection');
});
afterAll(async () => {
  await rig?.drop();
});

async function sessionItem(sessionId: string): Promise<SessionItem> {
  const out = await rig.table.doc.send(new GetCommand({ TableName: rig.table.tableName, Key: keys.session(sessionId), ConsistentRead: true }));
  return out.Item as SessionItem;
}
async function fileItem(sessionId: string, fileId: string): Promise<FileItem> {
  const out = await rig.table.doc.send(new GetCommand({ TableName: rig.table.tableName, Key: keys.file(sessionId, fileId), ConsistentRead: true }));
  return out.Item as FileItem;
}

/** The rejection is complete: status, a reason with the code for the file, no objects left, an event without PHI. */
async function expectRejected(sessionId: string, fileId: string, code: MessageCode) {
  const session = await sessionItem(sessionId);
  expect(session.status).toBe('REJECTED');
  expect(session.rejection).toContainEqual({ code, message: en[code], fileId });
  const file = await fileItem(sessionId, fileId);
  expect(file.status).toBe('REJECTED');
  expect(file.reason?.code).toBe(code);
  expect(await rig.bucket.listKeys(`sessions/${sessionId}/`)).toEqual([]);
  const events = rig.publisher.ofType('UploadSessionRejected').filter((e) => e.sessionId === sessionId);
  expect(events).toHaveLength(1);
  expect(events[0]!.reasonCodes).toContain(code);
  // Reason codes and ids only: no UIDs, no names, no messages.
  expect(Object.keys(events[0]!).sort()).toEqual(['institutionId', 'reasonCodes', 'rejectedAt', 'sessionId']);
}

describe('a truthful upload', () => {
  it('verifies DICOM and attachments, records the header summary, bytes read and received bytes once', async () => {
    const { sessionId } = await seedSession(rig);
    const dicom = await declareCorpusDicom(rig, sessionId, MR_1);
    const pdf = pdfBytes();
    const attachment = await declareFile(rig, sessionId, { kind: 'attachment', size: pdf.length, studyInstanceUid: dicom.studyInstanceUid, attachmentType: 'pdf' });
    const before = rig.observability.total('FilesInspected');

    const a = await uploadAndInspect(rig, dicom.key, corpusBytes(MR_1));
    const b = await uploadAndInspect(rig, attachment.key, pdf);
    expect(a.response.batchItemFailures).toEqual([]);
    expect(b.response.batchItemFailures).toEqual([]);

    const stored = await fileItem(sessionId, dicom.fileId);
    const truth = oracleOf(MR_1).attributes;
    expect(stored.status).toBe('VERIFIED');
    expect(stored.header).toMatchObject({
      studyInstanceUid: truth.StudyInstanceUID,
      sopInstanceUid: truth.SOPInstanceUID,
      seriesInstanceUid: truth.SeriesInstanceUID,
      modality: truth.Modality,
      transferSyntaxUid: truth.TransferSyntaxUID,
    });
    expect(stored.inspectionBytesRead).toBe(oracleOf(MR_1).size);
    expect(stored.etag).toBe(a.object.etag);
    const storedPdf = await fileItem(sessionId, attachment.fileId);
    expect(storedPdf).toMatchObject({ status: 'VERIFIED', detectedType: 'pdf' });

    const session = await sessionItem(sessionId);
    expect(session.status).toBe('OPEN');
    expect(session.receivedBytes).toBe(dicom.size + pdf.length);
    expect(rig.observability.total('FilesInspected') - before).toBe(2);
  });

  it('ignores S3 test events and the session manifest, and answers an empty batch', async () => {
    const test = sqsMessage(rig.bucket.bucketName, { key: 'x', size: 0, etag: '' });
    test.body = JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Time: new Date().toISOString(), Bucket: rig.bucket.bucketName });
    const { sessionId } = await seedSession(rig);
    const manifest = await putObject(rig, `sessions/${sessionId}/manifest.json`, new TextEncoder().encode('{}'));
    const unknownBefore = rig.observability.total('UnknownObjects');
    const response = await rig.inspector(sqsEvent([test, sqsMessage(rig.bucket.bucketName, manifest)]));
    expect(response.batchItemFailures).toEqual([]);
    expect(await rig.bucket.objectSize(manifest.key)).toBe(2);
    expect(rig.observability.total('UnknownObjects')).toBe(unknownBefore);
    expect((await sessionItem(sessionId)).status).toBe('OPEN');
  });
});

describe('each lie is caught, with a reason per file, and the session is cleaned up', () => {
  it('declared DICOM, uploaded a PDF → NOT_DICOM', async () => {
    const { sessionId } = await seedSession(rig);
    const pdf = pdfBytes();
    const other = await declareCorpusDicom(rig, sessionId, MR_2);
    await uploadAndInspect(rig, other.key, corpusBytes(MR_2));
    const lie = await declareCorpusDicom(rig, sessionId, MR_1, { size: pdf.length });
    const { response } = await uploadAndInspect(rig, lie.key, pdf);
    expect(response.batchItemFailures).toEqual([]);
    await expectRejected(sessionId, lie.fileId, 'NOT_DICOM');
    // The honest file's object went too: the whole session is rejected.
    expect(await rig.bucket.objectSize(other.key)).toBeUndefined();
  });

  it('declared study A, uploaded a file of study B → STUDY_MISMATCH', async () => {
    const { sessionId } = await seedSession(rig);
    const ct = oracleOf(CT_1);
    const lie = await declareCorpusDicom(rig, sessionId, MR_1, { size: ct.size, sopInstanceUid: String(ct.attributes.SOPInstanceUID) });
    await uploadAndInspect(rig, lie.key, corpusBytes(CT_1));
    await expectRejected(sessionId, lie.fileId, 'STUDY_MISMATCH');
  });

  it('declared SOP X, uploaded SOP Y of the same study → SOP_MISMATCH', async () => {
    const { sessionId } = await seedSession(rig);
    const lie = await declareCorpusDicom(rig, sessionId, MR_1, { size: oracleOf(MR_2).size });
    expect(oracleOf(MR_2).attributes.StudyInstanceUID).toBe(lie.studyInstanceUid);
    await uploadAndInspect(rig, lie.key, corpusBytes(MR_2));
    await expectRejected(sessionId, lie.fileId, 'SOP_MISMATCH');
  });

  it.each([
    ['more', 1],
    ['fewer', -1],
  ])('uploaded %s bytes than declared → SIZE_MISMATCH, after reading at most the first 64 KiB', async (_label, delta) => {
    const { sessionId } = await seedSession(rig);
    const real = corpusBytes(MR_1);
    const lie = await declareCorpusDicom(rig, sessionId, MR_1, { size: real.length - delta });
    await uploadAndInspect(rig, lie.key, real);
    await expectRejected(sessionId, lie.fileId, 'SIZE_MISMATCH');
    // The one ranged GET that tells the real size also brings the first bytes; nothing more is read.
    const bytesRead = rig.reader.bytesByKey.get(lie.key) ?? 0;
    expect(bytesRead).toBe(Math.min(real.length, FIRST_HEADER_CHUNK));
    expect((await fileItem(sessionId, lie.fileId)).inspectionBytesRead).toBe(bytesRead);
    // receivedBytes counts what really arrived.
    expect((await sessionItem(sessionId)).receivedBytes).toBe(real.length);
  });

  it.each([
    ['a ZIP', zipBytes()],
    ['an ELF executable', elfBytes()],
    ['a DICOM file', corpusBytes(MR_1)],
  ])('declared a PDF attachment, uploaded %s → ATTACHMENT_TYPE_MISMATCH', async (_label, bytes) => {
    const { sessionId } = await seedSession(rig);
    const dicom = await declareCorpusDicom(rig, sessionId, MR_2);
    const lie = await declareFile(rig, sessionId, { kind: 'attachment', size: bytes.length, studyInstanceUid: dicom.studyInstanceUid, attachmentType: 'pdf' });
    await uploadAndInspect(rig, lie.key, bytes);
    await expectRejected(sessionId, lie.fileId, 'ATTACHMENT_TYPE_MISMATCH');
  });

  it('declared an image, uploaded a DICOMDIR → DICOMDIR_NOT_ALLOWED', async () => {
    const { sessionId } = await seedSession(rig);
    const dicomdir = 'test_files/dicomdirtests/DICOMDIR';
    const lie = await declareCorpusDicom(rig, sessionId, MR_1, { size: oracleOf(dicomdir).size });
    await uploadAndInspect(rig, lie.key, corpusBytes(dicomdir));
    await expectRejected(sessionId, lie.fileId, 'DICOMDIR_NOT_ALLOWED');
  });

  it('a PUT to a key that was never issued is deleted and counted; in an open session it rejects the session', async () => {
    const { sessionId } = await seedSession(rig);
    const honest = await declareCorpusDicom(rig, sessionId, MR_1);
    await uploadAndInspect(rig, honest.key, corpusBytes(MR_1));
    const before = rig.observability.total('UnknownObjects');
    const strays = [
      `sessions/${sessionId}/files/evil name+ü (1).exe`, // needs URL-decoding to be found and deleted
      `sessions/${sessionId}/other`,
      'uploads/elsewhere.bin',
    ];
    const objects = await Promise.all(strays.map((key) => putObject(rig, key, elfBytes())));
    const response = await rig.inspector(sqsEvent(objects.map((o) => sqsMessage(rig.bucket.bucketName, o))));
    expect(response.batchItemFailures).toEqual([]);
    for (const key of strays) expect(await rig.bucket.objectSize(key)).toBeUndefined();
    expect(rig.observability.total('UnknownObjects') - before).toBe(strays.length);
    // Keys that are not ours are removed without judging the session…
    expect((await sessionItem(sessionId)).status).toBe('OPEN');
    expect(await rig.bucket.objectSize(honest.key)).toBe(honest.size);

    // …but a well-formed file key nobody issued is a client writing where it was not allowed to.
    const neverIssued = objectKeyFor(sessionId, 'never-issued');
    const forged = await putObject(rig, neverIssued, corpusBytes(MR_1));
    expect((await rig.inspector(sqsEvent([sqsMessage(rig.bucket.bucketName, forged)]))).batchItemFailures).toEqual([]);
    const session = await sessionItem(sessionId);
    expect(session.status).toBe('REJECTED');
    expect(session.rejection).toContainEqual({ code: 'UNDECLARED_OBJECT', message: en.UNDECLARED_OBJECT });
    expect(rig.observability.total('UnknownObjects') - before).toBe(strays.length + 1);
    expect(await rig.bucket.listKeys(`sessions/${sessionId}/`)).toEqual([]);
  });

  it('a DICOM file cut inside its Pixel Data → DICOM_TRUNCATED', async () => {
    const { sessionId } = await seedSession(rig);
    const truncated = 'test_files/MR_truncated.dcm';
    const file = await declareCorpusDicom(rig, sessionId, truncated);
    await uploadAndInspect(rig, file.key, corpusBytes(truncated));
    await expectRejected(sessionId, file.fileId, 'DICOM_TRUNCATED');
  });

  it('a file uploaded again with other bytes after it was verified → OBJECT_REPLACED', async () => {
    const { sessionId } = await seedSession(rig);
    const file = await declareCorpusDicom(rig, sessionId, MR_1);
    await uploadAndInspect(rig, file.key, corpusBytes(MR_1));
    expect((await fileItem(sessionId, file.fileId)).status).toBe('VERIFIED');
    const tampered = corpusBytes(MR_1);
    tampered[tampered.length - 1] = tampered[tampered.length - 1]! ^ 0xff; // same size, same header, other pixels
    await uploadAndInspect(rig, file.key, tampered);
    const session = await sessionItem(sessionId);
    expect(session.status).toBe('REJECTED');
    expect(session.rejection).toContainEqual({ code: 'OBJECT_REPLACED', message: en.OBJECT_REPLACED, fileId: file.fileId });
    expect(await rig.bucket.listKeys(`sessions/${sessionId}/`)).toEqual([]);
  });

  it('two lies in one batch: reasons recorded once each, one event, and a late PUT is deleted', async () => {
    const { sessionId } = await seedSession(rig);
    const first = await declareCorpusDicom(rig, sessionId, MR_1, { size: 6 });
    const second = await declareFile(rig, sessionId, { kind: 'attachment', size: 512, studyInstanceUid: first.studyInstanceUid, attachmentType: 'pdf' });
    const late = await declareCorpusDicom(rig, sessionId, MR_2);
    const objects = [await putObject(rig, first.key, randomBytes(5)), await putObject(rig, second.key, elfBytes())];
    await rig.inspector(sqsEvent(objects.map((o) => sqsMessage(rig.bucket.bucketName, o))));
    const session = await sessionItem(sessionId);
    expect(session.status).toBe('REJECTED');
    // Inspected at once, each lie adds its own reason; one the clean-up beat is simply never inspected.
    const expected = [`${first.fileId}:SIZE_MISMATCH`, `${second.fileId}:ATTACHMENT_TYPE_MISMATCH`];
    const reasons = session.rejection!.map((r) => `${r.fileId}:${r.code}`);
    expect(reasons.length).toBeGreaterThanOrEqual(1);
    for (const reason of reasons) expect(expected).toContain(reason);
    expect(new Set(reasons).size).toBe(reasons.length);
    await uploadAndInspect(rig, late.key, corpusBytes(MR_2));
    expect(await rig.bucket.objectSize(late.key)).toBeUndefined();
    expect((await fileItem(sessionId, late.fileId)).status).toBe('RESERVED');
    expect(rig.publisher.ofType('UploadSessionRejected').filter((e) => e.sessionId === sessionId)).toHaveLength(1);
  });
});

describe('idempotency', () => {
  it('the same event 3 times, at once and one after another, records the file and its bytes once', async () => {
    const { sessionId } = await seedSession(rig);
    const file = await declareCorpusDicom(rig, sessionId, MR_1);
    const object = await putObject(rig, file.key, corpusBytes(MR_1));
    const before = rig.observability.total('FilesInspected');
    const message = sqsMessage(rig.bucket.bucketName, object);
    const concurrent = await rig.inspector(sqsEvent([message, { ...message, messageId: 'dup-1' }, { ...message, messageId: 'dup-2' }]));
    expect(concurrent.batchItemFailures).toEqual([]);
    for (let i = 0; i < 3; i++) expect((await rig.inspector(sqsEvent([message]))).batchItemFailures).toEqual([]);
    expect(rig.observability.total('FilesInspected') - before).toBe(1);
    const session = await sessionItem(sessionId);
    expect(session.receivedBytes).toBe(file.size);
    expect(session.status).toBe('OPEN');
    const stored = await fileItem(sessionId, file.fileId);
    expect(stored.status).toBe('VERIFIED');
  });

  it('a batch redelivered after a partial failure counts each file and its bytes once', async () => {
    const { sessionId } = await seedSession(rig);
    const files = await Promise.all([MR_1, MR_2, CT_1].map((f, i) => declareCorpusDicom(rig, sessionId, f, i === 2 ? { studyInstanceUid: String(oracleOf(CT_1).attributes.StudyInstanceUID) } : {})));
    const objects = await Promise.all(files.map((f, i) => putObject(rig, f.key, corpusBytes([MR_1, MR_2, CT_1][i]!))));
    const messages = objects.map((o) => sqsMessage(rig.bucket.bucketName, o));
    rig.reader.failOnce.add(files[1]!.key);
    const first = await rig.inspector(sqsEvent(messages));
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: messages[1]!.messageId }]);
    expect((await fileItem(sessionId, files[1]!.fileId)).status).toBe('RESERVED');

    // SQS redelivers the failed message; a consumer that lost its ack redelivers the whole batch.
    const redelivered = await rig.inspector(sqsEvent(messages));
    expect(redelivered.batchItemFailures).toEqual([]);
    const session = await sessionItem(sessionId);
    expect(session.receivedBytes).toBe(files.reduce((n, f) => n + f.size, 0));
    for (const f of files) expect((await fileItem(sessionId, f.fileId)).status).toBe('VERIFIED');
  });

  it('an event that arrives after the file was removed deletes the object (counted as unknown)', async () => {
    const { sessionId, token } = await seedSession(rig);
    const file = await declareCorpusDicom(rig, sessionId, MR_1);
    // DELETE /sessions/{id}/files/{fileId} while the PUT is still in flight.
    expect((await rig.api!.removeFile(sessionId, token, file.fileId)).status).toBe(204);
    const before = rig.observability.total('UnknownObjects');
    await uploadAndInspect(rig, file.key, corpusBytes(MR_1));
    expect(rig.observability.total('UnknownObjects') - before).toBe(1);
    expect(await rig.bucket.objectSize(file.key)).toBeUndefined();
    expect((await sessionItem(sessionId)).receivedBytes).toBe(0);
  });
});

describe('the first ranged GET tells size and ETag (no HeadObject)', () => {
  it('S3ObjectReader.readStart on s3rver: a larger, a shorter, an empty and a missing object', async () => {
    const reader = new S3ObjectReader({ s3: rig.bucket.s3, bucketName: rig.bucket.bucketName });
    const big = new Uint8Array(randomBytes(200_000));
    const small = new Uint8Array(randomBytes(100));
    const stored = {
      big: await putObject(rig, 'reader/big', big),
      small: await putObject(rig, 'reader/small', small),
      empty: await putObject(rig, 'reader/empty', new Uint8Array(0)),
    };
    const first = await reader.readStart('reader/big', FIRST_HEADER_CHUNK);
    expect(first).toMatchObject({ size: big.length, etag: stored.big.etag });
    expect(Buffer.from(first!.bytes).equals(Buffer.from(big.subarray(0, FIRST_HEADER_CHUNK)))).toBe(true);
    const short = await reader.readStart('reader/small', FIRST_HEADER_CHUNK);
    expect(short).toMatchObject({ size: 100, etag: stored.small.etag });
    expect(Buffer.from(short!.bytes).equals(Buffer.from(small))).toBe(true);
    // s3rver answers "bytes 0-0/0" with no body, real S3 416 InvalidRange: both end as size 0.
    expect(await reader.readStart('reader/empty', FIRST_HEADER_CHUNK)).toEqual({ size: 0, etag: stored.empty.etag, bytes: new Uint8Array(0) });
    expect(await reader.readStart('reader/missing', FIRST_HEADER_CHUNK)).toBeNull();
  });

  it('an event for an object that no longer exists leaves the file waiting, nothing read', async () => {
    const { sessionId } = await seedSession(rig);
    const file = await declareCorpusDicom(rig, sessionId, MR_1);
    const size = corpusBytes(MR_1).length;
    const response = await rig.inspector(sqsEvent([sqsMessage(rig.bucket.bucketName, { key: file.key, size, etag: 'x' })]));
    expect(response.batchItemFailures).toEqual([]);
    const stored = await fileItem(sessionId, file.fileId);
    expect(stored.status).not.toBe('VERIFIED');
    expect(stored.status).not.toBe('REJECTED');
    expect(rig.reader.bytesByKey.get(file.key) ?? 0).toBe(0);
    expect((await sessionItem(sessionId)).receivedBytes).toBe(0);
  });
});

describe('garbage never crashes the inspector', () => {
  const mr = () => corpusBytes(MR_1);
  const fuzzed = () => {
    const bytes = mr();
    // Overwrite the start of the dataset after the meta header's group length with random bytes (fixed seed).
    let seed = 0x2545f491;
    for (let i = 140; i < 400; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      bytes[i] = seed >>> 24;
    }
    return bytes;
  };
  it.each([
    ['zero-length', () => new Uint8Array(0)],
    ['truncated inside the header', () => mr().subarray(0, 700)],
    ['truncated preamble', () => mr().subarray(0, 100)],
    ['random bytes', () => new Uint8Array(randomBytes(70_000))],
    ['a fuzzed header', fuzzed],
    ['DICM magic and nothing after it', () => Uint8Array.from([...new Array(128).fill(0), 0x44, 0x49, 0x43, 0x4d])],
  ])('%s → rejected with a reason', async (_label, make) => {
    const bytes = make();
    const { sessionId } = await seedSession(rig);
    const file = await declareCorpusDicom(rig, sessionId, MR_1, { size: bytes.length });
    const { response } = await uploadAndInspect(rig, file.key, bytes);
    expect(response.batchItemFailures).toEqual([]);
    const stored = await fileItem(sessionId, file.fileId);
    expect(stored.status).toBe('REJECTED');
    expect(stored.reason?.message).toBe(en[stored.reason!.code]);
    expect(['NOT_DICOM', 'SOP_MISMATCH', 'STUDY_MISMATCH']).toContain(stored.reason?.code);
    expect((await sessionItem(sessionId)).status).toBe('REJECTED');
    expect(await rig.bucket.listKeys(`sessions/${sessionId}/`)).toEqual([]);
  });

  it('a message body that is not an S3 notification fails only its own message', async () => {
    const { sessionId } = await seedSession(rig);
    const file = await declareCorpusDicom(rig, sessionId, MR_1);
    const good = sqsMessage(rig.bucket.bucketName, await putObject(rig, file.key, corpusBytes(MR_1)));
    const bad = { ...good, messageId: 'not-json', body: '{"Records": [{"eventName": 42' };
    const response = await rig.inspector(sqsEvent([bad, good]));
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'not-json' }]);
    expect((await fileItem(sessionId, file.fileId)).status).toBe('VERIFIED');
  });
});
