/** Every test file runs in exactly one tier, and every tier's setup file exists. */
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { OPT_IN_TIERS, TEST_TIERS } from '../../vitest.config';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TEST_DIR = fileURLToPath(new URL('..', import.meta.url));

describe('test tiers', () => {
  it('hold every test file under test/ (a file outside a tier folder would never run)', () => {
    const files = readdirSync(TEST_DIR, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.test.ts'));
    expect(files.length).toBeGreaterThan(0);
    const outside = files.filter((f) => !Object.keys({ ...TEST_TIERS, ...OPT_IN_TIERS }).includes(f.split(/[\\/]/)[0]!));
    expect(outside).toEqual([]);
  });

  it('name setup files that exist', () => {
    const setups = Object.values({ ...TEST_TIERS, ...OPT_IN_TIERS }).flatMap((tier) => tier.globalSetup);
    expect(setups.filter((file) => !existsSync(`${ROOT}${file}`))).toEqual([]);
  });
});
