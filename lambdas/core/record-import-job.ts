/**
 * Records the end of an asynchronous import (HealthImaging) on its study: the study that was
 * SUBMITTED with this job becomes DELIVERED or FAILED, with the same event and metric a synchronous
 * delivery produces. A repeated end event changes nothing; a job that still runs, or whose
 * SUBMITTED state is not written yet, throws so the queue brings the event back later. A job that
 * failed for a reason worth retrying (HealthImaging unavailable, throttled, a partial import) has its
 * study delivered again after a growing pause, IMPORT_ATTEMPTS times at most; then it FAILS for good.
 */
import { studyRef } from './delivery/study-ref';
import type { StudyDelivery } from './model';
import type { Clock, DeliveryRetries, DeliveryStore, EventPublisher, Log, Metrics, SessionStore } from './ports';
import type { ImportJobResults } from './ports/import-job-results';

export interface RecordImportJobDeps {
  results: ImportJobResults;
  sessions: Pick<SessionStore, 'get'>;
  deliveries: Pick<DeliveryStore, 'deliveries' | 'record'>;
  events: EventPublisher;
  metrics: Metrics;
  log: Log;
  clock: Clock;
  /** Without it (no queue to come back through) a retryable failure is recorded as it is, for the next run. */
  retries?: DeliveryRetries;
}

/** Import jobs per study, the first included. */
export const IMPORT_ATTEMPTS = 3;

/** The pause before import attempt `attempt + 1`: 1, 4, then 15 minutes (SQS delays at most 15). */
export function importRetryDelaySeconds(attempt: number): number {
  return Math.min(900, 60 * 4 ** (attempt - 1));
}

export class ImportJobPendingError extends Error {
  override readonly name = 'ImportJobPendingError';
}

export function makeRecordImportJob(deps: RecordImportJobDeps) {
  return async function recordImportJob(jobId: string): Promise<'recorded' | 'unchanged' | 'foreign'> {
    const { study, outcome } = await deps.results.read(jobId);
    // Another application's import into the same data store: not ours to record.
    if (!study) return 'foreign';
    if (outcome.state === 'SUBMITTED') throw new ImportJobPendingError('the import job has not ended yet');
    const states = await deps.deliveries.deliveries(study.sessionId);
    const refs = await Promise.all([...states.keys()].map(async (uid) => [uid, await studyRef(uid)] as const));
    const uid = refs.find(([, ref]) => ref === study.studyRef)?.[0];
    const entry = uid === undefined ? undefined : ([uid, states.get(uid)!] as const);
    if (!entry) throw new ImportJobPendingError('the study\'s SUBMITTED state is not recorded yet');
    const [studyInstanceUid, previous] = entry;
    if (previous.state !== 'SUBMITTED' || previous.jobId !== jobId) return 'unchanged';

    const at = deps.clock.now().toISOString();
    const base = { target: previous.target, updatedAt: at, attempts: previous.attempts, jobId };
    const again = outcome.state === 'FAILED' && outcome.retryable && deps.retries !== undefined && previous.attempts < IMPORT_ATTEMPTS;
    const failure = outcome.state === 'FAILED' ? finalFailure(outcome, again, previous.attempts) : undefined;
    const delivery: StudyDelivery = failure ? { ...base, state: 'FAILED', ...failure } : { ...base, state: 'DELIVERED', instances: outcome.state === 'DELIVERED' ? outcome.instances : 0 };
    // Asked for before the record: were the record lost, this event returns and asks again (the extra
    // run finds the study SUBMITTED and skips it); the other way round the retry could be lost.
    if (again) await deps.retries!.retryLater(study.sessionId, importRetryDelaySeconds(previous.attempts));
    await deps.deliveries.record(study.sessionId, studyInstanceUid, delivery);
    const session = await deps.sessions.get(study.sessionId);
    const eventBase = {
      sessionId: study.sessionId,
      institutionId: session?.institutionId ?? '',
      ...(session?.manifestKey ? { manifestKey: session.manifestKey } : {}),
      studyRef: study.studyRef,
      target: previous.target,
      at,
    };
    if (failure) {
      await deps.events.publish({ type: 'UploadStudyDeliveryFailed', ...eventBase, ...failure });
      deps.metrics.count('StudiesDeliveryFailed');
      deps.log.warn('import job failed', { sessionId: study.sessionId, studyRef: study.studyRef, jobId, attempts: previous.attempts, retryable: failure.retryable });
    } else if (outcome.state === 'DELIVERED') {
      await deps.events.publish({ type: 'UploadStudyDelivered', ...eventBase, instances: outcome.instances, jobId });
      deps.log.info('import job delivered', { sessionId: study.sessionId, studyRef: study.studyRef, jobId, instances: outcome.instances });
    }
    return 'recorded';
  };
}

export type RecordImportJob = ReturnType<typeof makeRecordImportJob>;

/** A failure to retry stays retryable; a retryable one out of attempts says so and becomes final. */
function finalFailure(outcome: { reason: string; retryable: boolean }, again: boolean, attempts: number): { reason: string; retryable: boolean } {
  if (again || !outcome.retryable) return { reason: outcome.reason, retryable: again };
  return { reason: `${outcome.reason} (after ${attempts} import attempts)`, retryable: false };
}
