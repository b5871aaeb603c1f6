/**
 * The test tiers, one vitest project each, run alone with `npm run test:<tier>` and together by
 * `npm test`. A tier's files are test/<tier>/**\/*.test.ts. Its globalSetup files start what only
 * that tier needs; vitest runs them only when a file of the tier is selected, so
 * `npm run test:unit` starts no emulator and needs no Java. To give a tier a service, add its
 * setup file to that tier's list.
 */
import { defineConfig } from 'vitest/config';

export interface TestTier {
  globalSetup: string[];
  /** Worker threads start faster than forks; tiers that spawn servers or browsers keep forks. */
  pool: 'threads' | 'forks';
}

export const TEST_TIERS: Record<'unit' | 'integration' | 'cdk' | 'e2e', TestTier> = {
  /** Pure logic: core, the DICOM reader, the portal's modules, the import boundaries. */
  unit: { globalSetup: [], pool: 'threads' },
  /** Adapters, handlers and local mode against DynamoDB Local (Java) and s3rver; delivery against a real Orthanc. */
  integration: { globalSetup: ['test/setup/emulators.ts', 'test/setup/orthanc.ts'], pool: 'forks' },
  /** CDK Template tests and cdk-nag over the synthesized stacks. */
  cdk: { globalSetup: [], pool: 'forks' },
  /** The portal in Debian's Chromium against a real local mode, which starts its own emulators. */
  e2e: { globalSetup: [], pool: 'forks' },
};

/** Tiers run only when asked for by name (`npm run test:large`), never by `npm test`: they take minutes. */
export const OPT_IN_TIERS: Record<'large', TestTier> = {
  /** A 6 GB multipart upload through the portal in Chromium against local mode. */
  large: { globalSetup: [], pool: 'forks' },
};

const optIn = process.env.TEST_TIER === 'large' ? OPT_IN_TIERS : {};

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // No globalSetup at the root: the root project's setup would run for every tier.
    projects: Object.entries({ ...TEST_TIERS, ...optIn }).map(([name, { globalSetup, pool }]) => ({
      extends: true,
      test: { name, include: [`test/${name}/**/*.test.ts`], globalSetup, pool },
    })),
  },
});
