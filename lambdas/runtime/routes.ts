/**
 * The HTTP API's routes and the Lambda entry behind each. The CDK stack and local mode both build
 * from this one table. Each entry file (lambdas/runtime/entries) exports `handler`, built from a
 * handler factory (lambdas/handlers) over the AWS composition root (./wiring.ts).
 */
export interface ApiRoute {
  id: string;
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  /** Entry file, relative to lambdas/runtime/entries. */
  entry: string;
  auth: 'session-token' | 'none' | 'admin';
}

export const apiRoutes: readonly ApiRoute[] = [
  { id: 'CreateSession', method: 'POST', path: '/sessions', entry: 'create-session.ts', auth: 'none' },
  { id: 'GetSession', method: 'GET', path: '/sessions/{id}', entry: 'get-session.ts', auth: 'session-token' },
  { id: 'RequestUploads', method: 'POST', path: '/sessions/{id}/uploads', entry: 'request-uploads.ts', auth: 'session-token' },
  { id: 'RemoveFile', method: 'DELETE', path: '/sessions/{id}/files/{fileId}', entry: 'remove-file.ts', auth: 'session-token' },
  { id: 'RenewUploadUrl', method: 'POST', path: '/sessions/{id}/files/{fileId}/upload-url', entry: 'renew-upload-url.ts', auth: 'session-token' },
  { id: 'SignParts', method: 'POST', path: '/sessions/{id}/files/{fileId}/parts', entry: 'sign-parts.ts', auth: 'session-token' },
  { id: 'ListParts', method: 'GET', path: '/sessions/{id}/files/{fileId}/parts', entry: 'list-parts.ts', auth: 'session-token' },
  { id: 'FinishUpload', method: 'POST', path: '/sessions/{id}/files/{fileId}/finish', entry: 'finish-upload.ts', auth: 'session-token' },
  { id: 'CompleteSession', method: 'POST', path: '/sessions/{id}/complete', entry: 'complete-session.ts', auth: 'session-token' },
  { id: 'IssueUploadCode', method: 'POST', path: '/admin/upload-codes', entry: 'issue-upload-code.ts', auth: 'admin' },
  { id: 'ListUploadCodes', method: 'GET', path: '/admin/upload-codes', entry: 'list-upload-codes.ts', auth: 'admin' },
  { id: 'RevokeUploadCode', method: 'POST', path: '/admin/upload-codes/revoke', entry: 'revoke-upload-code.ts', auth: 'admin' },
  { id: 'ReadAuditTrail', method: 'GET', path: '/admin/audit', entry: 'read-audit-trail.ts', auth: 'admin' },
];

/** Lambdas not behind the API. */
export const workerEntries = {
  inspector: 'inspector.ts',
  sweeper: 'sweeper.ts',
  delivery: 'delivery.ts',
  malwareScan: 'malware-scan.ts',
  completer: 'completer.ts',
} as const;
