import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MIN_PART_BYTES } from '../../lambdas/core/transfers';
import { hashBlob, sha256Base64 } from '../../web/src/hashing';

const nodeSha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('base64');

describe('streaming SHA-256 (hash-wasm, sliced reads)', () => {
  const chunk = 64 * 1024;
  for (const size of [0, 1, chunk - 1, chunk, chunk + 1, 5 * chunk + 17]) {
    it(`matches Node's crypto for ${size} bytes read ${chunk} at a time`, async () => {
      const bytes = randomBytes(size);
      expect(await sha256Base64(new Blob([bytes]), chunk)).toBe(nodeSha(bytes));
    });
  }

  it('hashes each part in the same pass, parts not aligned to the read size', async () => {
    const partSize = MIN_PART_BYTES;
    const bytes = randomBytes(2 * partSize + 12_345);
    const hashes = await hashBlob(new Blob([bytes]), { partSize, chunkBytes: 3 * 1024 * 1024 + 7 });
    expect(hashes.sha256).toBe(nodeSha(bytes));
    expect(hashes.partSize).toBe(partSize);
    expect(hashes.parts).toEqual([
      nodeSha(bytes.subarray(0, partSize)),
      nodeSha(bytes.subarray(partSize, 2 * partSize)),
      nodeSha(bytes.subarray(2 * partSize)),
    ]);
  });

  it('gives no part hashes to a body below the smallest multipart threshold', async () => {
    const bytes = randomBytes(MIN_PART_BYTES - 1);
    const hashes = await hashBlob(new Blob([bytes]));
    expect(hashes).toEqual({ sha256: nodeSha(bytes) });
  });
});
