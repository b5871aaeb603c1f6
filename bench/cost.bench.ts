/**
 * `npm run bench:cost`: what one file costs on AWS over its whole life (declare, PUT, inspect, complete, retention),
 * counted, not estimated: a real local mode runs one session of BENCH_FILES synthetic files (default 2,000, in 4
 * studies) driven over HTTP as the portal drives it, then completes it and waits until the sweeper has tagged every
 * file for retention. Local mode counts every DynamoDB call with the capacity units DynamoDB Local reports, every S3
 * call and every Lambda invocation of its handlers (local/usage-meter.ts); this bench adds the requests AWS makes on
 * its own (the browser's PUTs, S3 → SQS, SQS polling, the event) and prices 1,000 such sessions a month.
 * Scheduled sweeps are left out (SWEEP_INTERVAL_SECONDS is a day here): they cost per hour, not per file.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../local/emulators';
import type { Usage } from '../local/usage-meter';
import { callApi, retentionTagged, startLocalModeProcess, uploadSyntheticFiles } from './local-session-driver';

const FILES = Number(process.env.BENCH_FILES ?? 2000);
const STUDIES = 4;
const SESSIONS_PER_MONTH = 1000;
const FILES_PER_PRICED_SESSION = 2000;

/**
 * AWS list prices, us-east-1, as published in 2025 (DynamoDB on-demand after its 2024-11-01 reduction). Check them
 * against the current price pages before quoting a figure to a hospital.
 */
const PRICES = {
  date: '2025 (us-east-1 list prices)',
  dynamoWriteUnit: 0.625 / 1e6,
  dynamoReadUnit: 0.125 / 1e6,
  s3PutClass: 0.005 / 1000, // PUT, COPY, POST, LIST, and PutObjectTagging
  s3GetClass: 0.0004 / 1000, // GET, HEAD, GetObjectTagging and the rest; DELETE is free
  lambdaRequest: 0.2 / 1e6,
  lambdaArmGbSecond: 0.0000133334,
  sqsRequest: 0.4 / 1e6,
  httpApiRequest: 1.0 / 1e6,
  eventBridgeEvent: 1.0 / 1e6,
  kmsRequest: 0.03 / 10_000,
};
/** Memory per function as the stack sets it (lib/app-function.ts, lib/inspection.ts), GB. */
const MEMORY_GB: Record<string, number> = { Inspector: 1, default: 0.5 };
const FREE_S3_OPERATIONS = new Set(['DeleteObject', 'DeleteObjects']);
const PUT_CLASS_S3 = /^(Put|Copy|Post|List|CreateMultipart|UploadPart|CompleteMultipart)/;

async function runSession(): Promise<{ usage: Usage; files: number; completeAttempts: number }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-cost-'));
  const mode = await startLocalModeProcess(dataDir, { SWEEP_INTERVAL_SECONDS: '86400', POWERTOOLS_LOG_LEVEL: 'WARN' });
  try {
    const opened = await callApi(mode.apiUrl, 'POST', '/sessions', { uploadCode: mode.uploadCode });
    if (opened.status !== 201) throw new Error(`POST /sessions answered ${opened.status}`);
    const session = opened.body as { sessionId: string; token: string };
    console.log(`  uploading ${FILES} files …`);
    const upload = await uploadSyntheticFiles(mode.apiUrl, session, { count: FILES, studies: STUDIES, concurrency: 8 });
    if (upload.failures.length) throw new Error(`upload failures: ${upload.failures.slice(0, 3).join('; ')}`);
    const studies = Array.from({ length: STUDIES }, (_, i) => ({ studyInstanceUid: `2.25.2000000000000000000000000000.2.${i + 1}` }));
    let completeAttempts = 0;
    for (;;) {
      completeAttempts++;
      const answer = await callApi(mode.apiUrl, 'POST', `/sessions/${session.sessionId}/complete`, { studies, contact: { email: 'bench@example.org' }, consent: { privacyPolicy: true, dataSharing: true } }, session.token);
      if (answer.status === 200 && answer.body.status === 'ACCEPTED') break;
      if (answer.status !== 409 && answer.status !== 202) throw new Error(`complete answered ${answer.status}: ${JSON.stringify(answer.body).slice(0, 300)}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    const local = JSON.parse(readFileSync(join(dataDir, 'local.json'), 'utf8')) as { s3Endpoint: string; bucketName: string };
    const s3 = new S3Client({ endpoint: local.s3Endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, forcePathStyle: true });
    const keyOf = (fileId: string) => `sessions/${session.sessionId}/files/${fileId}`;
    const deadline = Date.now() + 600_000;
    while (!(await retentionTagged(s3, local.bucketName, keyOf(upload.fileIds.at(-1)!))) || !(await retentionTagged(s3, local.bucketName, keyOf(upload.fileIds[0]!)))) {
      if (Date.now() > deadline) throw new Error('retention tags not applied within 10 minutes');
      await new Promise((r) => setTimeout(r, 1000));
    }
    s3.destroy();
    // Ctrl-C: local mode writes usage.json as it stops.
    await mode.signal('SIGINT');
    const usageFile = join(dataDir, 'usage.json');
    if (!existsSync(usageFile)) throw new Error(`local mode stopped without writing usage.json:\n${mode.output().slice(-1500)}`);
    return { usage: JSON.parse(readFileSync(usageFile, 'utf8')) as Usage, files: upload.fileIds.length, completeAttempts };
  } finally {
    await mode.signal('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const perFile = (n: number, files: number) => (n / files).toFixed(3);

console.log(`bench:cost: one session of ${FILES} files through local mode, every AWS request counted`);
const { usage, files, completeAttempts } = await runSession();
const dynamo = Object.entries(usage.dynamo);
const dynamoCalls = sum(dynamo.map(([, u]) => u.calls));
const readUnits = sum(dynamo.map(([, u]) => u.readUnits));
const writeUnits = sum(dynamo.map(([, u]) => u.writeUnits));
console.log(`\nDynamoDB per file: ${perFile(dynamoCalls, files)} requests, ${perFile(writeUnits, files)} write units, ${perFile(readUnits, files)} read units`);
for (const [op, u] of dynamo.sort((a, b) => b[1].writeUnits - a[1].writeUnits)) {
  console.log(`  ${op.padEnd(20)} ${perFile(u.calls, files).padStart(7)} calls  ${perFile(u.writeUnits, files).padStart(7)} WRU  ${perFile(u.readUnits, files).padStart(7)} RRU`);
}
const itemsWritten: Record<string, number> = {};
for (const [, u] of dynamo) for (const [kind, n] of Object.entries(u.itemsWritten)) itemsWritten[kind] = (itemsWritten[kind] ?? 0) + n;
const allItems = sum(Object.values(itemsWritten));
console.log(`  items written per file: ${perFile(allItems, files)} (${Object.entries(itemsWritten).map(([kind, n]) => `${kind} ${perFile(n, files)}`).join(', ')})`);
// The browser's PUT of each file is S3's, not a handler's: one per file.
const s3 = { ...usage.s3, 'PutObject (browser)': files };
const s3Calls = sum(Object.values(s3));
console.log(`S3 per file: ${perFile(s3Calls, files)} requests`);
for (const [op, n] of Object.entries(s3).sort((a, b) => b[1] - a[1])) console.log(`  ${op.padEnd(20)} ${perFile(n, files).padStart(7)}`);
const invocations = Object.entries(usage.invocations);
const invocationCount = sum(invocations.map(([, u]) => u.count));
console.log(`Lambda invocations per 1,000 files: ${((invocationCount / files) * 1000).toFixed(1)} (POST complete attempts: ${completeAttempts})`);
for (const [name, u] of invocations.sort((a, b) => b[1].count - a[1].count)) {
  console.log(`  ${name.padEnd(20)} ${((u.count / files) * 1000).toFixed(1).padStart(7)}   ${(u.ms / u.count).toFixed(1)} ms each (local wall time)`);
}

// ── A month of 1,000 sessions of 2,000 files, at the per-file figures above. ──
const monthFiles = SESSIONS_PER_MONTH * FILES_PER_PRICED_SESSION;
const scale = monthFiles / files;
const s3PutClass = sum(Object.entries(s3).filter(([op]) => PUT_CLASS_S3.test(op)).map(([, n]) => n));
const s3GetClass = sum(Object.entries(s3).filter(([op]) => !PUT_CLASS_S3.test(op) && !FREE_S3_OPERATIONS.has(op)).map(([, n]) => n));
const gbSeconds = sum(invocations.map(([name, u]) => (u.ms / 1000) * (MEMORY_GB[name] ?? MEMORY_GB.default!)));
const inspectorBatches = usage.invocations.Inspector?.count ?? 0;
const apiRequests = sum(invocations.filter(([name]) => name !== 'Inspector' && name !== 'Sweeper').map(([, u]) => u.count));
// S3 → SQS sends one message per object; each inspector batch is one receive and one delete-batch.
const sqsRequests = files + 2 * inspectorBatches;
// SSE-KMS with an S3 bucket key calls KMS about once per session, not per object: counted as one per session.
const lines: Array<[string, number]> = [
  ['DynamoDB write units', writeUnits * scale * PRICES.dynamoWriteUnit],
  ['DynamoDB read units', readUnits * scale * PRICES.dynamoReadUnit],
  ['S3 PUT-class requests', s3PutClass * scale * PRICES.s3PutClass],
  ['S3 GET-class requests', s3GetClass * scale * PRICES.s3GetClass],
  ['Lambda requests', invocationCount * scale * PRICES.lambdaRequest],
  ['Lambda compute (local wall time; an upper bound)', gbSeconds * scale * PRICES.lambdaArmGbSecond],
  ['SQS requests', sqsRequests * scale * PRICES.sqsRequest],
  ['HTTP API requests', apiRequests * scale * PRICES.httpApiRequest],
  ['EventBridge events', SESSIONS_PER_MONTH * PRICES.eventBridgeEvent],
  ['KMS requests', SESSIONS_PER_MONTH * PRICES.kmsRequest],
];
console.log(`\nA month of ${SESSIONS_PER_MONTH} sessions of ${FILES_PER_PRICED_SESSION} files (${monthFiles.toLocaleString('en')} files), requests only (storage is priced per GB), prices of ${PRICES.date}:`);
for (const [label, dollars] of lines) console.log(`  ${label.padEnd(50)} $${dollars.toFixed(2).padStart(9)}`);
console.log(`  ${'total'.padEnd(50)} $${sum(lines.map(([, d]) => d)).toFixed(2).padStart(9)}`);
