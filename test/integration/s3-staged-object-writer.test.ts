/**
 * Staging an object for a HealthImaging import above S3's single-PUT limit: a multipart upload on
 * the local S3 emulator through its gate (which keeps multipart uploads as S3 does: ListParts,
 * AbortMultipartUpload, the 5 MiB minimum part). The threshold and part size are parameters, so a
 * ~12 MiB object in 5 MiB parts stands in for a 6 GiB file in 64 MiB parts.
 */
import { MedicalImagingClient } from '@aws-sdk/client-medical-imaging';
import { GetObjectCommand, ListPartsCommand, S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HealthImagingDeliveryTarget } from '../../lambdas/adapters/healthimaging-delivery-target';
import { S3StagedObjectWriter } from '../../lambdas/adapters/s3-staged-object-writer';
import { studyRef } from '../../lambdas/core/delivery/study-ref';
import { stagingLocation } from '../../lambdas/core/delivery-staging';
import { recordingHandler } from './helpers/aws-capture';
import { createTestBucket, LOCAL_CREDENTIALS, testS3Client, type TestBucket } from './helpers/emulators';

const MiB = 1024 ** 2;
const LIMITS = { multipartThresholdBytes: 8 * MiB, partSizeBytes: 5 * MiB };
/** Not a multiple of the part size, so the last part is short. */
const SIZE = 12 * MiB + 4321;

let bucket: TestBucket;
/** The real S3 client, with the name of every command it sends recorded. */
let s3: S3Client;
let sent: string[] = [];

/** Deterministic bytes, streamed in uneven chunks that straddle the part boundaries. */
function content(size: number): { bytes: Buffer; stream: () => Readable } {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i += 32) createHash('sha256').update(String(i)).digest().copy(bytes, i);
  const stream = () =>
    Readable.from(
      (function* () {
        for (let at = 0; at < size; at += 1_000_003) yield bytes.subarray(at, Math.min(size, at + 1_000_003));
      })(),
    );
  return { bytes, stream };
}

async function readBack(key: string): Promise<Buffer> {
  const object = await bucket.s3.send(new GetObjectCommand({ Bucket: bucket.bucketName, Key: key }));
  return Buffer.from(await object.Body!.transformToByteArray());
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

beforeAll(async () => {
  bucket = await createTestBucket('staged-writer');
  s3 = testS3Client();
  s3.middlewareStack.add((next, context) => (args) => (sent.push(String(context.commandName)), next(args)), { step: 'initialize', name: 'recordCommandNames' });
});
afterAll(async () => {
  s3?.destroy();
  await bucket?.drop();
});

describe('S3StagedObjectWriter', () => {
  it('stages an object over the threshold as a multipart upload of fixed parts, read back byte-identical', async () => {
    sent = [];
    const { bytes, stream } = content(SIZE);
    const key = 'deliveries/s/0123456789abcdef/input/big.dcm';
    await new S3StagedObjectWriter(s3, LIMITS).write({ bucket: bucket.bucketName, key, body: stream(), contentLength: SIZE, contentType: 'application/dicom' });
    expect(sent).toEqual(['CreateMultipartUploadCommand', 'UploadPartCommand', 'UploadPartCommand', 'UploadPartCommand', 'CompleteMultipartUploadCommand']);
    const back = await readBack(key);
    expect(back.length).toBe(SIZE);
    expect(sha256(back)).toBe(sha256(bytes));
  });

  it('stages an object up to the threshold with one PutObject', async () => {
    sent = [];
    const { bytes, stream } = content(LIMITS.multipartThresholdBytes);
    const key = 'deliveries/s/0123456789abcdef/input/small.dcm';
    await new S3StagedObjectWriter(s3, LIMITS).write({ bucket: bucket.bucketName, key, body: stream(), contentLength: bytes.length, contentType: 'application/dicom' });
    expect(sent).toEqual(['PutObjectCommand']);
    expect(sha256(await readBack(key))).toBe(sha256(bytes));
  });

  it('aborts the upload when the content fails midway or ends short, leaving no object and no parts', async () => {
    const { bytes } = content(SIZE);
    const broken = () =>
      Readable.from(
        (async function* () {
          yield bytes.subarray(0, 6 * MiB);
          throw Object.assign(new Error('the source object could not be read'), { name: 'SourceReadError' });
        })(),
      );
    const short = () => Readable.from([bytes.subarray(0, 11 * MiB)]);
    for (const [body, error] of [[broken, /could not be read/], [short, /ended after 11534336 of/]] as const) {
      sent = [];
      const key = `deliveries/s/0123456789abcdef/input/${String(body.name)}.dcm`;
      await expect(new S3StagedObjectWriter(s3, LIMITS).write({ bucket: bucket.bucketName, key, body: body(), contentLength: SIZE, contentType: 'application/dicom' })).rejects.toThrow(error);
      expect(sent[0]).toBe('CreateMultipartUploadCommand');
      expect(sent.at(-1)).toBe('AbortMultipartUploadCommand');
      expect(sent).not.toContain('CompleteMultipartUploadCommand');
      expect(await bucket.objectSize(key)).toBeUndefined();
    }
  });

  it('aborts when a part is refused, and the upload no longer exists', async () => {
    sent = [];
    const { stream } = content(SIZE);
    const refusing = testS3Client();
    let uploadId: string | undefined;
    refusing.middlewareStack.add(
      (next, context) => async (args) => {
        sent.push(String(context.commandName));
        const input = args.input as { UploadId?: string; PartNumber?: number };
        uploadId ??= input.UploadId;
        // The second part is refused, as S3 refuses a part whose upload was aborted elsewhere.
        if (input.PartNumber === 2) throw Object.assign(new Error('part refused'), { name: 'NoSuchUpload' });
        return next(args);
      },
      { step: 'initialize', name: 'refuseSecondPart' },
    );
    const key = 'deliveries/s/0123456789abcdef/input/refused.dcm';
    await expect(new S3StagedObjectWriter(refusing, LIMITS).write({ bucket: bucket.bucketName, key, body: stream(), contentLength: SIZE, contentType: 'application/dicom' })).rejects.toThrow('part refused');
    refusing.destroy();
    expect(sent.at(-1)).toBe('AbortMultipartUploadCommand');
    expect(uploadId).toBeDefined();
    await expect(bucket.s3.send(new ListPartsCommand({ Bucket: bucket.bucketName, Key: key, UploadId: uploadId }))).rejects.toMatchObject({ name: 'NoSuchUpload' });
    expect(await bucket.objectSize(key)).toBeUndefined();
  });
});

describe('HealthImaging staging over the threshold', () => {
  it('stages the content seam\'s bytes in parts and starts the import job on them', async () => {
    const { handler, requests } = recordingHandler(() => ({ status: 200, body: { datastoreId: '0123456789abcdef0123456789abcdef', jobId: 'a'.repeat(32), jobStatus: 'SUBMITTED', submittedAt: 1 } }));
    const imaging = new MedicalImagingClient({ region: 'eu-west-2', credentials: LOCAL_CREDENTIALS, maxAttempts: 1, requestHandler: handler });
    const { bytes, stream } = content(SIZE);
    sent = [];
    const target = new HealthImagingDeliveryTarget({
      s3, imaging, bucketName: bucket.bucketName, datastoreId: '0123456789abcdef0123456789abcdef', dataAccessRoleArn: 'arn:aws:iam::111122223333:role/UploadPortal-test-ImportRole',
      staging: LIMITS,
      content: async () => ({ body: stream(), contentLength: SIZE }),
    });
    const request = { sessionId: 'sessionStagedInParts00', studyInstanceUid: '1.2.826.0.1.3680043.8.498.4242', objects: [{ key: 'sessions/sessionStagedInParts00/files/big', fileId: 'big', size: SIZE, kind: 'dicom' as const }] };
    expect(await target.deliverStudy(request)).toMatchObject({ state: 'SUBMITTED' });
    expect(sent.filter((name) => name === 'UploadPartCommand')).toHaveLength(3);
    const key = `${stagingLocation(request.sessionId, await studyRef(request.studyInstanceUid)).inputPrefix}big.dcm`;
    expect(sha256(await readBack(key))).toBe(sha256(bytes));
    expect(requests).toHaveLength(1);
  });
});
