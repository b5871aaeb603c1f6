import { defineConfig } from 'vitest/config';
import { TEST_TIERS } from './test/tiers';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // No globalSetup at the root: the root project's setup would run for every tier.
    projects: Object.entries(TEST_TIERS).map(([name, { globalSetup, pool }]) => ({
      extends: true,
      test: { name, include: [`test/${name}/**/*.test.ts`], globalSetup, pool },
    })),
  },
});
