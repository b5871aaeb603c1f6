/**
 * Inspection cost against file size: the inspector's verdict on synthetic DICOM files of 1 MB,
 * 50 MB and 200 MB in s3rver (ranged reads of the header only), next to the baseline measured in
 * the same run: downloading the same object whole, as a naive inspector would. Prints bytes read,
 * median times and both ratios: inspect(200 MB) / inspect(1 MB) should stay near 1, and the
 * download / inspect ratio grows with the file.
 *
 * Run: npm run bench:inspect
 */
import { closeSync, createReadStream, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { S3ObjectReader } from '../lambdas/adapters/s3-object-reader';
import { judge } from '../lambdas/core/inspect-object';
import type { FileRecord } from '../lambdas/core/model';
import type { ObjectReader } from '../lambdas/core/ports';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startS3rver } from '../local/emulators';
import { syntheticHeader } from './synthetic-dicom';

const SIZES = [1_000_000, 50_000_000, 200_000_000];
const RUNS = 15;
const DOWNLOAD_RUNS = 3;
const BUCKET = 'bench-inspection';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

class CountingReader implements ObjectReader {
  bytes = 0;
  constructor(private readonly inner: ObjectReader) {}
  head(key: string) {
    return this.inner.head(key);
  }
  async readStart(key: string, length: number) {
    const out = await this.inner.readStart(key, length);
    this.bytes += out?.bytes.length ?? 0;
    return out;
  }
  async readRange(key: string, start: number, end: number) {
    const out = await this.inner.readRange(key, start, end);
    this.bytes += out.length;
    return out;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'bench-inspection-'));
const s3rver = await startS3rver({ dataDir: join(dir, 's3') });
const s3 = new S3Client({ endpoint: s3rver.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
try {
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const rows: string[] = [];
  const inspectMs: number[] = [];
  for (const size of SIZES) {
    const uids = { studyInstanceUid: '2.25.4242.1', seriesInstanceUid: '2.25.4242.2', sopInstanceUid: `2.25.4242.3.${size}`, patientId: 'BENCH' };
    const side = 64;
    const { header } = syntheticHeader({ ...uids, rows: side, columns: side });
    // Rewrite Pixel Data's length so the file is exactly `size` bytes (the header's last 4 bytes).
    header.writeUInt32LE(size - header.length, header.length - 4);
    const path = join(dir, `${size}.dcm`);
    const fd = openSync(path, 'w');
    writeSync(fd, header);
    const chunk = Buffer.alloc(1 << 20, 0x11);
    for (let left = size - header.length; left > 0; left -= chunk.length) writeSync(fd, chunk, 0, Math.min(left, chunk.length));
    closeSync(fd);
    const key = `sessions/bench/files/f${size}`;
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: createReadStream(path), ContentLength: size }));
    rmSync(path);

    const file: FileRecord = { sessionId: 'bench', fileId: `f${size}`, clientId: `f${size}`, name: 'bench.dcm', kind: 'dicom', size, studyInstanceUid: uids.studyInstanceUid, sopInstanceUid: uids.sopInstanceUid, objectKey: key, status: 'RESERVED', createdAt: '' };
    const times: number[] = [];
    let bytesRead = 0;
    for (let i = 0; i < RUNS; i++) {
      const reader = new CountingReader(new S3ObjectReader({ s3, bucketName: BUCKET }));
      const started = performance.now();
      const verdict = await judge(file, size, reader, key, { at: '', allowedAttachmentTypes: [] });
      times.push(performance.now() - started);
      if (verdict.status !== 'VERIFIED') throw new Error(`bench file of ${size} bytes was not verified: ${verdict.reason?.code}`);
      bytesRead = reader.bytes;
    }
    const downloads: number[] = [];
    for (let i = 0; i < DOWNLOAD_RUNS; i++) {
      const started = performance.now();
      const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      for await (const _ of out.Body as AsyncIterable<Uint8Array>) {
        // drain
      }
      downloads.push(performance.now() - started);
    }
    const inspect = median(times);
    inspectMs.push(inspect);
    const download = median(downloads);
    rows.push(
      `${String(size / 1e6).padStart(5)} MB  inspect ${inspect.toFixed(1).padStart(6)} ms, read ${String(bytesRead).padStart(6)} B  |  baseline download ${download.toFixed(0).padStart(5)} ms  |  download/inspect ${(download / inspect).toFixed(0).padStart(4)}×`,
    );
  }
  console.log(`Inspection of one DICOM file in s3rver (median of ${RUNS}; baseline: whole download, median of ${DOWNLOAD_RUNS})`);
  for (const row of rows) console.log(row);
  console.log(`inspect(${SIZES.at(-1)! / 1e6} MB) / inspect(${SIZES[0]! / 1e6} MB) = ${(inspectMs.at(-1)! / inspectMs[0]!).toFixed(2)} (1.00 = cost independent of file size)`);
} finally {
  s3.destroy();
  await s3rver.stop();
  rmSync(dir, { recursive: true, force: true });
}
