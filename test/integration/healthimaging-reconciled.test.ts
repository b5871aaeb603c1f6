/**
 * What the AWS delivery Lambda stages for a HealthImaging import: the reconciled DICOM (the same
 * identifier rules as DICOMweb delivery) and attachments wrapped as DICOM in their study, built by
 * the runtime's content seam over the real S3 emulator and real corpus files. HealthImaging itself
 * has no emulator: its client answers from a recording handler.
 */
import { MedicalImagingClient } from '@aws-sdk/client-medical-imaging';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import dicomParser from 'dicom-parser';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HealthImagingDeliveryTarget } from '../../lambdas/adapters/healthimaging-delivery-target';
import { stagingLocation } from '../../lambdas/core/delivery-staging';
import { studyRef } from '../../lambdas/core/delivery/study-ref';
import { reconciledContent } from '../../lambdas/runtime/healthimaging-content';
import { recordingHandler } from './helpers/aws-capture';
import { createTestBucket, LOCAL_CREDENTIALS, type TestBucket } from './helpers/emulators';
import { corpusBytes, oracle, pdfBytes } from './inspection-support';

const DATASTORE = '0123456789abcdef0123456789abcdef';
const ROLE = 'arn:aws:iam::111122223333:role/UploadPortal-lakeside-ImportRole';
const RULES = { patientId: 'reference', accessionNumber: 'prefix', prefix: 'EXT-' } as const;

let bucket: TestBucket;
beforeAll(async () => {
  bucket = await createTestBucket('hi-reconciled');
});
afterAll(async () => {
  await bucket?.drop();
});

async function staged(key: string): Promise<Uint8Array> {
  const object = await bucket.s3.send(new GetObjectCommand({ Bucket: bucket.bucketName, Key: key }));
  return object.Body!.transformToByteArray();
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The target as the AWS delivery Lambda builds it, its HealthImaging client answered by `handler`. */
function reconcilingTarget(handler: ReturnType<typeof recordingHandler>['handler']): HealthImagingDeliveryTarget {
  return new HealthImagingDeliveryTarget({
    s3: bucket.s3,
    imaging: new MedicalImagingClient({ region: 'eu-west-2', credentials: LOCAL_CREDENTIALS, maxAttempts: 1, requestHandler: handler }),
    bucketName: bucket.bucketName,
    datastoreId: DATASTORE,
    dataAccessRoleArn: ROLE,
    content: reconciledContent({ s3: bucket.s3, bucketName: bucket.bucketName }, RULES),
  });
}

describe('HealthImaging staging through the runtime content seam', () => {
  it('stages the image with the reconciled Patient ID and Accession Number, pixel data unchanged, and the PDF as Encapsulated PDF in the study', async () => {
    const entry = oracle().find((e) => e.kind === 'dicom-part10' && e.attributes.SOPInstanceUID && e.attributes.StudyInstanceUID && e.attributes.PatientID && e.attributes.AccessionNumber && String(e.attributes.AccessionNumber).trim().length <= 12)!;
    const original = corpusBytes(entry.file);
    const pdf = pdfBytes('HealthImaging report');
    const sessionId = 'sessionHIRECONCILED00000';
    const objects = [
      { key: `sessions/${sessionId}/files/img`, fileId: 'img', size: original.length, kind: 'dicom' as const, sopInstanceUid: String(entry.attributes.SOPInstanceUID) },
      { key: `sessions/${sessionId}/files/pdf`, fileId: 'pdf', size: pdf.length, kind: 'attachment' as const, attachmentType: 'pdf' as const },
    ];
    await bucket.s3.send(new PutObjectCommand({ Bucket: bucket.bucketName, Key: objects[0]!.key, Body: original }));
    await bucket.s3.send(new PutObjectCommand({ Bucket: bucket.bucketName, Key: objects[1]!.key, Body: pdf }));
    const { handler, requests } = recordingHandler(() => ({ status: 200, body: { datastoreId: DATASTORE, jobId: 'j'.repeat(32), jobStatus: 'SUBMITTED', submittedAt: 1 } }));
    const target = reconcilingTarget(handler);
    const studyInstanceUid = String(entry.attributes.StudyInstanceUID);
    const outcome = await target.deliverStudy({ sessionId, studyInstanceUid, objects, reference: 'MRN-4711' });
    expect(outcome, JSON.stringify(outcome)).toMatchObject({ state: 'SUBMITTED' });
    expect(requests).toHaveLength(1);

    const { inputPrefix } = stagingLocation(sessionId, await studyRef(studyInstanceUid));
    const image = await staged(`${inputPrefix}img.dcm`);
    const imageSet = dicomParser.parseDicom(image);
    expect(imageSet.string('x00100020')).toBe('MRN-4711');
    expect(imageSet.string('x00080050')).toBe(`EXT-${String(entry.attributes.AccessionNumber).trim()}`);
    expect(imageSet.string('x00080018')).toBe(entry.attributes.SOPInstanceUID);
    const originalSet = dicomParser.parseDicom(original);
    const pixels = (set: dicomParser.DataSet, bytes: Uint8Array) => {
      const element = set.elements.x7fe00010;
      return element ? sha256(bytes.subarray(element.dataOffset, element.dataOffset + element.length)) : 'no pixel data';
    };
    expect(pixels(imageSet, image)).toBe(pixels(originalSet, original));

    const wrapped = dicomParser.parseDicom(await staged(`${inputPrefix}pdf.dcm`));
    expect(wrapped.string('x00080016')).toBe('1.2.840.10008.5.1.4.1.1.104.1');
    expect(wrapped.string('x0020000d')).toBe(studyInstanceUid);
    expect(wrapped.string('x00100020')).toBe('MRN-4711');
    const document = wrapped.elements.x00420011!;
    const bytes = wrapped.byteArray.subarray(document.dataOffset, document.dataOffset + pdf.length);
    expect(sha256(bytes)).toBe(sha256(pdf));
  });

  it('fails the study for good, before any job, when an object can never be reconciled', async () => {
    const entry = oracle().find((e) => e.kind === 'dicom-part10' && e.attributes.SOPInstanceUID && e.attributes.StudyInstanceUID && String(e.attributes.AccessionNumber ?? '').trim().length > 12)!;
    const original = corpusBytes(entry.file);
    const sessionId = 'sessionHIUNDELIVERABLE00';
    const object = { key: `sessions/${sessionId}/files/img`, fileId: 'img', size: original.length, kind: 'dicom' as const, sopInstanceUid: String(entry.attributes.SOPInstanceUID) };
    await bucket.s3.send(new PutObjectCommand({ Bucket: bucket.bucketName, Key: object.key, Body: original }));
    const { handler, requests } = recordingHandler(() => ({ status: 500, body: {} }));
    const target = reconcilingTarget(handler);
    const outcome = await target.deliverStudy({ sessionId, studyInstanceUid: String(entry.attributes.StudyInstanceUID), objects: [object], reference: 'MRN-4711' });
    expect(outcome).toMatchObject({ state: 'FAILED', reason: 'the prefixed Accession Number would exceed 16 characters', retryable: false });
    expect(requests).toHaveLength(0);
  });
});
