/**
 * Starts DynamoDB Local and s3rver once per test run. A missing prerequisite (Java) fails the run
 * loudly; tests never silently skip. Endpoints reach tests through `inject('emulators')`.
 */
import type { TestProject } from 'vitest/node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDynamoLocal, startS3rver } from '../../local/emulators';

declare module 'vitest' {
  export interface ProvidedContext {
    emulators: { dynamoEndpoint: string; s3Endpoint: string };
  }
}

export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), 'upload-portal-test-'));
  const [dynamo, s3] = await Promise.all([startDynamoLocal(), startS3rver({ dataDir: join(dir, 's3') })]);
  project.provide('emulators', { dynamoEndpoint: dynamo.endpoint, s3Endpoint: s3.endpoint });
  return async () => {
    await Promise.all([dynamo.stop(), s3.stop()]);
    rmSync(dir, { recursive: true, force: true });
  };
}
