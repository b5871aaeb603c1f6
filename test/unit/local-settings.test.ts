/** Local mode's environment: defaults, and a bad value refused at start with the variable's name. */
import { describe, expect, it } from 'vitest';
import { LocalSettingsError, readLocalSettings } from '../../local/settings';

describe('readLocalSettings', () => {
  it('runs four inspector batches at once unless INSPECTION_CONCURRENCY says otherwise', () => {
    expect(readLocalSettings({}).inspectionConcurrency).toBe(4);
    expect(readLocalSettings({ INSPECTION_CONCURRENCY: '1' }).inspectionConcurrency).toBe(1);
    expect(readLocalSettings({ INSPECTION_CONCURRENCY: '' }).inspectionConcurrency).toBe(4);
  });

  it('refuses an INSPECTION_CONCURRENCY outside 1–16, naming it', () => {
    for (const value of ['0', '17', 'many', '2.5']) {
      expect(() => readLocalSettings({ INSPECTION_CONCURRENCY: value })).toThrow(LocalSettingsError);
      expect(() => readLocalSettings({ INSPECTION_CONCURRENCY: value })).toThrow(/INSPECTION_CONCURRENCY/);
    }
  });
});
