/**
 * The real API (entry-file handlers over the real use cases and adapters) against a fresh table and
 * bucket on the emulators, called with API Gateway v2 events. `invoke` routes a raw method and path
 * as API Gateway would (apiRoutes), so fuzzing can send any path.
 */
import { createHash } from 'node:crypto';
import { apiRoutes } from '../../../lambdas/runtime/routes';
import type { InstitutionConfig } from '../../../lambdas/core/institution';
import type { Clock } from '../../../lambdas/core/ports';
import { createCreateSessionHandler } from '../../../lambdas/handlers/create-session';
import { createGetSessionHandler } from '../../../lambdas/handlers/get-session';
import { createIssueUploadCodeHandler } from '../../../lambdas/handlers/issue-upload-code';
import { createListUploadCodesHandler } from '../../../lambdas/handlers/list-upload-codes';
import { createRevokeUploadCodeHandler } from '../../../lambdas/handlers/revoke-upload-code';
import { createRemoveFileHandler } from '../../../lambdas/handlers/remove-file';
import { createRequestUploadsHandler } from '../../../lambdas/handlers/request-uploads';
import type { ApiHandler } from '../../../lambdas/runtime/http';
import { createObservability } from '../../../lambdas/runtime/observability';
import { createApiDeps, type ApiDeps } from '../../../lambdas/runtime/api-deps';
import { createAwsClients, type AwsClients } from '../../../lambdas/runtime/aws-clients';
import type { AppConfig } from '../../../lambdas/runtime/config';
import { createRenewUploadUrlHandler } from '../../../lambdas/handlers/renew-upload-url';
import { createSignPartsHandler } from '../../../lambdas/handlers/sign-parts';
import { createListPartsHandler } from '../../../lambdas/handlers/list-parts';
import { createFinishUploadHandler } from '../../../lambdas/handlers/finish-upload';
import { apiEvent, readResult, type ApiCall, type ApiResponse } from './api-events';
import { createTestBucket, createTestTable, LOCAL_CREDENTIALS, testConfig, testInstitution, type TestBucket, type TestTable } from './emulators';

/** A clock the test moves: starts at the real time, `advance` jumps ahead. */
export class TestClock implements Clock {
  private offsetMs = 0;
  private frozenAt: number | undefined;
  now(): Date {
    return new Date((this.frozenAt ?? Date.now()) + this.offsetMs);
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
  /** Stops the clock at `at` (offsets still apply) until `unfreeze`. */
  freeze(at: Date): void {
    this.frozenAt = at.getTime();
  }
  unfreeze(): void {
    this.frozenAt = undefined;
  }
}

export const ADMIN_TOKEN = 'local-admin-token-for-tests-0123456789';

export interface ApiHarness {
  table: TestTable;
  bucket: TestBucket;
  config: AppConfig;
  clients: AwsClients;
  deps: ApiDeps;
  clock: TestClock;
  handlers: Record<'CreateSession' | 'GetSession' | 'RequestUploads' | 'RemoveFile' | 'IssueUploadCode' | 'ListUploadCodes' | 'RevokeUploadCode' | 'RenewUploadUrl' | 'SignParts' | 'ListParts' | 'FinishUpload', ApiHandler>;
  /** Routes a raw request like API Gateway: unknown routes are 404 without reaching a handler. */
  invoke<T = any>(call: ApiCall): Promise<ApiResponse<T>>;
  issueCode(body?: Record<string, unknown>): Promise<string>;
  /** Redeems a code (from a given client address) and returns the session's response body. */
  openSession(code: string, sourceIp?: string): Promise<{ sessionId: string; token: string; [k: string]: any }>;
  getSession(sessionId: string, token: string): Promise<ApiResponse>;
  requestUploads(sessionId: string, token: string, files: unknown[]): Promise<ApiResponse>;
  removeFile(sessionId: string, token: string, fileId: string): Promise<ApiResponse>;
  close(): Promise<void>;
}

export async function startApi(label: string, options: { institution?: InstitutionConfig; adminToken?: boolean } = {}): Promise<ApiHarness> {
  const [table, bucket] = await Promise.all([createTestTable(label), createTestBucket(label)]);
  const config = testConfig({
    tableName: table.tableName,
    bucketName: bucket.bucketName,
    institution: options.institution ?? testInstitution(),
    localAdminTokenHash: options.adminToken === false ? undefined : createHash('sha256').update(ADMIN_TOKEN).digest('hex'),
  });
  const clients = createAwsClients(config, { credentials: LOCAL_CREDENTIALS });
  const clock = new TestClock();
  const observability = createObservability({ logLevel: 'SILENT', metrics: false });
  const deps = createApiDeps(config, clients, { clock, observability });
  const handlers = {
    CreateSession: createCreateSessionHandler(deps),
    GetSession: createGetSessionHandler(deps),
    RequestUploads: createRequestUploadsHandler(deps),
    RemoveFile: createRemoveFileHandler(deps),
    IssueUploadCode: createIssueUploadCodeHandler(deps),
    ListUploadCodes: createListUploadCodesHandler(deps),
    RevokeUploadCode: createRevokeUploadCodeHandler(deps),
    RenewUploadUrl: createRenewUploadUrlHandler(deps),
    SignParts: createSignPartsHandler(deps),
    ListParts: createListPartsHandler(deps),
    FinishUpload: createFinishUploadHandler(deps),
  };

  const routeTable = apiRoutes
    .filter((r) => r.id in handlers)
    .map((r) => {
      const names: string[] = [];
      const pattern = new RegExp(`^${r.path.replace(/\{(\w+)\}/g, (_, name: string) => (names.push(name), '([^/]+)'))}$`);
      return { route: r, pattern, names };
    });

  async function invoke(call: ApiCall): Promise<ApiResponse> {
    for (const { route, pattern, names } of routeTable) {
      const match = route.method === call.method ? pattern.exec(call.path) : null;
      if (!match) continue;
      const pathParameters = Object.fromEntries(names.map((name, i) => [name, safeDecode(match[i + 1]!)]));
      const handler = handlers[route.id as keyof typeof handlers];
      return readResult(await handler(apiEvent({ ...call, route: route.path, pathParameters })));
    }
    return { status: 404, headers: {}, body: { message: 'Not Found' } };
  }

  const harness: ApiHarness = {
    table,
    bucket,
    config,
    clients,
    deps,
    clock,
    handlers,
    invoke,
    async issueCode(body = {}) {
      const res = await invoke({ method: 'POST', path: '/admin/upload-codes', body, token: ADMIN_TOKEN });
      if (res.status !== 201) throw new Error(`issuing a code failed: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.code as string;
    },
    async openSession(code, sourceIp) {
      const res = await invoke({ method: 'POST', path: '/sessions', body: { uploadCode: code }, sourceIp });
      if (res.status !== 201 && res.status !== 200) throw new Error(`opening a session failed: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    },
    getSession: (sessionId, token) => invoke({ method: 'GET', path: `/sessions/${sessionId}`, token }),
    requestUploads: (sessionId, token, files) => invoke({ method: 'POST', path: `/sessions/${sessionId}/uploads`, token, body: { files } }),
    removeFile: (sessionId, token, fileId) => invoke({ method: 'DELETE', path: `/sessions/${sessionId}/files/${fileId}`, token }),
    async close() {
      clients.dynamo.destroy();
      clients.s3.destroy();
      await Promise.all([table.drop(), bucket.drop()]);
    },
  };
  return harness;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

let serial = 0;
/** A unique DICOM-style UID for test fixtures (digits and dots only). */
export function testUid(root = '1.2.826.0.1.3680043.10.543'): string {
  serial += 1;
  return `${root}.${process.pid}.${Date.now() % 1_000_000}.${serial}`;
}

/** Base64 SHA-256 of bytes, as a declaration carries it. */
export function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('base64');
}

/** A well-formed checksum for files a test declares but never sends. */
export const UNSENT_SHA256 = sha256Of(new Uint8Array(0));

/** A declared DICOM file for upload requests (pass `sha256` of the body when the test sends one). */
export function dicomFile(studyInstanceUid: string, size: number, overrides: Record<string, unknown> = {}) {
  const sop = testUid();
  return { clientId: `c${sop.split('.').slice(-1)[0]}`, name: `IM${sop.slice(-6)}.dcm`, size, kind: 'dicom', studyInstanceUid, sopInstanceUid: sop, sha256: UNSENT_SHA256, ...overrides };
}

/** A declared PDF attachment, linked to a study unless `studyInstanceUid` is undefined. */
export function attachmentFile(studyInstanceUid: string | undefined, size: number, overrides: Record<string, unknown> = {}) {
  const id = testUid().split('.').slice(-1)[0];
  return {
    clientId: `a${id}`,
    name: `report-${id}.pdf`,
    size,
    kind: 'attachment',
    contentType: 'application/pdf',
    sha256: UNSENT_SHA256,
    ...(studyInstanceUid ? { studyInstanceUid } : {}),
    ...overrides,
  };
}
