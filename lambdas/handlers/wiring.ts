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
import { appConfig, type AppConfig } from './config';
import { observability } from './observability';

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
// (filled in with the API use cases)

// ─── Inspection deps ────────────────────────────────────────────────────────
