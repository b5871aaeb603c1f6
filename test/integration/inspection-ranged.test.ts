/**
 * The inspector reads only header bytes, through ranged GETs on s3rver, counted by a wrapper
 * around the ObjectReader: a 200 MB DICOM costs at most 128 KiB, and every corpus DICOM file at
 * most its oracle headerBytesNeeded rounded up to the next 64 KiB.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReadStream, mkdtempSync, openSync, rmSync, statSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { keys, type FileItem } from '../../lambdas/adapters/table';
import { S3ObjectReader } from '../../lambdas/adapters/s3-object-reader';
import { judge } from '../../lambdas/core/inspect-object';
import { FIRST_HEADER_CHUNK } from '../../lambdas/core/limits';
import type { FileRecord } from '../../lambdas/core/model';
import {
  corpusBytes,
  CountingReader,
  createRig,
  declareFile,
  oracle,
  oracleOf,
  putObject,
  seedSession,
  sqsEvent,
  sqsMessage,
  type Rig,
} from './inspection-support';

let rig: Rig;
let dir: string;
beforeAll(async () => {
  rig = await createRig('ranged');
  dir = mkdtempSync(join(tmpdir(), 'ranged-'));
});
afterAll(async () => {
  await rig?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const roundUp = (n: number, to: number) => Math.ceil(n / to) * to;

describe('a 200 MB DICOM file', () => {
  it('is verified after reading at most 128 KiB', async () => {
    const source = 'test_files/MR_small.dcm';
    const truth = oracleOf(source);
    expect(truth.attributes.TransferSyntaxUID).toBe('1.2.840.10008.1.2.1'); // explicit VR little endian
    const header = corpusBytes(source).subarray(0, truth.pixelDataOffset!);
    const size = 200_000_000;
    const pixelLength = size - header.length - 12;
    expect(pixelLength % 2).toBe(0);
    // (7FE0,0010) Pixel Data, VR OW, 2 reserved bytes, 32-bit length: explicit VR little endian.
    const pixelElement = Buffer.alloc(12);
    pixelElement.writeUInt16LE(0x7fe0, 0);
    pixelElement.writeUInt16LE(0x0010, 2);
    pixelElement.write('OW', 4, 'latin1');
    pixelElement.writeUInt32LE(pixelLength, 8);

    const path = join(dir, 'large.dcm');
    const fd = openSync(path, 'w');
    writeSync(fd, header);
    writeSync(fd, pixelElement);
    const chunk = Buffer.alloc(1 << 20, 0x5a);
    for (let left = pixelLength; left > 0; left -= chunk.length) writeSync(fd, chunk, 0, Math.min(chunk.length, left));
    closeSync(fd);
    expect(statSync(path).size).toBe(size);

    const { sessionId } = await seedSession(rig);
    const file = await declareFile(rig, sessionId, {
      kind: 'dicom',
      size,
      studyInstanceUid: String(truth.attributes.StudyInstanceUID),
      sopInstanceUid: String(truth.attributes.SOPInstanceUID),
    });
    // A streaming PUT: the 200 MB never sit in memory.
    const out = await rig.bucket.s3.send(
      new PutObjectCommand({ Bucket: rig.bucket.bucketName, Key: file.key, Body: createReadStream(path), ContentLength: size }),
    );
    rmSync(path);
    const response = await rig.inspector(sqsEvent([sqsMessage(rig.bucket.bucketName, { key: file.key, size, etag: (out.ETag ?? '').replace(/"/g, '') })]));
    expect(response.batchItemFailures).toEqual([]);

    const read = rig.reader.bytesByKey.get(file.key) ?? 0;
    expect(read).toBeGreaterThan(0);
    expect(read).toBeLessThanOrEqual(128 * 1024);
    const stored = (await rig.table.doc.send(new GetCommand({ TableName: rig.table.tableName, Key: keys.file(sessionId, file.fileId) }))).Item as FileItem;
    expect(stored.status).toBe('VERIFIED');
    expect(stored.inspectionBytesRead).toBe(read);
    expect(stored.header?.sopInstanceUid).toBe(truth.attributes.SOPInstanceUID);
  });
});

describe('every corpus DICOM file', () => {
  it('is judged after reading at most its headerBytesNeeded rounded up to 64 KiB', async () => {
    const entries = oracle().filter((e) => e.kind === 'dicom-part10' || e.kind === 'dicom-no-preamble');
    expect(entries.length).toBeGreaterThan(150);
    const reader = new CountingReader(new S3ObjectReader({ s3: rig.bucket.s3, bucketName: rig.bucket.bucketName }));
    const queue = entries.map((entry, index) => ({ entry, key: `corpus/${index}` }));
    const failures: string[] = [];
    let verified = 0;
    const worker = async () => {
      for (let job = queue.shift(); job; job = queue.shift()) {
        const { entry, key } = job;
        await putObject(rig, key, corpusBytes(entry.file));
        const attrs = entry.attributes;
        const file: FileRecord = {
          sessionId: 'corpus',
          fileId: key,
          clientId: key,
          name: entry.file,
          kind: 'dicom',
          size: entry.size,
          studyInstanceUid: String(attrs.StudyInstanceUID ?? ''),
          ...(attrs.SOPInstanceUID ? { sopInstanceUid: String(attrs.SOPInstanceUID) } : {}),
          objectKey: key,
          status: 'RESERVED',
          createdAt: new Date().toISOString(),
        };
        const verdict = await judge(file, entry.size, reader, key, { at: new Date().toISOString(), allowedAttachmentTypes: ['pdf'] });
        const limit = roundUp(entry.headerBytesNeeded ?? entry.size, FIRST_HEADER_CHUNK);
        const read = reader.bytesByKey.get(key) ?? 0;
        if (read > limit) failures.push(`${entry.file}: read ${read} > ${limit}`);
        if (verdict.inspectionBytesRead !== read) failures.push(`${entry.file}: recorded ${verdict.inspectionBytesRead}, read ${read}`);
        const isDicomDir = attrs.MediaStorageSOPClassUID === '1.2.840.10008.1.3.10';
        // MR_truncated.dcm: a whole header, but the file ends inside its Pixel Data.
        const truncated = entry.file === 'test_files/MR_truncated.dcm';
        // Part 10 only: a dataset without preamble and file meta is refused with its own reason.
        const expectation = entry.kind === 'dicom-no-preamble' ? 'NOT_PART10' : isDicomDir ? 'DICOMDIR_NOT_ALLOWED' : truncated ? 'DICOM_TRUNCATED' : attrs.StudyInstanceUID && attrs.SOPInstanceUID ? 'VERIFIED' : 'NOT_DICOM';
        const got = verdict.status === 'VERIFIED' ? 'VERIFIED' : verdict.reason?.code;
        if (got !== expectation) failures.push(`${entry.file}: ${got}, expected ${expectation}`);
        if (got === 'VERIFIED') {
          verified++;
          if (verdict.header?.studyInstanceUid !== attrs.StudyInstanceUID) failures.push(`${entry.file}: study UID differs from the oracle`);
        }
      }
    };
    await Promise.all(Array.from({ length: 6 }, worker));
    expect(failures).toEqual([]);
    expect(verified).toBeGreaterThan(140);
  });
});
