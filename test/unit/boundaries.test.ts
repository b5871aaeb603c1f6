/**
 * The import boundaries of .dependency-cruiser.cjs hold for lambdas/ and web/, and the rules do
 * catch what they forbid: a fixture tree that breaks each one once must be reported, violation by
 * violation, by the same checker and config.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { cruise, type IConfiguration, type ICruiseResult, type IViolation } from 'dependency-cruiser';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURE = fileURLToPath(new URL('fixtures/boundaries', import.meta.url));
const config = createRequire(import.meta.url)('../../.dependency-cruiser.cjs') as IConfiguration;
const known = JSON.parse(readFileSync(`${ROOT}.dependency-cruiser-known-violations.json`, 'utf8')) as IViolation[];

/** Cruises lambdas/, web/ and test/unit/ under baseDir and returns the rule violations as `rule: from → to`. */
async function violations(baseDir: string, knownViolations: IViolation[] = []): Promise<{ found: string[]; ignored: number }> {
  const result = await cruise(['lambdas', 'web', 'test/unit'], {
    ...config.options,
    baseDir,
    validate: true,
    ruleSet: { forbidden: config.forbidden },
    knownViolations,
  });
  const { summary } = result.output as ICruiseResult;
  // The fixture's packages resolve from the repository's node_modules, above its baseDir.
  const found = summary.violations
    .filter((v) => v.rule.severity !== 'ignore') // the known ones, counted in summary.ignore
    .map((v) => `${v.rule.name}: ${v.from} → ${v.to.replace(/^(\.\.\/)+node_modules\//, 'node_modules/')}`);
  return { found: found.sort(), ignored: summary.ignore };
}

describe('import boundaries', () => {
  it('hold for lambdas/, web/ and test/unit/ (apart from the listed known violations)', async () => {
    const { found, ignored } = await violations(ROOT, known);
    expect(found).toEqual([]);
    // A known violation that is gone must leave the list, so the list only ever shrinks.
    expect(ignored).toBe(known.length);
  });

  it('report every forbidden import of the fixture tree, and nothing it allows', async () => {
    const { found } = await violations(FIXTURE);
    expect(found).toEqual(
      [
        'adapters-import-no-runtime: lambdas/adapters/s3-signer.ts → lambdas/handlers/http.ts',
        'adapters-import-no-runtime: lambdas/adapters/s3-signer.ts → lambdas/runtime/wiring.ts',
        'core-imports-no-cloud-sdk: lambdas/core/leaky.ts → node_modules/@aws-sdk/client-s3/dist-cjs/index.js',
        'core-imports-no-node-builtin: lambdas/core/leaky.ts → fs',
        'core-imports-only-core: lambdas/core/leaky.ts → ./missing',
        'core-imports-only-core: lambdas/core/leaky.ts → lambdas/adapters/s3-signer.ts',
        'core-imports-only-core: lambdas/core/leaky.ts → lambdas/runtime/wiring.ts',
        'core-imports-only-core: lambdas/core/leaky.ts → web/src/page.ts',
        'not-to-unresolvable: lambdas/core/leaky.ts → ./missing',
        'portal-imports-no-node-builtin: web/src/page.ts → path',
        'web-imports-only-web-and-core: web/src/page.ts → lambdas/adapters/s3-signer.ts',
        'unit-tests-need-no-emulator: test/unit/helper.ts → test/setup/emulators.ts',
        'unit-tests-need-no-emulator: test/unit/needs-emulators.ts → test/setup/emulators.ts',
      ].sort(),
    );
  });
});
