/**
 * Records the end of an asynchronous import (HealthImaging) on its study: the study that was
 * SUBMITTED with this job becomes DELIVERED or FAILED, with the same event and metric a synchronous
 * delivery produces. A repeated end event changes nothing; a job that still runs, or whose
 * SUBMITTED state is not written yet, throws so the queue brings the event back later.
 */
import { studyRef } from './delivery/study-ref';
import type { StudyDelivery } from './model';
import type { Clock, DeliveryStore, EventPublisher, Log, Metrics, SessionStore } from './ports';
import type { ImportJobResults } from './ports/import-job-results';

export interface RecordImportJobDeps {
  results: ImportJobResults;
  sessions: Pick<SessionStore, 'get'>;
  deliveries: Pick<DeliveryStore, 'deliveries' | 'record'>;
  events: EventPublisher;
  metrics: Metrics;
  log: Log;
  clock: Clock;
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
    const delivery: StudyDelivery =
      outcome.state === 'DELIVERED' ? { ...base, state: 'DELIVERED', instances: outcome.instances } : { ...base, state: 'FAILED', reason: outcome.reason, retryable: outcome.retryable };
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
    if (outcome.state === 'FAILED') {
      await deps.events.publish({ type: 'UploadStudyDeliveryFailed', ...eventBase, reason: outcome.reason, retryable: outcome.retryable });
      deps.metrics.count('StudiesDeliveryFailed');
      deps.log.warn('import job failed', { sessionId: study.sessionId, studyRef: study.studyRef, jobId });
    } else {
      await deps.events.publish({ type: 'UploadStudyDelivered', ...eventBase, instances: outcome.instances, jobId });
      deps.log.info('import job delivered', { sessionId: study.sessionId, studyRef: study.studyRef, jobId, instances: outcome.instances });
    }
    return 'recorded';
  };
}

export type RecordImportJob = ReturnType<typeof makeRecordImportJob>;
