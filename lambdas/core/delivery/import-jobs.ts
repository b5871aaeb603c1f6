/**
 * A study imported in several jobs (import-chunks.ts): each job's state, and the study's state they
 * add up to. The study is DELIVERED only when every job imported; it stays SUBMITTED while any job
 * runs; otherwise it FAILED, retryable only when every failed job may still be imported again.
 */
import type { ImportJobState, StudyDelivery } from '../model';

/** Import jobs per chunk, the first included. */
export const IMPORT_ATTEMPTS = 3;

export type StudyImportState =
  | { state: 'SUBMITTED'; jobId: string }
  | { state: 'DELIVERED'; instances: number }
  | { state: 'FAILED'; reason: string; retryable: boolean };

export function studyStateOf(jobs: readonly ImportJobState[]): StudyImportState {
  const running = jobs.find((j) => j.state === 'SUBMITTED' && j.jobId);
  if (running) return { state: 'SUBMITTED', jobId: running.jobId! };
  const failed = jobs.filter((j) => j.state === 'FAILED');
  if (failed.length === 0) return { state: 'DELIVERED', instances: jobs.reduce((sum, j) => sum + (j.instances ?? 0), 0) };
  const first = failed[0]!;
  const where = jobs.length > 1 ? `import job ${first.chunk + 1} of ${jobs.length}: ` : '';
  return { state: 'FAILED', reason: `${where}${first.reason ?? 'the import failed'}`, retryable: failed.every((j) => j.retryable === true) };
}

/** The job's end written into its entry; a retryable failure out of attempts becomes final and says so. */
export function endJob(job: ImportJobState, outcome: { state: 'DELIVERED'; instances: number } | { state: 'FAILED'; reason: string; retryable: boolean }, canRetry: boolean): ImportJobState {
  if (outcome.state === 'DELIVERED') return { chunk: job.chunk, jobId: job.jobId, attempts: job.attempts, state: 'DELIVERED', instances: outcome.instances };
  const again = outcome.retryable && canRetry && job.attempts < IMPORT_ATTEMPTS;
  const reason = outcome.retryable && !again ? `${outcome.reason} (after ${job.attempts} import attempts)` : outcome.reason;
  return { chunk: job.chunk, ...(job.jobId ? { jobId: job.jobId } : {}), attempts: job.attempts, state: 'FAILED', reason, retryable: again };
}

/** The jobs a study recorded, or for a study recorded before jobs were split, its one job. */
export function jobsOf(delivery: StudyDelivery | undefined): ImportJobState[] | undefined {
  if (!delivery) return undefined;
  if (delivery.jobs) return delivery.jobs;
  if (!delivery.jobId) return undefined;
  const state = delivery.state === 'PENDING' ? 'SUBMITTED' : delivery.state;
  return [{ chunk: 0, jobId: delivery.jobId, attempts: delivery.attempts, state, ...(delivery.reason ? { reason: delivery.reason } : {}), ...(delivery.retryable !== undefined ? { retryable: delivery.retryable } : {}) }];
}
