import { describe, expect, it } from 'vitest';
import { readAllEntries } from '../../web/src/picking';

describe('readAllEntries (drag and drop of folders)', () => {
  it('keeps calling readEntries until it returns nothing: Chromium hands out at most 100 per call', async () => {
    const all = Array.from({ length: 250 }, (_, i) => ({ name: `f${i}` }) as unknown as FileSystemEntry);
    let calls = 0;
    const reader = {
      readEntries(success: (entries: FileSystemEntry[]) => void) {
        const batch = all.slice(calls * 100, calls * 100 + 100);
        calls++;
        setTimeout(() => success(batch), 0);
      },
    };
    const entries = await readAllEntries(reader);
    expect(entries).toHaveLength(250);
    expect(calls).toBe(4); // 100 + 100 + 50 + the empty answer that ends it
  });

  it('passes a reader error on', async () => {
    const reader = { readEntries: (_ok: unknown, fail?: (e: unknown) => void) => fail?.(new Error('gone')) };
    await expect(readAllEntries(reader)).rejects.toThrow('gone');
  });
});
