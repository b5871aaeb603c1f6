/**
 * The API use cases over the DynamoDB and S3 adapters, for both composition roots (AWS:
 * ./wiring.ts; local mode: local/wiring.ts) and the tests, each with its own config and clients.
 */
import { DynamoCodeStore } from '../adapters/dynamo-code-store';
import { DynamoRateLimiter } from '../adapters/dynamo-rate-limiter';
import { DynamoReservationStore } from '../adapters/dynamo-reservation-store';
import { DynamoSessionStore } from '../adapters/dynamo-session-store';
import { SystemClock } from '../adapters/node-clock';
import { NodeIds, NodeRandomSource } from '../adapters/node-ids';
import { Sha256SecretHasher } from '../adapters/node-secret-hasher';
import { S3ObjectRemover } from '../adapters/s3-object-remover';
import { S3UploadSigner } from '../adapters/s3-upload-signer';
import { DynamoCodeDirectory } from '../adapters/dynamo-code-directory';
import { DynamoDeliveryStore } from '../adapters/dynamo-delivery-store';
import { makeIssueUploadCode, type IssueUploadCode } from '../core/codes';
import { makeListUploadCodes, makeRevokeUploadCode, type ListUploadCodes, type RevokeUploadCode } from '../core/code-admin';
import { S3MultipartUploads } from '../adapters/s3-multipart-uploads';
import { DynamoMultipartRecorder } from '../adapters/dynamo-multipart-recorder';
import { makeFinishUpload, makeListParts, makeRenewUploadUrl, makeSignParts, type FinishUpload, type ListParts, type RenewUploadUrl, type SignParts } from '../core/file-transfers';
import type { Clock, SecretHasher } from '../core/ports';
import { makeOpenSession, type OpenSession } from '../core/sessions';
import { makeGetSessionSummary, type GetSessionSummary } from '../core/session-summary';
import { makeRemoveFile, makeRequestUploads, type RemoveFile, type RequestUploads } from '../core/uploads';
import type { AwsClients } from './aws-clients';
import type { AppConfig } from './config';
import type { Observability } from './observability';
import { createAuditDeps } from './audit-deps';
import type { AuditTrail, ReadAuditTrail } from '../core/audit';

/** What the API entry files' `create…Handler` factories take. */
export interface ApiDeps {
  openSession: OpenSession;
  getSession: GetSessionSummary;
  requestUploads: RequestUploads;
  removeFile: RemoveFile;
  renewUploadUrl: RenewUploadUrl;
  signParts: SignParts;
  listParts: ListParts;
  finishUpload: FinishUpload;
  issueUploadCode: IssueUploadCode;
  listUploadCodes: ListUploadCodes;
  revokeUploadCode: RevokeUploadCode;
  hasher: SecretHasher;
  audit: AuditTrail;
  readAuditTrail: ReadAuditTrail;
  /** Local mode: SHA-256 hex of the admin token; absent on AWS, where IAM guards the admin route. */
  localAdminTokenHash?: string;
  observability: Observability;
}

/** `clock` lets tests and benches fix the time. */
export function createApiDeps(config: AppConfig, clients: AwsClients, options: { observability: Observability; clock?: Clock }): ApiDeps {
  const { dynamo, s3 } = clients;
  const table = config.tableName;
  const institution = config.institution;
  const clock = options.clock ?? new SystemClock();
  const hasher = new Sha256SecretHasher();
  const ids = new NodeIds();
  const random = new NodeRandomSource();
  const codes = new DynamoCodeStore(dynamo, table);
  const sessions = new DynamoSessionStore(dynamo, table);
  const reservations = new DynamoReservationStore(dynamo, table);
  const bucket = { s3, bucketName: config.bucketName };
  const directory = new DynamoCodeDirectory(dynamo, table);
  const signer = new S3UploadSigner(s3, config.bucketName);
  const multipart = new S3MultipartUploads(s3, config.bucketName, signer);
  const transfers = { sessions, hasher, clock, signer, multipart, recorder: new DynamoMultipartRecorder(dynamo, table), expiresInSeconds: institution.session.uploadUrlExpirySeconds };
  return {
    openSession: makeOpenSession({ codes, sessions, rateLimiter: new DynamoRateLimiter(dynamo, table), hasher, random, ids, clock, institution }),
    getSession: makeGetSessionSummary({ sessions, hasher, clock, institution }),
    requestUploads: makeRequestUploads({ ...transfers, reservations, ids, institution }),
    removeFile: makeRemoveFile({ sessions, reservations, remover: new S3ObjectRemover(bucket), multipart, hasher, clock }),
    renewUploadUrl: makeRenewUploadUrl(transfers),
    signParts: makeSignParts(transfers),
    listParts: makeListParts(transfers),
    finishUpload: makeFinishUpload(transfers),
    issueUploadCode: makeIssueUploadCode({ codes, hasher, random, clock, institution }),
    listUploadCodes: makeListUploadCodes({ directory, clock, institution, progress: new DynamoDeliveryStore({ doc: dynamo, tableName: table }) }),
    revokeUploadCode: makeRevokeUploadCode({ codes, directory, remover: new S3ObjectRemover(bucket), hasher, clock, institution }),
    hasher,
    ...createAuditDeps(config, clients, { logger: options.observability.log, metrics: options.observability, clock }),
    localAdminTokenHash: config.localAdminTokenHash,
    observability: options.observability,
  };
}
