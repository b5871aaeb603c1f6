/**
 * The DICOMweb delivery target against a real Orthanc (DICOMweb plugin) reading real objects from the
 * S3 emulator. Every check reads Orthanc's own REST API.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import dcmjs from 'dcmjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DicomwebDeliveryTarget } from '../../lambdas/adapters/dicomweb-delivery-target';
import { S3ObjectReader } from '../../lambdas/adapters/s3-object-reader';
import { S3ObjectStreamer } from '../../lambdas/adapters/s3-object-streamer';
import { ENCAPSULATED_PDF_SOP_CLASS, SECONDARY_CAPTURE_SOP_CLASS } from '../../lambdas/core/delivery/attachment-dicom';
import { makeStudyInstances } from '../../lambdas/core/delivery/study-instances';
import type { IdentifierRules } from '../../lambdas/core/delivery-config';
import { readDicomHeader } from '../../lambdas/core/dicom';
import type { DeliveryObject, StudyDeliveryRequest } from '../../lambdas/core/ports/delivery-target';
import { freePort } from '../../local/emulators';
import { startOrthanc } from '../../local/orthanc';
import { deliveryObject, mrStudyFiles, MR_STUDY_UID, realJpeg, realPdf, realPng } from '../delivery-fixtures';
import { createTestBucket, type TestBucket } from './helpers/emulators';
import { deleteStudy, instancesOfStudy, orthanc, sha256, simplifiedTags, storedFile } from './helpers/orthanc';

const RULES: IdentifierRules = { patientId: 'reference', accessionNumber: 'prefix', prefix: 'EXT-' };
const SESSION = 'session-delivery-1';
let bucket: TestBucket;
let objects: DeliveryObject[];
const originals = new Map<string, Uint8Array>();
const pdf = realPdf('discharge letter');
const jpeg = realJpeg();
const png = realPng();

function target(url = orthanc().dicomwebUrl, extra: Partial<ConstructorParameters<typeof DicomwebDeliveryTarget>[0]> = {}) {
  const studyInstances = makeStudyInstances({
    reader: new S3ObjectReader({ s3: bucket.s3, bucketName: bucket.bucketName }),
    streamer: new S3ObjectStreamer({ s3: bucket.s3, bucketName: bucket.bucketName }),
    rules: RULES,
    now: () => new Date('2026-12-01T10:00:00Z'),
  });
  return new DicomwebDeliveryTarget({ url, studyInstances, baseDelayMs: 50, ...extra });
}

const request = (reference?: string): StudyDeliveryRequest => ({ sessionId: SESSION, studyInstanceUid: MR_STUDY_UID, objects, reference });

/** Pixel Data onwards, as bytes: the header reader says where it starts. */
function pixelPart(bytes: Uint8Array): Uint8Array {
  const header = readDicomHeader(bytes, bytes.length);
  if (header.status !== 'complete' || header.pixelDataOffset === undefined) throw new Error('no pixel data');
  return bytes.subarray(header.pixelDataOffset);
}

/** Every element as dcmjs reads it, minus the ones reconciliation may change. */
function otherElements(bytes: Uint8Array): Record<string, unknown> {
  const copy = bytes.slice();
  const dict = { ...dcmjs.data.DicomMessage.readFile(copy.buffer).dict } as Record<string, { Value?: unknown[] }>;
  for (const tag of ['00100020', '00080050', '00101002', '00100021', '04000561', '7FE00010']) delete dict[tag];
  return JSON.parse(JSON.stringify(dict));
}

beforeAll(async () => {
  bucket = await createTestBucket('delivery');
  const put = async (fileId: string, bytes: Uint8Array, extra: Partial<DeliveryObject>) => {
    await bucket.s3.send(new PutObjectCommand({ Bucket: bucket.bucketName, Key: `sessions/${SESSION}/files/${fileId}`, Body: bytes }));
    return deliveryObject(SESSION, fileId, bytes, extra);
  };
  objects = [];
  for (const [i, f] of mrStudyFiles().entries()) {
    originals.set(f.sopInstanceUid, f.bytes);
    objects.push(await put(`mr${i}`, f.bytes, { sopInstanceUid: f.sopInstanceUid }));
  }
  objects.push(await put('pdf1', pdf, { kind: 'attachment', attachmentType: 'pdf' }));
  objects.push(await put('jpeg1', jpeg, { kind: 'attachment', attachmentType: 'jpeg' }));
  objects.push(await put('png1', png, { kind: 'attachment', attachmentType: 'png' }));
});

afterAll(async () => {
  await bucket?.drop();
});

describe('DICOMweb delivery into Orthanc', () => {
  beforeEach(async () => {
    await deleteStudy(MR_STUDY_UID);
  });

  it('stores every image reconciled and the attachments as DICOM in the same study, once even when delivered again', async () => {
    // Small requests, so the 14 instances take several STOW-RS requests.
    const outcome = await target(undefined, { maxInstancesPerRequest: 4 }).deliverStudy(request('MRN-4711'));
    expect(outcome).toEqual({ state: 'DELIVERED', instances: 14 });

    const stored = await instancesOfStudy(MR_STUDY_UID);
    expect(stored).toHaveLength(14);
    let images = 0;
    for (const { id, sopInstanceUid } of stored) {
      const tags = await simplifiedTags(id);
      expect(tags.PatientID).toBe('MRN-4711');
      expect(tags.AccessionNumber).toBe('EXT-2');
      const others = tags.OtherPatientIDsSequence as Record<string, string>[];
      expect(others.map((o) => o.PatientID)).toContain('98890234');
      const original = originals.get(sopInstanceUid);
      if (!original) continue;
      images++;
      // The replaced values as uploaded, in Original Attributes Sequence: the only place the Accession Number's original is kept.
      const [modification] = tags.OriginalAttributesSequence as Record<string, unknown>[];
      expect(modification).toMatchObject({ ModifyingSystem: 'DICOM Upload Portal', ReasonForTheAttributeModification: 'COERCE', AttributeModificationDateTime: '20261201100000+0000' });
      expect((modification!.ModifiedAttributesSequence as Record<string, string>[])[0]).toEqual({ AccessionNumber: '2', PatientID: '98890234' });
      const file = await storedFile(id);
      expect(sha256(pixelPart(file))).toBe(sha256(pixelPart(original)));
      expect(otherElements(file)).toEqual(otherElements(original));
    }
    expect(images).toBe(11);

    const bySopClass = async (uid: string) => {
      const found = [];
      for (const { id } of stored) if ((await simplifiedTags(id)).SOPClassUID === uid) found.push(id);
      return found;
    };
    const [pdfId] = await bySopClass(ENCAPSULATED_PDF_SOP_CLASS);
    const document = new Uint8Array(await (await fetch(`${orthanc().url}/instances/${pdfId}/content/0042-0011`)).arrayBuffer());
    expect(sha256(document.subarray(0, pdf.length))).toBe(sha256(pdf));
    expect((await simplifiedTags(pdfId!)).StudyInstanceUID).toBe(MR_STUDY_UID);

    const captures = await bySopClass(SECONDARY_CAPTURE_SOP_CLASS);
    expect(captures).toHaveLength(2);
    const frames = await Promise.all(
      captures.map(async (id) => new Uint8Array(await (await fetch(`${orthanc().url}/instances/${id}/frames/0/raw`)).arrayBuffer())),
    );
    // The JPEG travels encapsulated byte for byte; the PNG as its 7×5 RGB pixels.
    const rgb = Uint8Array.from({ length: 35 * 3 }, (_, i) => [(i / 3 | 0) * 7, 255 - (i / 3 | 0) * 7, 128][i % 3]!);
    expect(frames.map((f) => sha256(f.subarray(0, f.length === rgb.length ? rgb.length : jpeg.length))).sort()).toEqual([sha256(rgb), sha256(jpeg)].sort());

    expect(await target().deliverStudy(request('MRN-4711'))).toEqual({ state: 'DELIVERED', instances: 14 });
    expect(await instancesOfStudy(MR_STUDY_UID)).toHaveLength(14);
  });

  it('falls back to the prefix for a code without a reference', async () => {
    expect((await target().deliverStudy(request())).state).toBe('DELIVERED');
    const [first] = await instancesOfStudy(MR_STUDY_UID);
    expect((await simplifiedTags(first!.id)).PatientID).toBe('EXT-98890234');
  });
});

describe('DICOMweb delivery when the PACS is unavailable or refuses', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'orthanc-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('retries with backoff while Orthanc is down and delivers once it is up', async () => {
    const port = await freePort();
    const dir = tempDir();
    const late = new Promise<Awaited<ReturnType<typeof startOrthanc>>>((resolve, reject) => {
      setTimeout(() => startOrthanc({ dataDir: dir, port }).then(resolve, reject), 1500);
    });
    const outcome = await target(`http://127.0.0.1:${port}/dicom-web`, { attempts: 8, baseDelayMs: 400 }).deliverStudy(request('MRN-4711'));
    const pacs = await late;
    try {
      expect(outcome).toEqual({ state: 'DELIVERED', instances: 14 });
      expect(await instancesOfStudy(MR_STUDY_UID, pacs.url)).toHaveLength(14);
    } finally {
      await pacs.stop();
    }
  });

  it('fails retryably when Orthanc stays down, and a later delivery stores every instance exactly once', async () => {
    const port = await freePort();
    const dir = tempDir();
    const down = await target(`http://127.0.0.1:${port}/dicom-web`, { attempts: 2, baseDelayMs: 10 }).deliverStudy(request('MRN-4711'));
    expect(down).toMatchObject({ state: 'FAILED', retryable: true });
    expect((down as { reason: string }).reason).toMatch(/ECONNREFUSED/);

    let pacs = await startOrthanc({ dataDir: dir, port });
    try {
      // Requests of four instances; the PACS stops once the first request was stored, so the study is cut in the middle.
      const inner = makeStudyInstances({ reader: new S3ObjectReader({ s3: bucket.s3, bucketName: bucket.bucketName }), streamer: new S3ObjectStreamer({ s3: bucket.s3, bucketName: bucket.bucketName }), rules: RULES, now: () => new Date() });
      const running = pacs;
      const cutting = async function* (req: StudyDeliveryRequest) {
        let prepared = 0;
        for await (const instance of inner(req)) {
          // The sixth is asked for only after the first request (instances 1–4) was answered.
          if (++prepared === 6) await running.stop();
          yield instance;
        }
      };
      const interrupted = await new DicomwebDeliveryTarget({ url: pacs.dicomwebUrl, studyInstances: cutting, maxInstancesPerRequest: 4, attempts: 1 }).deliverStudy(request('MRN-4711'));
      expect(interrupted).toMatchObject({ state: 'FAILED', retryable: true });

      pacs = await startOrthanc({ dataDir: dir, port });
      expect(await instancesOfStudy(MR_STUDY_UID, pacs.url)).toHaveLength(4);
      expect(await target(pacs.dicomwebUrl).deliverStudy(request('MRN-4711'))).toEqual({ state: 'DELIVERED', instances: 14 });
      const stored = await instancesOfStudy(MR_STUDY_UID, pacs.url);
      expect(stored).toHaveLength(14);
      expect(new Set(stored.map((s) => s.sopInstanceUid)).size).toBe(14);
    } finally {
      await pacs.stop();
    }
  });

  it('fails with the reason when Orthanc refuses the credentials, and delivers with the right ones', async () => {
    const pacs = await startOrthanc({ dataDir: tempDir(), users: { portal: 'right-secret' } });
    try {
      const refused = await target(pacs.dicomwebUrl, { credentials: { type: 'basic', username: 'portal', password: 'wrong' } }).deliverStudy(request('MRN-4711'));
      expect(refused).toEqual({ state: 'FAILED', reason: 'the PACS refused 14 instance(s) (HTTP 401)', retryable: false });
      const delivered = await target(pacs.dicomwebUrl, { credentials: { type: 'basic', username: 'portal', password: 'right-secret' } }).deliverStudy(request('MRN-4711'));
      expect(delivered).toEqual({ state: 'DELIVERED', instances: 14 });
    } finally {
      await pacs.stop();
    }
  });
});
