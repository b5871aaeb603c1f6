/** How a declared file travels: the signed Content-Type, the multipart plan and its part sizes, the checksum shape. */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import {
  DEFAULT_MULTIPART_THRESHOLD_BYTES,
  MAX_PARTS,
  MIN_PART_BYTES,
  multipartThreshold,
  partProblem,
  partSizeOf,
  planParts,
  PREFERRED_PART_BYTES,
  SHA256_BASE64_PATTERN,
  uploadContentType,
} from '../../lambdas/core/transfers';
import { parseInstitutionConfig } from '../../lambdas/core/institution';

const MiB = 1024 * 1024;

describe('uploadContentType', () => {
  it('is application/dicom for DICOM, the declared allowed type for an attachment, and never a type a browser renders', () => {
    expect(uploadContentType({ kind: 'dicom' })).toBe('application/dicom');
    expect(uploadContentType({ kind: 'attachment', attachmentType: 'pdf' })).toBe('application/pdf');
    expect(uploadContentType({ kind: 'attachment', attachmentType: 'jpeg' })).toBe('image/jpeg');
    expect(uploadContentType({ kind: 'attachment', attachmentType: 'png' })).toBe('image/png');
    expect(uploadContentType({ kind: 'attachment' })).toBe('application/octet-stream');
  });
});

describe('planParts', () => {
  it('cuts 16 MiB parts, the last one shorter, and their sizes add up to the file', () => {
    for (const size of [DEFAULT_MULTIPART_THRESHOLD_BYTES, 1_000_000_000, 10_000_000_000, 6 * 1024 ** 3 + 7]) {
      const plan = planParts(size);
      let total = 0;
      for (let n = 1; n <= plan.partCount; n++) {
        const part = partSizeOf(plan, size, n);
        expect(part).toBeGreaterThan(0);
        if (n < plan.partCount) expect(part).toBeGreaterThanOrEqual(MIN_PART_BYTES);
        total += part;
      }
      expect(total).toBe(size);
      expect(plan.partCount).toBeLessThanOrEqual(MAX_PARTS);
    }
    expect(planParts(1_000_000_000)).toEqual({ partSize: PREFERRED_PART_BYTES, partCount: 60 });
  });

  it('grows the part (in whole MiB) when a file would need more than 10,000 parts', () => {
    const size = 200 * 1024 ** 3;
    const plan = planParts(size);
    expect(plan.partCount).toBeLessThanOrEqual(MAX_PARTS);
    expect(plan.partSize % MiB).toBe(0);
    expect(plan.partSize).toBeGreaterThan(PREFERRED_PART_BYTES);
  });

  it('names the problem of a part outside the plan', () => {
    const size = 40 * MiB;
    const plan = planParts(size);
    expect(partProblem(plan, size, { partNumber: 1, size: PREFERRED_PART_BYTES })).toBeUndefined();
    expect(partProblem(plan, size, { partNumber: 3, size: 8 * MiB })).toBeUndefined();
    expect(partProblem(plan, size, { partNumber: 3, size: PREFERRED_PART_BYTES })).toBe(`part 3 must be ${8 * MiB} bytes`);
    expect(partProblem(plan, size, { partNumber: 0, size: 1 })).toBe('partNumber must be 1–3');
    expect(partProblem(plan, size, { partNumber: 4, size: 1 })).toBe('partNumber must be 1–3');
  });
});

describe('multipart threshold', () => {
  it('defaults to 100 MiB, for sessions opened before it was configurable too; an institution may set 5 MiB–5 GiB', () => {
    expect(multipartThreshold({})).toBe(100 * MiB);
    expect(multipartThreshold({ multipartThresholdBytes: 8 * MiB })).toBe(8 * MiB);
    const base = { id: 'x', name: 'X', contact: { phone: '123', email: 'a@b.example' }, manualUrl: 'https://x.example', portalOrigin: 'https://x.example', alarmEmail: 'a@b.example' };
    expect(parseInstitutionConfig({ ...base, limits: { maxSessionBytes: 1000 } }).limits.multipartThresholdBytes).toBe(100 * MiB);
    expect(() => parseInstitutionConfig({ ...base, limits: { maxSessionBytes: 1000, multipartThresholdBytes: MiB } })).toThrow(/multipartThresholdBytes/);
  });
});

describe('SHA256_BASE64_PATTERN', () => {
  it('accepts every real digest and refuses other shapes', () => {
    for (let i = 0; i < 200; i++) expect(createHash('sha256').update(String(i)).digest('base64')).toMatch(SHA256_BASE64_PATTERN);
    for (const bad of ['', 'abc', 'A'.repeat(44), `${'A'.repeat(42)}B=`, createHash('sha256').update('x').digest('hex')]) expect(bad).not.toMatch(SHA256_BASE64_PATTERN);
  });
});
