/**
 * A failed audit write never fails the request it records, so it must show as a metric: the EMF
 * line the Lambdas print (Powertools, lambdas/runtime/observability.ts) carries AuditWriteFailures
 * with the institution as its only dimension, which the AuditWriteFailures alarm (lib/monitoring.ts) reads.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Sha256SecretHasher } from '../../lambdas/adapters/node-secret-hasher';
import { makeAuditTrail, type AuditEntry } from '../../lambdas/core/audit';
import type { AuditLog } from '../../lambdas/core/ports';
import { createObservability } from '../../lambdas/runtime/observability';

const SESSION = { sessionId: 'sessionAAAAAAAAAAAAAAAA', codeHash: 'c'.repeat(64), codeReference: 'MRN-4711' };
const STUDY_UID = '1.2.826.0.1.3680043.8.498.777';

/** An audit table that refuses every write, as DynamoDB does when throttled or denied. */
function refusingLog(): AuditLog & { attempts: number } {
  const log = {
    attempts: 0,
    async append(_entry: AuditEntry): Promise<boolean> {
      log.attempts++;
      throw Object.assign(new Error(`throttled writing ${STUDY_UID}`), { name: 'ProvisionedThroughputExceededException' });
    },
    indexReference: async () => undefined,
    codeIdsFor: async () => [],
    readCode: async () => [],
    readSecurityDay: async () => [],
  };
  return log;
}

/** The EMF documents printed to stdout while `run` runs. */
async function emfPrintedBy(run: () => Promise<void>): Promise<Record<string, unknown>[]> {
  const lines: string[] = [];
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    await run();
  } finally {
    write.mockRestore();
  }
  return lines
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The audit trail over `log`, for one session whose studies are `studies`, counting into `observability`. */
function auditTrail(log: AuditLog, observability: ReturnType<typeof createObservability>, studies: unknown[]) {
  return makeAuditTrail({
    log,
    sessions: { get: async () => ({ ...SESSION }) as never, listStudies: async () => studies as never },
    addresses: { hash: async () => 'h'.repeat(16) },
    hasher: new Sha256SecretHasher(),
    clock: { now: () => new Date('2026-01-01T00:00:00Z') },
    logger: observability.log,
    metrics: observability,
  });
}

afterEach(() => vi.restoreAllMocks());

describe('AuditWriteFailures', () => {
  it('is emitted as EMF, once per failed record, with the institution as the only dimension and no patient data', async () => {
    const observability = createObservability({ logLevel: 'SILENT', metrics: true });
    observability.setInstitution('lakeside');
    const log = refusingLog();
    const audit = auditTrail(log, observability, [{ studyInstanceUid: STUDY_UID, delivery: { state: 'DELIVERED', target: 'healthimaging', attempts: 1, updatedAt: '2026-01-01T00:00:00Z', instances: 3 } }]);

    const documents = await emfPrintedBy(async () => {
      // Three records that cannot be written; none of the calls throws.
      await audit.codeIssued('K7QF-2M9X-HT4P', 'MRN-4711');
      await audit.deliveries(SESSION.sessionId);
      await audit.filesDeclared(SESSION.sessionId, [{ size: 10 }], '203.0.113.9');
      observability.flush();
    });

    expect(log.attempts).toBe(3);
    expect(documents).toHaveLength(1);
    const [emf] = documents as [{ _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] }; AuditWriteFailures: number; institutionId: string }];
    const [directive] = emf._aws.CloudWatchMetrics;
    expect(directive!.Namespace).toBe('UploadPortal');
    expect(directive!.Dimensions).toEqual([['institutionId']]);
    expect(directive!.Metrics).toEqual([{ Name: 'AuditWriteFailures', Unit: 'Count' }]);
    expect(emf.institutionId).toBe('lakeside');
    // Three failures, summed by Powertools into one value or listed as three.
    expect([emf.AuditWriteFailures].flat().reduce((a: number, b: number) => a + b, 0)).toBe(3);
    const text = JSON.stringify(emf);
    for (const secret of [STUDY_UID, SESSION.sessionId, 'MRN-4711', 'K7QF', '203.0.113.9']) expect(text).not.toContain(secret);
  });

  it('is not emitted when every record is written', async () => {
    const observability = createObservability({ logLevel: 'SILENT', metrics: true });
    observability.setInstitution('lakeside');
    const written: AuditEntry[] = [];
    const audit = auditTrail({ ...refusingLog(), append: async (entry) => (written.push(entry), true) }, observability, []);
    const documents = await emfPrintedBy(async () => {
      await audit.codeIssued('K7QF-2M9X-HT4P');
      observability.flush();
    });
    expect(written).toHaveLength(1);
    expect(documents).toEqual([]);
  });
});
