/**
 * Records the end of an asynchronous import (HealthImaging) on its study: the study that was
 * SUBMITTED with this job becomes DELIVERED or FAILED, with the same event and metric a synchronous
 * delivery produces, once: only the run whose conditional write ended the job's SUBMITTED entry
 * records the final state, and its event goes out once through the study's outbox
 * (delivery/study-event.ts). A repeated end event changes nothing but publishing that event if it
 * is still pending (the first run's publish failed, or it died after the write); a job that still
 * runs, or whose SUBMITTED state is not written yet, throws so the queue brings the event back later.
 * A study imported in several jobs (its chunks) ends when its last job ends: DELIVERED when all imported.
 * A job that failed for a reason worth retrying (HealthImaging unavailable, throttled, a partial
 * import) has its study delivered again after a growing pause, which starts only the failed chunks'
 * jobs, IMPORT_ATTEMPTS times per chunk at most; then it FAILS for good.
 *
 * It answers with the session and study the job belongs to (from the job's staging prefix and the
 * session's delivery records), so the caller can audit the study's state without another lookup.
 */
import { endJob, IMPORT_ATTEMPTS, jobsOf, studyStateOf } from './delivery/import-jobs';
import { publishStudyEventOnce, StudyEventBusyError } from './delivery/study-event';
import { studyRef } from './delivery/study-ref';
import type { StudyDelivery } from './model';
import type { Clock, DeliveryRetries, DeliveryStore, EventPublisher, Log, Metrics, SessionStore, StudyEventOutbox } from './ports';
import type { ImportJobResults } from './ports/import-job-results';

export interface RecordImportJobDeps {
  results: ImportJobResults;
  sessions: Pick<SessionStore, 'get'>;
  deliveries: Pick<DeliveryStore, 'deliveries' | 'record'>;
  studyEvents: StudyEventOutbox;
  events: EventPublisher;
  metrics: Metrics;
  log: Log;
  clock: Clock;
  /** Without it (no queue to come back through) a retryable failure is recorded as it is, for the next run. */
  retries?: DeliveryRetries;
}

export { IMPORT_ATTEMPTS };

/** The pause before import attempt `attempt + 1`: 1, 4, then 15 minutes (SQS delays at most 15). */
export function importRetryDelaySeconds(attempt: number): number {
  return Math.min(900, 60 * 4 ** (attempt - 1));
}

export class ImportJobPendingError extends Error {
  override readonly name = 'ImportJobPendingError';
}

/** What became of an import job's end: recorded now, recorded before, or another application's job. */
export type ImportJobRecording = { result: 'recorded' | 'unchanged'; sessionId: string; studyInstanceUid: string } | { result: 'foreign' };

export function makeRecordImportJob(deps: RecordImportJobDeps) {
  return async function recordImportJob(jobId: string): Promise<ImportJobRecording> {
    const { study, outcome } = await deps.results.read(jobId);
    // Another application's import into the same data store: not ours to record.
    if (!study) return { result: 'foreign' };
    if (outcome.state === 'SUBMITTED') throw new ImportJobPendingError('the import job has not ended yet');
    const states = await deps.deliveries.deliveries(study.sessionId);
    const refs = await Promise.all([...states.keys()].map(async (uid) => [uid, await studyRef(uid)] as const));
    const uid = refs.find(([, ref]) => ref === study.studyRef)?.[0];
    const entry = uid === undefined ? undefined : ([uid, states.get(uid)!] as const);
    if (!entry) throw new ImportJobPendingError('the study\'s SUBMITTED state is not recorded yet');
    const [studyInstanceUid, previous] = entry;
    const jobs = jobsOf(previous);
    const job = jobs?.find((j) => j.jobId === jobId);
    const recording = (result: 'recorded' | 'unchanged'): ImportJobRecording => ({ result, sessionId: study.sessionId, studyInstanceUid });
    const announce = async (delivery: StudyDelivery) => {
      const session = await deps.sessions.get(study.sessionId);
      const context = { sessionId: study.sessionId, institutionId: session?.institutionId ?? '', manifestKey: session?.manifestKey, studyRef: study.studyRef };
      // Another run holds the event's claim and may have died: the end event comes back until it went out.
      if ((await publishStudyEventOnce(deps, studyInstanceUid, delivery, context)) === 'busy') throw new StudyEventBusyError('another run holds the study\'s event');
    };
    if (!jobs || !job || job.state !== 'SUBMITTED') {
      if (previous.eventPending) await announce(previous);
      return recording('unchanged');
    }

    const at = deps.clock.now().toISOString();
    const updated = jobs.map((j) => (j === job ? endJob(j, outcome, deps.retries !== undefined) : j));
    const state = studyStateOf(updated);
    const base = { target: previous.target, updatedAt: at, attempts: previous.attempts, jobs: updated };
    // Written only over the state read above: two jobs of one study ending at once cannot lose either
    // end (the loser throws, and the queue brings its event back).
    if (state.state === 'SUBMITTED') {
      await deps.deliveries.record(study.sessionId, studyInstanceUid, { ...base, state: 'SUBMITTED', jobId: state.jobId }, previous.updatedAt);
      deps.log.info('import job ended; others still run', { sessionId: study.sessionId, studyRef: study.studyRef, jobId, state: outcome.state });
      return recording('recorded');
    }
    const failure = state.state === 'FAILED' ? { reason: state.reason, retryable: state.retryable } : undefined;
    const delivery: StudyDelivery = failure ? { ...base, state: 'FAILED', jobId, ...failure } : { ...base, state: 'DELIVERED', jobId, instances: state.state === 'DELIVERED' ? state.instances : 0 };
    // Asked for before the record: were the record lost, this event returns and asks again (the extra
    // run finds the study SUBMITTED and skips it); the other way round the retry could be lost.
    if (failure?.retryable) await deps.retries!.retryLater(study.sessionId, importRetryDelaySeconds(Math.max(...updated.filter((j) => j.state === 'FAILED').map((j) => j.attempts))));
    await deps.deliveries.record(study.sessionId, studyInstanceUid, delivery, previous.updatedAt);
    if (failure) deps.log.warn('import job failed', { sessionId: study.sessionId, studyRef: study.studyRef, jobId, attempts: job.attempts, retryable: failure.retryable });
    else deps.log.info('import job delivered', { sessionId: study.sessionId, studyRef: study.studyRef, jobId, instances: delivery.instances, jobs: updated.length });
    await announce(delivery);
    return recording('recorded');
  };
}

export type RecordImportJob = ReturnType<typeof makeRecordImportJob>;
