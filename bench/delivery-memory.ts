/**
 * Run by bench/delivery.bench.ts in a process of its own: delivers one large object (BENCH_* from the
 * parent) through the real DicomwebDeliveryTarget and prints the process's peak RSS next to its RSS
 * before the delivery, and the time taken.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { DicomwebDeliveryTarget } from '../lambdas/adapters/dicomweb-delivery-target';
import { S3ObjectReader } from '../lambdas/adapters/s3-object-reader';
import { S3ObjectStreamer } from '../lambdas/adapters/s3-object-streamer';
import { makeStudyInstances } from '../lambdas/core/delivery/study-instances';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../local/emulators';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is missing: run this through npm run bench:delivery`);
  return value;
};
const s3 = new S3Client({ endpoint: env('BENCH_S3'), region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
const bucketName = env('BENCH_BUCKET');
const size = Number(env('BENCH_SIZE'));
const studyInstances = makeStudyInstances({
  reader: new S3ObjectReader({ s3, bucketName }),
  streamer: new S3ObjectStreamer({ s3, bucketName }),
  rules: { patientId: 'reference', accessionNumber: 'prefix', prefix: 'EXT-' },
  now: () => new Date(),
});
const target = new DicomwebDeliveryTarget({ url: env('BENCH_SINK'), studyInstances });

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const before = process.memoryUsage().rss;
let peak = before;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
const started = performance.now();
const outcome = await target.deliverStudy({
  sessionId: 'bench',
  studyInstanceUid: env('BENCH_STUDY'),
  reference: 'MRN-4711',
  objects: [{ key: env('BENCH_KEY'), fileId: 'large', size, kind: 'dicom', sopInstanceUid: env('BENCH_SOP') }],
});
const seconds = (performance.now() - started) / 1000;
clearInterval(sampler);
peak = Math.max(peak, process.resourceUsage().maxRSS * 1024);
s3.destroy();
console.log(`Delivering one ${(size / 2 ** 30).toFixed(0)} GiB file: ${JSON.stringify(outcome)} in ${seconds.toFixed(1)} s (${(size / 2 ** 20 / seconds).toFixed(0)} MiB/s)`);
console.log(`  peak RSS ${mib(peak)} (the process before delivering: ${mib(before)}; growth ${mib(peak - before)}); target ≤ 256 MiB`);
if (outcome.state !== 'DELIVERED') process.exitCode = 1;
