/**
 * Delivery into a real Orthanc (DICOMweb plugin) from s3rver, against a bare baseline measured in the
 * same run: the same files fetched whole and POSTed as STOW-RS by a minimal loop, in requests of the
 * same size, one request at a time like the target. Rounds alternate; each prints instances/s and
 * MB/s, and the ratio (target ≥ 80 %). A sweep over request bounds shows where Orthanc is fastest.
 * Then the memory of delivering one 2 GB file (generated, sparse) in a fresh process: peak RSS,
 * against the same process's RSS before it (target ≤ 256 MB).
 *
 * Run: npm run bench:delivery
 */
import { spawn } from 'node:child_process';
import { closeSync, createReadStream, ftruncateSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DicomwebDeliveryTarget, STOW_LIMITS } from '../lambdas/adapters/dicomweb-delivery-target';
import { S3ObjectReader } from '../lambdas/adapters/s3-object-reader';
import { S3ObjectStreamer } from '../lambdas/adapters/s3-object-streamer';
import { makeStudyInstances } from '../lambdas/core/delivery/study-instances';
import type { DeliveryObject } from '../lambdas/core/ports/delivery-target';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startS3rver } from '../local/emulators';
import { startOrthanc } from '../local/orthanc';
import { ensureSyntheticDataset, syntheticHeader } from './synthetic-dicom';

const FILES = 200;
const SIDE = 512; // 0.5 MB per file, the seed's slice size
const ROUNDS = 3;
const BUCKET = 'bench-delivery';
const root = resolve(import.meta.dirname, '..');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const dir = mkdtempSync(join(tmpdir(), 'bench-delivery-'));
const entries = ensureSyntheticDataset(join(root, '.bench-cache/delivery'), { files: FILES, studies: 1, rows: SIDE, columns: SIDE }, console.log);
const studyUid = entries[0]!.studyInstanceUid;
const totalBytes = entries.reduce((n, e) => n + e.size, 0);
const [s3rver, orthanc] = await Promise.all([startS3rver({ dataDir: join(dir, 's3') }), startOrthanc({ dataDir: join(dir, 'orthanc') })]);
const s3 = new S3Client({ endpoint: s3rver.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });

try {
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const objects: DeliveryObject[] = [];
  for (const [i, e] of entries.entries()) {
    const key = `sessions/bench/files/f${i}`;
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: createReadStream(e.path), ContentLength: e.size }));
    objects.push({ key, fileId: `f${i}`, size: e.size, kind: 'dicom', sopInstanceUid: e.sopInstanceUid });
  }
  const request = { sessionId: 'bench', studyInstanceUid: studyUid, objects, reference: 'MRN-4711' };

  const ours = (limits: { maxInstancesPerRequest: number; maxBytesPerRequest: number }) => async () => {
    const studyInstances = makeStudyInstances({
      reader: new S3ObjectReader({ s3, bucketName: BUCKET }),
      streamer: new S3ObjectStreamer({ s3, bucketName: BUCKET }),
      rules: { patientId: 'reference', accessionNumber: 'prefix', prefix: 'EXT-' },
      now: () => new Date(),
    });
    const outcome = await new DicomwebDeliveryTarget({ url: orthanc.dicomwebUrl, studyInstances, ...limits }).deliverStudy(request);
    if (outcome.state !== 'DELIVERED' || outcome.instances !== FILES) throw new Error(`delivery failed: ${JSON.stringify(outcome)}`);
  };

  /** The baseline: whole objects from S3 into one multipart buffer per request, POSTed with fetch. */
  const bare = (limits: { maxInstancesPerRequest: number; maxBytesPerRequest: number }) => async () => {
    let batch: Buffer[] = [];
    let bytes = 0;
    const post = async () => {
      const boundary = 'bare-baseline-boundary';
      const parts = batch.flatMap((b) => [Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), b, Buffer.from('\r\n')]);
      const response = await fetch(`${orthanc.dicomwebUrl}/studies/${studyUid}`, {
        method: 'POST',
        headers: { 'Content-Type': `multipart/related; type="application/dicom"; boundary=${boundary}`, Accept: 'application/dicom+json' },
        body: Buffer.concat([...parts, Buffer.from(`--${boundary}--\r\n`)]),
      });
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`baseline POST: HTTP ${response.status}`);
      batch = [];
      bytes = 0;
    };
    for (const o of objects) {
      if (batch.length >= limits.maxInstancesPerRequest || (batch.length > 0 && bytes + o.size > limits.maxBytesPerRequest)) await post();
      const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: o.key }));
      batch.push(Buffer.from(await out.Body!.transformToByteArray()));
      bytes += o.size;
    }
    if (batch.length) await post();
  };

  const clearOrthanc = async () => {
    const ids = (await (await fetch(`${orthanc.url}/studies`)).json()) as string[];
    for (const id of ids) await fetch(`${orthanc.url}/studies/${id}`, { method: 'DELETE' });
  };
  const timed = async (run: () => Promise<void>) => {
    await clearOrthanc();
    const started = performance.now();
    await run();
    return (performance.now() - started) / 1000;
  };
  const rate = (seconds: number) => `${(FILES / seconds).toFixed(0).padStart(4)} instances/s ${(totalBytes / 1e6 / seconds).toFixed(1).padStart(6)} MB/s`;

  const limits = { ...STOW_LIMITS };
  const oursTimes: number[] = [];
  const bareTimes: number[] = [];
  await timed(bare(limits)); // warm-up: Orthanc's database and the disk cache
  for (let round = 0; round < ROUNDS; round++) {
    bareTimes.push(await timed(bare(limits)));
    oursTimes.push(await timed(ours(limits)));
  }
  console.log(`Delivery of ${FILES} files (${(totalBytes / 1e6).toFixed(0)} MB, one study) from s3rver into Orthanc ${orthanc.url}, median of ${ROUNDS}`);
  console.log(`  requests of at most ${limits.maxInstancesPerRequest} instances / ${limits.maxBytesPerRequest / 2 ** 20} MiB, one at a time`);
  console.log(`  bare STOW-RS loop (baseline): ${rate(median(bareTimes))}`);
  console.log(`  DicomwebDeliveryTarget:       ${rate(median(oursTimes))}  (reconciled, streamed)`);
  console.log(`  target / baseline: ${((median(bareTimes) / median(oursTimes)) * 100).toFixed(0)} % (target ≥ 80 %)`);

  console.log('Request bounds against Orthanc (the target, one round each):');
  for (const [instances, mib] of [[10, 64], [50, 64], [100, 16], [100, 64], [200, 256]] as const) {
    const seconds = await timed(ours({ maxInstancesPerRequest: instances, maxBytesPerRequest: mib * 2 ** 20 }));
    console.log(`  ${String(instances).padStart(3)} instances / ${String(mib).padStart(3)} MiB per request: ${rate(seconds)}`);
  }

  await deliverOneLargeFile();
} finally {
  s3.destroy();
  await Promise.all([s3rver.stop(), orthanc.stop()]);
  rmSync(dir, { recursive: true, force: true });
}

/**
 * One 2 GB file (sparse: its pixel data is a hole in the file) delivered by a fresh process, so its
 * peak RSS is the delivery's alone. The receiving end is a counting HTTP sink in this process:
 * Orthanc keeps a whole request in its own memory, and its memory is not what is measured here.
 */
async function deliverOneLargeFile(): Promise<void> {
  const size = 2 * 1024 ** 3;
  const uids = { studyInstanceUid: '2.25.4243.1', seriesInstanceUid: '2.25.4243.2', sopInstanceUid: '2.25.4243.3', patientId: 'BENCH', rows: 64, columns: 64 };
  const { header } = syntheticHeader(uids);
  header.writeUInt32LE(size - header.length, header.length - 4);
  const path = join(dir, 'large.dcm');
  const fd = openSync(path, 'w');
  writeSync(fd, header);
  ftruncateSync(fd, size);
  closeSync(fd);
  const key = 'sessions/bench/files/large';
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: createReadStream(path), ContentLength: size }));
  rmSync(path);

  let received = 0;
  const sink = createServer((req, res) => {
    req.on('data', (chunk: Buffer) => (received += chunk.length));
    req.on('end', () => {
      res.writeHead(200, { 'Content-Type': 'application/dicom+json' });
      res.end(JSON.stringify({ '00081199': { vr: 'SQ', Value: [{ '00081155': { vr: 'UI', Value: [uids.sopInstanceUid] } }] } }));
    });
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', () => r()));
  const sinkPort = (sink.address() as { port: number }).port;
  const child = spawn(process.execPath, [join(root, 'node_modules/tsx/dist/cli.mjs'), join(root, 'bench/delivery-memory.ts')], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, BENCH_S3: s3rver.endpoint, BENCH_BUCKET: BUCKET, BENCH_KEY: key, BENCH_SIZE: String(size), BENCH_SOP: uids.sopInstanceUid, BENCH_STUDY: uids.studyInstanceUid, BENCH_SINK: `http://127.0.0.1:${sinkPort}` },
  });
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  sink.close();
  console.log(`  the sink received ${(received / 2 ** 30).toFixed(3)} GiB (the file is ${(size / 2 ** 30).toFixed(3)} GiB plus the reconciled header and multipart framing)`);
  if (code !== 0) process.exitCode = 1;
}
