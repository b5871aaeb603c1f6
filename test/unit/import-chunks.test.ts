import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_FILES_PER_IMPORT_JOB, HEALTHIMAGING_MAX_FILE_BYTES, HEALTHIMAGING_MAX_JOB_BYTES, importChunks, STAGED_GROWTH_BYTES } from '../../lambdas/core/delivery/import-chunks';
import { endJob, IMPORT_ATTEMPTS, jobsOf, studyStateOf } from '../../lambdas/core/delivery/import-jobs';
import type { ImportJobState } from '../../lambdas/core/model';
import type { DeliveryObject } from '../../lambdas/core/ports/delivery-target';

const object = (i: number, size = 1000): DeliveryObject => ({ key: `sessions/s/files/f${String(i).padStart(5, '0')}`, fileId: `f${String(i).padStart(5, '0')}`, size, kind: 'dicom' });

describe('HealthImaging import chunks', () => {
  it('reads the quotas as decimal GB and 5,000 files', () => {
    expect(HEALTHIMAGING_MAX_FILE_BYTES).toBe(10_000_000_000);
    expect(HEALTHIMAGING_MAX_JOB_BYTES).toBe(10_000_000_000);
    expect(DEFAULT_MAX_FILES_PER_IMPORT_JOB).toBe(5000);
  });

  it('splits a 10,000-file study into two jobs of 5,000 and a 12,001-file one into three, in fileId order', () => {
    const limits = { maxFiles: DEFAULT_MAX_FILES_PER_IMPORT_JOB, maxBytes: HEALTHIMAGING_MAX_JOB_BYTES };
    const tenThousand = Array.from({ length: 10_000 }, (_, i) => object(i)).reverse();
    const chunks = importChunks(tenThousand, limits);
    expect(chunks.map((c) => c.length)).toEqual([5000, 5000]);
    expect(chunks[0]![0]!.fileId).toBe('f00000');
    expect(chunks[1]![0]!.fileId).toBe('f05000');
    expect(importChunks(Array.from({ length: 12_001 }, (_, i) => object(i)), limits).map((c) => c.length)).toEqual([5000, 5000, 2001]);
  });

  it('closes a job before its bytes (with each file\'s growth allowance) pass the limit', () => {
    const maxBytes = 3 * (1000 + STAGED_GROWTH_BYTES);
    const chunks = importChunks([object(0), object(1), object(2), object(3), object(4, 2000 + STAGED_GROWTH_BYTES), object(5)], { maxFiles: 100, maxBytes });
    expect(chunks.map((c) => c.map((o) => o.fileId))).toEqual([['f00000', 'f00001', 'f00002'], ['f00003', 'f00004'], ['f00005']]);
    // 10 GB of 2 GB files: the per-job quota, not the count, splits them.
    const big = Array.from({ length: 10 }, (_, i) => object(i, 2_000_000_000));
    expect(importChunks(big, { maxFiles: 5000, maxBytes: HEALTHIMAGING_MAX_JOB_BYTES }).map((c) => c.length)).toEqual([4, 4, 2]);
    expect(importChunks([], { maxFiles: 1, maxBytes: 1 })).toEqual([]);
  });
});

describe('a study\'s import jobs', () => {
  const job = (chunk: number, state: ImportJobState['state'], extra: Partial<ImportJobState> = {}): ImportJobState => ({ chunk, jobId: `job${chunk}`, attempts: 1, state, ...extra });

  it('is SUBMITTED while any job runs, DELIVERED when all imported, FAILED naming the first failed job', () => {
    expect(studyStateOf([job(0, 'DELIVERED', { instances: 2 }), job(1, 'SUBMITTED')])).toEqual({ state: 'SUBMITTED', jobId: 'job1' });
    expect(studyStateOf([job(0, 'DELIVERED', { instances: 2 }), job(1, 'DELIVERED', { instances: 3 })])).toEqual({ state: 'DELIVERED', instances: 5 });
    expect(studyStateOf([job(0, 'DELIVERED'), job(1, 'FAILED', { reason: 'x', retryable: true }), job(2, 'FAILED', { reason: 'y', retryable: false })])).toEqual({ state: 'FAILED', reason: 'import job 2 of 3: x', retryable: false });
    expect(studyStateOf([job(0, 'FAILED', { reason: 'x', retryable: true })])).toEqual({ state: 'FAILED', reason: 'x', retryable: true });
  });

  it('ends a job: retryable while attempts remain, final with the count after the last', () => {
    const failed = { state: 'FAILED' as const, reason: 'the import job failed', retryable: true };
    expect(endJob(job(1, 'SUBMITTED'), failed, true)).toEqual({ chunk: 1, jobId: 'job1', attempts: 1, state: 'FAILED', reason: 'the import job failed', retryable: true });
    expect(endJob(job(1, 'SUBMITTED', { attempts: IMPORT_ATTEMPTS }), failed, true)).toMatchObject({ retryable: false, reason: `the import job failed (after ${IMPORT_ATTEMPTS} import attempts)` });
    expect(endJob(job(1, 'SUBMITTED'), failed, false)).toMatchObject({ retryable: false });
    expect(endJob(job(1, 'SUBMITTED'), { state: 'DELIVERED', instances: 7 }, true)).toEqual({ chunk: 1, jobId: 'job1', attempts: 1, state: 'DELIVERED', instances: 7 });
  });

  it('reads a study recorded with one job id (before jobs were split) as its one job', () => {
    expect(jobsOf({ state: 'SUBMITTED', target: 'healthimaging', updatedAt: 't', attempts: 2, jobId: 'j' })).toEqual([{ chunk: 0, jobId: 'j', attempts: 2, state: 'SUBMITTED' }]);
    expect(jobsOf({ state: 'DELIVERED', target: 'dicomweb', updatedAt: 't', attempts: 1, instances: 3 })).toBeUndefined();
  });
});

describe('chunk staging prefixes', () => {
  it('lie within the import role\'s IAM patterns and name their session, study and chunk', async () => {
    const { parseStagingKey, stagingLocation, STAGED_INPUTS, STAGED_OUTPUTS } = await import('../../lambdas/core/delivery-staging');
    // IAM's * matches across slashes.
    const iam = (pattern: string) => new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\/]/g, '\\$&')).join('.*')}$`);
    for (const chunk of [0, 1, 19]) {
      const { inputPrefix, outputPrefix } = stagingLocation('sessionA', '0123456789abcdef', chunk);
      expect(`${inputPrefix}f1.dcm`).toMatch(iam(STAGED_INPUTS));
      expect(`${outputPrefix}x/SUCCESS/success.ndjson`).toMatch(iam(STAGED_OUTPUTS));
      expect(parseStagingKey(`s3://bucket/${inputPrefix}`)).toEqual({ sessionId: 'sessionA', studyRef: '0123456789abcdef', chunk });
    }
    expect(stagingLocation('sessionA', '0123456789abcdef', 1).inputPrefix).toBe('deliveries/sessionA/0123456789abcdef/1/input/');
  });
});
