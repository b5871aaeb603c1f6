/**
 * The AWS composition root: SDK clients and use cases, built once per Lambda container from the
 * typed config. Built lazily (on the first request) because local mode and tests import the entry
 * files for their `create…Handler` factories and pass their own deps; importing has no side effects.
 *
 * Sections: clients (shared) · API deps · inspection deps (added by the inspection engineer).
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoCodeStore } from '../adapters/dynamo-code-store';
import { DynamoRateLimiter } from '../adapters/dynamo-rate-limiter';
import { DynamoReservationStore } from '../adapters/dynamo-reservation-store';
import { DynamoSessionStore } from '../adapters/dynamo-session-store';
import { SystemClock } from '../adapters/node-clock';
import { NodeIds, NodeRandomSource } from '../adapters/node-ids';
import { Sha256SecretHasher } from '../adapters/node-secret-hasher';
import { S3ObjectRemover } from '../adapters/s3-object-remover';
import { S3UploadSigner } from '../adapters/s3-upload-signer';
import { makeIssueUploadCode, makeRevokeUploadCode, type IssueUploadCode, type RevokeUploadCode } from '../core/codes';
import type { Clock, SecretHasher } from '../core/ports';
import { makeGetSession, makeOpenSession, type GetSession, type OpenSession } from '../core/sessions';
import { makeRemoveFile, makeRequestUploads, type RemoveFile, type RequestUploads } from '../core/uploads';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { EventBridgePublisher } from '../adapters/eventbridge-publisher';
import type { EventPublisher } from '../core/inspection-ports';
import { appConfig, ConfigError, type AppConfig } from './config';
import { buildInspectionUseCases } from './inspection-deps';
import { observability, type Observability } from './observability';

// ─── Clients ────────────────────────────────────────────────────────────────

export interface AwsClients {
  dynamo: DynamoDBDocumentClient;
  s3: S3Client;
}

/** SDK clients for a config; endpoint overrides (emulators) come from the config, never from code. */
export function createAwsClients(config: AppConfig, options: { credentials?: DynamoDBClientConfig['credentials'] } = {}): AwsClients {
  const credentials = options.credentials ? { credentials: options.credentials } : {};
  const dynamoBase = new DynamoDBClient({
    region: config.region,
    ...(config.dynamoEndpoint ? { endpoint: config.dynamoEndpoint } : {}),
    ...credentials,
  });
  const dynamo = DynamoDBDocumentClient.from(dynamoBase, { marshallOptions: { removeUndefinedValues: true } });
  const s3 = new S3Client({
    region: config.region,
    ...(config.s3Endpoint ? { endpoint: config.s3Endpoint } : {}),
    forcePathStyle: config.s3ForcePathStyle,
    // Otherwise presigned PUTs carry a checksum of an empty body and emulators store aws-chunked bodies.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...credentials,
  });
  return { dynamo, s3 };
}

/** Memoises a builder: one instance per container. */
export function once<T>(build: () => T): () => T {
  let value: T | undefined;
  let built = false;
  return () => {
    if (!built) {
      value = build();
      built = true;
    }
    return value as T;
  };
}

export const awsClients = once(() => {
  const config = appConfig();
  observability.setInstitution(config.institution.id);
  return createAwsClients(config);
});

// ─── API deps ───────────────────────────────────────────────────────────────

/** What the API entry files' `create…Handler` factories take. */
export interface ApiDeps {
  openSession: OpenSession;
  getSession: GetSession;
  requestUploads: RequestUploads;
  removeFile: RemoveFile;
  issueUploadCode: IssueUploadCode;
  revokeUploadCode: RevokeUploadCode;
  hasher: SecretHasher;
  /** Local mode: SHA-256 hex of the admin token; absent on AWS, where IAM guards the admin route. */
  localAdminTokenHash?: string;
  observability: Observability;
}

/**
 * The API use cases over the DynamoDB and S3 adapters. Local mode and tests call this with their own
 * config and clients (emulator endpoints); `clock` lets tests and benches fix the time.
 */
export function createApiDeps(
  config: AppConfig,
  clients: AwsClients,
  options: { clock?: Clock; observability?: Observability } = {},
): ApiDeps {
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
  return {
    openSession: makeOpenSession({ codes, sessions, rateLimiter: new DynamoRateLimiter(dynamo, table), hasher, random, ids, clock, institution }),
    getSession: makeGetSession({ sessions, hasher, clock, institution }),
    requestUploads: makeRequestUploads({ sessions, reservations, signer: new S3UploadSigner(s3, config.bucketName), hasher, ids, clock, institution }),
    removeFile: makeRemoveFile({ sessions, reservations, remover: new S3ObjectRemover(s3, config.bucketName), hasher, clock }),
    issueUploadCode: makeIssueUploadCode({ codes, hasher, random, clock, institution }),
    revokeUploadCode: makeRevokeUploadCode({ codes, hasher, clock }),
    hasher,
    localAdminTokenHash: config.localAdminTokenHash,
    observability: options.observability ?? observability,
  };
}

export const apiDeps = once(() => createApiDeps(appConfig(), awsClients()));

// ─── Inspection deps ────────────────────────────────────────────────────────
// Inspector, completion and sweep (lambdas/handlers/inspection-deps.ts builds the use cases).

const inspectionUseCases = once(() => {
  const config = appConfig();
  const { dynamo, s3 } = awsClients();
  const eventBusName = config.eventBusName;
  const publisher: EventPublisher = eventBusName
    ? new EventBridgePublisher({ client: new EventBridgeClient({ region: config.region }), eventBusName, institutionId: config.institution.id })
    : {
        // Only the sweeper may run without a bus: it never publishes.
        publish: () => Promise.reject(new ConfigError(['EVENT_BUS_NAME: required to publish session events'])),
      };
  return buildInspectionUseCases({ doc: dynamo, tableName: config.tableName, s3, bucketName: config.bucketName, publisher, observability });
});

export const inspectorDeps = once(() => ({ inspectObject: inspectionUseCases().inspectObject, observability }));
export const completeSessionDeps = once(() => {
  const { authorize, completeSession } = inspectionUseCases();
  return { authorize, completeSession, observability };
});
export const sweeperDeps = once(() => ({ sweep: inspectionUseCases().sweep, observability }));
