/** SDK clients for a config; endpoint overrides (emulators) come from the config, never from code. */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AppConfig } from './config';

export interface AwsClients {
  dynamo: DynamoDBDocumentClient;
  s3: S3Client;
}

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
