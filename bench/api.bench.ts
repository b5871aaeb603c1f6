/**
 * API benchmark on DynamoDB Local: DynamoDB requests per upload request (counted by an SDK
 * middleware on the real client) and the RequestUploads handler's median latency over 200 requests,
 * next to a baseline measured in the same run: the median of a bare PutItem round-trip.
 *
 *   npm run bench:api
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { tableDefinition } from '../lambdas/adapters/table';
import { parseInstitutionConfig } from '../lambdas/core/institution';
import type { AppConfig } from '../lambdas/runtime/config';
import { createCreateSessionHandler } from '../lambdas/handlers/create-session';
import { createGetSessionHandler } from '../lambdas/handlers/get-session';
import { createIssueUploadCodeHandler } from '../lambdas/handlers/issue-upload-code';
import { createRequestUploadsHandler } from '../lambdas/handlers/request-uploads';
import { createObservability } from '../lambdas/runtime/observability';
import { createApiDeps } from '../lambdas/runtime/api-deps';
import { createAwsClients } from '../lambdas/runtime/aws-clients';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startDynamoLocal, startS3rver } from '../local/emulators';

const REQUESTS = 200;

function event(method: string, path: string, body?: unknown, token?: string, pathParameters?: Record<string, string>): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    pathParameters,
    body: body === undefined ? undefined : JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: {
      accountId: '0', apiId: 'bench', domainName: 'localhost', domainPrefix: 'localhost', requestId: randomBytes(8).toString('hex'),
      routeKey: `${method} ${path}`, stage: '$default', time: '', timeEpoch: Date.now(),
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'bench' },
    },
  };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))]!;

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'bench-api-'));
  const [dynamo, s3] = await Promise.all([startDynamoLocal(), startS3rver({ dataDir: join(dir, 's3'), resetOnClose: true })]);
  try {
    const adminToken = randomBytes(24).toString('base64url');
    const institution = parseInstitutionConfig(JSON.parse(readFileSync(new URL('../institutions/demo.json', import.meta.url), 'utf8')), 'demo.json');
    const config: AppConfig = {
      tableName: 'bench-api',
      bucketName: 'bench-uploads',
      institution: { ...institution, limits: { ...institution.limits, maxSessionBytes: 10_000_000_000, maxStudyBytes: 10_000_000_000 } },
      region: LOCAL_REGION,
      dynamoEndpoint: dynamo.endpoint,
      s3Endpoint: s3.endpoint,
      s3ForcePathStyle: true,
      localAdminTokenHash: createHash('sha256').update(adminToken).digest('hex'),
      logFormat: 'json',
    };
    const clients = createAwsClients(config, { credentials: LOCAL_CREDENTIALS });
    await clients.dynamo.send(new CreateTableCommand(tableDefinition(config.tableName)));

    // Count every DynamoDB command the handlers send, by name.
    const counts = new Map<string, number>();
    clients.dynamo.middlewareStack.add(
      (next, context) => async (args) => {
        counts.set(context.commandName ?? '?', (counts.get(context.commandName ?? '?') ?? 0) + 1);
        return next(args);
      },
      { step: 'initialize', name: 'benchCountRequests' },
    );
    const total = () => [...counts.values()].reduce((a, b) => a + b, 0);

    const observability = createObservability({ logLevel: 'SILENT', metrics: false });
    const deps = createApiDeps(config, clients, { observability });
    const issue = createIssueUploadCodeHandler(deps);
    const open = createCreateSessionHandler(deps);
    const get = createGetSessionHandler(deps);
    const upload = createRequestUploadsHandler(deps);

    async function newSession() {
      const code = JSON.parse((await issue(event('POST', '/admin/upload-codes', {}, adminToken))).body!).code as string;
      const session = JSON.parse((await open(event('POST', '/sessions', { uploadCode: code }))).body!);
      return { sessionId: session.sessionId as string, token: session.token as string };
    }

    let sop = 0;
    const files = (n: number, study: string) =>
      Array.from({ length: n }, () => ({ clientId: `c${++sop}`, name: `IM${sop}.dcm`, size: 524_288, kind: 'dicom', studyInstanceUid: study, sopInstanceUid: `1.2.826.0.1.${sop}` }));

    // Baseline: bare PutItem round-trips on the same DynamoDB Local.
    const baseline: number[] = [];
    for (let i = 0; i < REQUESTS + 20; i++) {
      const started = performance.now();
      await clients.dynamo.send(new PutCommand({ TableName: config.tableName, Item: { pk: `BENCH#${i}`, sk: 'BENCH', value: i } }));
      if (i >= 20) baseline.push(performance.now() - started);
    }

    async function scenario(label: string, filesPerRequest: number, requestsPerSession: number) {
      let session = await newSession();
      const latencies: number[] = [];
      let requests = 0;
      let study = `1.2.826.0.2.${sop}`;
      // Warm-up (JIT, connections), not measured.
      for (let i = 0; i < 10; i++) await upload(event('POST', `/sessions/${session.sessionId}/uploads`, { files: files(1, study) }, session.token, { id: session.sessionId }));
      session = await newSession();
      counts.clear();
      for (let i = 0; i < REQUESTS; i++) {
        if (i > 0 && i % requestsPerSession === 0) {
          const before = new Map(counts);
          session = await newSession();
          study = `1.2.826.0.2.${sop}`;
          // Session setup is not part of the upload figure.
          counts.clear();
          for (const [k, v] of before) counts.set(k, v);
        }
        const body = { files: files(filesPerRequest, study) };
        const started = performance.now();
        const res = await upload(event('POST', `/sessions/${session.sessionId}/uploads`, body, session.token, { id: session.sessionId }));
        latencies.push(performance.now() - started);
        if (res.statusCode !== 201) throw new Error(`upload request failed: ${res.statusCode} ${res.body}`);
        requests++;
      }
      const perRequest = total() / requests;
      const breakdown = [...counts].map(([name, n]) => `${name.replace('Command', '')} ${(n / requests).toFixed(2)}`).join(', ');
      return { label, median: median(latencies), p90: percentile(latencies, 0.9), perRequest, breakdown };
    }

    const single = await scenario(`1 DICOM file per request, ${REQUESTS} requests into one session (partition grows to ${REQUESTS} files)`, 1, REQUESTS);
    const batch = await scenario(`10 DICOM files per request, a new session every 10 requests (≤ 100 files each)`, 10, 10);

    // GET /sessions/{id} on a session with 100 files, for reference.
    const s = await newSession();
    for (let i = 0; i < 10; i++) await upload(event('POST', `/sessions/${s.sessionId}/uploads`, { files: files(10, '1.2.826.0.3') }, s.token, { id: s.sessionId }));
    counts.clear();
    const getLatencies: number[] = [];
    for (let i = 0; i < 50; i++) {
      const started = performance.now();
      await get(event('GET', `/sessions/${s.sessionId}`, undefined, s.token, { id: s.sessionId }));
      getLatencies.push(performance.now() - started);
    }
    const getPerRequest = total() / 50;

    const base = median(baseline);
    console.log(`\nAPI benchmark on DynamoDB Local (${dynamo.endpoint}), Node ${process.version}`);
    console.log(`baseline: bare PutItem round-trip median ${base.toFixed(2)} ms over ${REQUESTS}\n`);
    for (const r of [single, batch]) {
      console.log(`POST /sessions/{id}/uploads — ${r.label}`);
      console.log(`  DynamoDB requests per upload request: ${r.perRequest.toFixed(2)} (${r.breakdown})`);
      console.log(`  handler latency median ${r.median.toFixed(2)} ms, p90 ${r.p90.toFixed(2)} ms = ${(r.median / base).toFixed(2)}× the PutItem baseline\n`);
    }
    console.log(`GET /sessions/{id} with 100 files: ${getPerRequest.toFixed(2)} DynamoDB requests, median ${median(getLatencies).toFixed(2)} ms = ${(median(getLatencies) / base).toFixed(2)}× baseline`);
    clients.dynamo.destroy();
    clients.s3.destroy();
  } finally {
    await Promise.all([dynamo.stop(), s3.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
