/**
 * Shared integration-test helpers: a fresh DynamoDB table and S3 bucket per test file on the
 * emulators the globalSetup started (`inject('emulators')`), plus configs pointing at them.
 */
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tableDefinition } from '../../../lambdas/adapters/table';
import { parseInstitutionConfig, type InstitutionConfig } from '../../../lambdas/core/institution';
import type { AppConfig } from '../../../lambdas/runtime/config';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../../local/emulators';

export { LOCAL_CREDENTIALS, LOCAL_REGION };

/** The emulator endpoints; fails loudly when the globalSetup did not provide them. */
export function emulators(): { dynamoEndpoint: string; s3Endpoint: string } {
  const provided = inject('emulators');
  if (!provided?.dynamoEndpoint || !provided.s3Endpoint) {
    throw new Error('Emulators missing: run through vitest with test/setup/emulators.ts as globalSetup.');
  }
  return provided;
}

function uniqueName(label: string): string {
  const clean = label.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 30);
  return `${clean}-${randomBytes(4).toString('hex')}`;
}

export interface TestTable {
  tableName: string;
  /** The plain client (commands from @aws-sdk/client-dynamodb) … */
  client: DynamoDBClient;
  /** … and the document client the adapters use. */
  doc: DynamoDBDocumentClient;
  drop(): Promise<void>;
}

/** Creates a fresh table with the production layout (lambdas/adapters/table.ts). */
export async function createTestTable(label: string): Promise<TestTable> {
  const client = new DynamoDBClient({ endpoint: emulators().dynamoEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const tableName = uniqueName(label);
  await client.send(new CreateTableCommand(tableDefinition(tableName)));
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  return {
    tableName,
    client,
    doc,
    async drop() {
      await client.send(new DeleteTableCommand({ TableName: tableName })).catch(() => undefined);
      client.destroy();
    },
  };
}

export interface TestBucket {
  bucketName: string;
  s3: S3Client;
  /** Size of the object, or undefined when it does not exist. */
  objectSize(key: string): Promise<number | undefined>;
  listKeys(prefix?: string): Promise<string[]>;
  drop(): Promise<void>;
}

/** An S3 client for s3rver: path style, local credentials, checksums only when required. */
export function testS3Client(): S3Client {
  return new S3Client({
    endpoint: emulators().s3Endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** Creates a fresh bucket on s3rver. */
export async function createTestBucket(label: string): Promise<TestBucket> {
  const s3 = testS3Client();
  const bucketName = uniqueName(label);
  await s3.send(new CreateBucketCommand({ Bucket: bucketName }));
  const listKeys = async (prefix?: string) => {
    const out = await s3.send(new ListObjectsV2Command({ Bucket: bucketName, Prefix: prefix, MaxKeys: 1000 }));
    return (out.Contents ?? []).map((o) => o.Key!).sort();
  };
  return {
    bucketName,
    s3,
    async objectSize(key) {
      try {
        const head = await s3.send(new HeadObjectCommand({ Bucket: bucketName, Key: key }));
        return head.ContentLength;
      } catch (error) {
        if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return undefined;
        throw error;
      }
    },
    listKeys,
    async drop() {
      for (const key of await listKeys()) await s3.send(new DeleteObjectCommand({ Bucket: bucketName, Key: key }));
      await s3.send(new DeleteBucketCommand({ Bucket: bucketName })).catch(() => undefined);
      s3.destroy();
    },
  };
}

const demoPath = fileURLToPath(new URL('../../../institutions/demo.json', import.meta.url));

type InstitutionOverrides = {
  limits?: Partial<InstitutionConfig['limits']>;
  session?: Partial<InstitutionConfig['session']>;
  codes?: Partial<InstitutionConfig['codes']>;
};

/** institutions/demo.json with overrides, validated by the real schema. */
export function testInstitution(overrides: InstitutionOverrides = {}): InstitutionConfig {
  const demo = JSON.parse(readFileSync(demoPath, 'utf8')) as InstitutionConfig;
  return parseInstitutionConfig(
    {
      ...demo,
      limits: { ...demo.limits, ...overrides.limits },
      session: { ...demo.session, ...overrides.session },
      codes: { ...demo.codes, ...overrides.codes },
    },
    'test institution',
  );
}

/** An AppConfig pointing at the emulators, as local mode builds it. */
export function testConfig(opts: { tableName: string; bucketName: string; institution?: InstitutionConfig; localAdminTokenHash?: string }): AppConfig {
  const { dynamoEndpoint, s3Endpoint } = emulators();
  return {
    tableName: opts.tableName,
    bucketName: opts.bucketName,
    institution: opts.institution ?? testInstitution(),
    region: LOCAL_REGION,
    dynamoEndpoint,
    s3Endpoint,
    s3ForcePathStyle: true,
    localAdminTokenHash: opts.localAdminTokenHash,
    localClientAddressKey: 'client-address-key-for-tests-0123456789abcdef',
    logFormat: 'json',
  };
}
