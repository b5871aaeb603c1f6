/** readHeaderFrom: the ranged-read loop reads what the header needs, not what the file holds. */
import { describe, expect, it } from 'vitest';
import { InvalidDicomError, readHeaderFrom, readHeaderFromSync } from '../../lambdas/core/dicom';
import { explicit, part10, us } from './dicom-fixtures';

function countingReader(file: Uint8Array) {
  const reads: Array<[number, number]> = [];
  return {
    reads,
    read: async (start: number, end: number) => {
      reads.push([start, end]);
      return file.subarray(start, end);
    },
  };
}

/** A header of `padding` bytes of a skipped private element before the fields, then Pixel Data of `pixels` bytes. */
function imageWith(padding: number, pixels: number): Uint8Array {
  const header = part10([
    ...explicit(0x00091010, 'UN', [], { length: padding }), // private bulk before the fields we read (zeros)
  ]);
  const rest = [
    ...explicit(0x0020000d, 'UI', '1.2.840.1'), // StudyInstanceUID
    ...explicit(0x00280010, 'US', us(512)), // Rows
    ...explicit(0x7fe00010, 'OB', [], { length: pixels }), // PixelData header; its zeros follow
  ];
  const file = new Uint8Array(header.length + padding + rest.length + pixels);
  file.set(header);
  file.set(rest, header.length + padding);
  return file;
}

describe('readHeaderFrom', () => {
  it('reads one 64 KiB range for a small header in a large file', async () => {
    const file = imageWith(100, 3_000_000);
    const reader = countingReader(file);
    const header = await readHeaderFrom(reader.read, file.length);
    expect(header.fields.studyInstanceUid).toBe('1.2.840.1');
    expect(reader.reads).toEqual([[0, 65536]]);
    expect(header.bytesRead).toBe(65536);
    expect(header.headerBytes).toBeLessThan(1000);
  });

  it('reads further, in whole chunks, only when the header is larger than the first chunk', async () => {
    const file = imageWith(150_000, 1_000_000);
    const reader = countingReader(file);
    const header = await readHeaderFrom(reader.read, file.length);
    expect(header.fields.rows).toBe(512);
    expect(header.bytesRead).toBe(Math.ceil(header.headerBytes / 65536) * 65536);
    expect(header.bytesRead).toBeLessThan(file.length / 4);
    expect(reader.reads[0]).toEqual([0, 65536]);
    expect(reader.reads.every(([start], i) => i === 0 || start === reader.reads[i - 1]![1])).toBe(true);
  });

  it('refuses a header larger than its limit instead of reading the file', async () => {
    const file = imageWith(300_000, 10);
    const reader = countingReader(file);
    await expect(readHeaderFrom(reader.read, file.length, 65536, 100_000)).rejects.toMatchObject({ reason: 'HEADER_TOO_LARGE' });
    expect(reader.reads).toEqual([[0, 65536]]);
  });

  it('throws TRUNCATED when the file is shorter than the header', async () => {
    const file = imageWith(100, 10).subarray(0, 200);
    await expect(readHeaderFrom(countingReader(file).read, file.length)).rejects.toMatchObject({ reason: 'TRUNCATED' });
  });

  it('throws TRUNCATED when the reader returns fewer bytes than the stated size', async () => {
    const file = imageWith(100, 10);
    const error = await readHeaderFrom(countingReader(file).read, file.length + 500).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidDicomError);
    expect((error as InvalidDicomError).reason).toBe('TRUNCATED');
  });
});

describe('readHeaderFromSync', () => {
  const syncReader = (file: Uint8Array) => {
    const reads: Array<[number, number]> = [];
    return { reads, read: (start: number, end: number) => (reads.push([start, end]), file.subarray(start, end)) };
  };

  it('makes the same reads and returns the same header as readHeaderFrom', async () => {
    for (const file of [imageWith(100, 3_000_000), imageWith(150_000, 1_000_000)]) {
      const asyncReader = countingReader(file);
      const expected = await readHeaderFrom(asyncReader.read, file.length, 4096);
      const reader = syncReader(file);
      expect(readHeaderFromSync(reader.read, file.length, 4096)).toEqual(expected);
      expect(reader.reads).toEqual(asyncReader.reads);
    }
  });

  it('throws the same reasons: too large, truncated, shorter than stated', () => {
    const large = imageWith(300_000, 10);
    expect(() => readHeaderFromSync(syncReader(large).read, large.length, 65536, 100_000)).toThrow(
      expect.objectContaining({ reason: 'HEADER_TOO_LARGE' }),
    );
    const cut = imageWith(100, 10).subarray(0, 200);
    expect(() => readHeaderFromSync(syncReader(cut).read, cut.length)).toThrow(expect.objectContaining({ reason: 'TRUNCATED' }));
    const file = imageWith(100, 10);
    expect(() => readHeaderFromSync(syncReader(file).read, file.length + 500)).toThrow(expect.objectContaining({ reason: 'TRUNCATED' }));
  });
});
