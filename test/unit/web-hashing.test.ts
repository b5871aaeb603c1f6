import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MIN_PART_BYTES } from '../../lambdas/core/transfers';
import { hashBlob, ONE_SHOT_BYTES, sha256Base64 } from '../../web/src/hashing';

const nodeSha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('base64');

describe('SHA-256 of a Blob (WebCrypto in one read, or hash-wasm streamed)', () => {
  for (const size of [0, 1, 65_535, 65_536, 65_537, ONE_SHOT_BYTES, ONE_SHOT_BYTES + 1]) {
    it(`matches Node's crypto for ${size} bytes, with WebCrypto and without`, async () => {
      const bytes = randomBytes(size);
      expect(await sha256Base64(new Blob([bytes]))).toBe(nodeSha(bytes));
      expect((await hashBlob(new Blob([bytes]), { withParts: false, native: false })).sha256).toBe(nodeSha(bytes));
    });
  }

  for (const native of [true, false]) {
    it(`hashes each part in the same read (${native ? 'WebCrypto' : 'hash-wasm'} parts), the last part short`, async () => {
      const partSize = MIN_PART_BYTES;
      const bytes = randomBytes(3 * partSize + 12_345);
      const hashes = await hashBlob(new Blob([bytes]), { partSize, native });
      expect(hashes.sha256).toBe(nodeSha(bytes));
      expect(hashes.partSize).toBe(partSize);
      expect(hashes.parts).toEqual([0, 1, 2, 3].map((i) => nodeSha(bytes.subarray(i * partSize, (i + 1) * partSize))));
    });
  }

  it('streams the parts through hash-wasm when a part is larger than one read may be', async () => {
    const partSize = ONE_SHOT_BYTES + 1024 * 1024;
    const bytes = randomBytes(partSize + 7);
    const hashes = await hashBlob(new Blob([bytes]), { partSize });
    expect(hashes.parts).toEqual([nodeSha(bytes.subarray(0, partSize)), nodeSha(bytes.subarray(partSize))]);
    expect(hashes.sha256).toBe(nodeSha(bytes));
  });

  it('gives no part hashes to a body below the smallest multipart threshold', async () => {
    const bytes = randomBytes(MIN_PART_BYTES - 1);
    const hashes = await hashBlob(new Blob([bytes]));
    expect(hashes).toEqual({ sha256: nodeSha(bytes) });
  });
});
