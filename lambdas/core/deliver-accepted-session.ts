/**
 * Delivers an accepted session to the hospital, study by study: picks each study's verified objects,
 * asks the target (the PACS over DICOMweb, or HealthImaging) to take them, and records the study's
 * state (PENDING → DELIVERED | FAILED, or SUBMITTED for an asynchronous target) with an event per
 * outcome. A SUBMITTED study is not delivered yet: it counts only as submitted, and its delivered or
 * failed event and count come once, when its import ends (record-import-job.ts). A study already
 * DELIVERED or SUBMITTED is skipped, so a repeated or resumed run sends nothing twice; the target's
 * UIDs keep a redelivered study from duplicating in the PACS. A final state's event and count go out
 * once (delivery/study-event.ts): a run that finds one still pending (its publish failed, or the run
 * that recorded it died) publishes it before anything else happens to the study.
 */
import { jobsOf } from './delivery/import-jobs';
import { publishStudyEventOnce, type StudyEventContext } from './delivery/study-event';
import { studyRef } from './delivery/study-ref';
import type { FileRecord, StudyDelivery } from './model';
import type { Clock, DeliveryObject, DeliveryStore, DeliveryTarget, EventPublisher, Log, Metrics, SessionStore, StudyDeliveryOutcome, StudyDeliveryRequest, StudyEventOutbox } from './ports';

export interface DeliverAcceptedSessionDeps {
  sessions: Pick<SessionStore, 'get' | 'listFiles'>;
  deliveries: DeliveryStore;
  studyEvents: StudyEventOutbox;
  target: DeliveryTarget;
  events: EventPublisher;
  metrics: Metrics;
  log: Log;
  clock: Clock;
  /** A PENDING claim older than this was left by an attempt that died; another may take over. */
  claimTimeoutMs?: number;
}

export interface SessionDeliveryResult {
  /** Studies this run delivered. */
  delivered: number;
  /** Studies this run submitted for an asynchronous import (HealthImaging); delivered when it ends. */
  submitted: number;
  /** Studies that failed for good; the hospital follows up. */
  failed: number;
  /** Studies that failed for now: the caller retries the session (the queue's redelivery). */
  retryable: number;
  /** Studies delivered (or failed for good) before. */
  skipped: number;
  /** Studies another run is delivering right now. */
  busy: number;
}

/** Groups the verified objects by study: images by the study their header names, attachments by their link. */
export function studiesOf(files: readonly FileRecord[]): Map<string, DeliveryObject[]> {
  const verified = files.filter((f) => f.status === 'VERIFIED');
  const studies = new Map<string, DeliveryObject[]>();
  const add = (uid: string, object: DeliveryObject) => studies.set(uid, [...(studies.get(uid) ?? []), object]);
  for (const f of verified.filter((v) => v.kind === 'dicom')) {
    add(f.header?.studyInstanceUid ?? f.studyInstanceUid, { key: f.objectKey, fileId: f.fileId, size: f.size, kind: 'dicom', sopInstanceUid: f.header?.sopInstanceUid ?? f.sopInstanceUid });
  }
  const imageStudies = [...studies.keys()];
  for (const f of verified.filter((v) => v.kind === 'attachment')) {
    // An attachment linked automatically to the only study may carry no study of its own.
    const uid = studies.has(f.studyInstanceUid) || imageStudies.length !== 1 ? f.studyInstanceUid : imageStudies[0]!;
    const type = f.detectedType as DeliveryObject['attachmentType'];
    add(uid, { key: f.objectKey, fileId: f.fileId, size: f.size, kind: 'attachment', ...(type ? { attachmentType: type } : {}) });
  }
  return studies;
}

export function makeDeliverAcceptedSession(deps: DeliverAcceptedSessionDeps) {
  const claimTimeoutMs = deps.claimTimeoutMs ?? 15 * 60 * 1000;

  async function deliverStudy(request: StudyDeliveryRequest, previous: StudyDelivery | undefined, context: StudyEventContext) {
    const startedAt = deps.clock.now();
    const staleBefore = new Date(startedAt.getTime() - claimTimeoutMs).toISOString();
    if (!(await deps.deliveries.claim(request.sessionId, request.studyInstanceUid, deps.target.type, startedAt.toISOString(), staleBefore))) return 'busy' as const;
    // A target reports its failures as outcomes; anything it throws is recorded too, so the claim never lingers.
    const outcome: StudyDeliveryOutcome = await deps.target
      .deliverStudy(request)
      .catch((error: unknown) => ({ state: 'FAILED' as const, reason: `delivery stopped unexpectedly (${(error as Error)?.name ?? 'error'})`, retryable: true }));
    const at = deps.clock.now().toISOString();
    const base = { target: deps.target.type, updatedAt: at, attempts: (previous?.attempts ?? 0) + 1 };
    const delivery: StudyDelivery =
      outcome.state === 'DELIVERED'
        ? { ...base, state: 'DELIVERED', instances: outcome.instances }
        : outcome.state === 'SUBMITTED'
          ? { ...base, state: 'SUBMITTED', jobId: outcome.jobId, ...(outcome.jobs ? { jobs: outcome.jobs } : {}) }
          : { ...base, state: 'FAILED', reason: outcome.reason, retryable: outcome.retryable, ...(outcome.jobs ? { jobs: outcome.jobs } : {}) };
    await deps.deliveries.record(request.sessionId, request.studyInstanceUid, delivery);
    const logged = { sessionId: request.sessionId, studyRef: context.studyRef };
    if (outcome.state === 'FAILED') {
      deps.log.warn('study delivery failed', { ...logged, reason: outcome.reason, retryable: outcome.retryable });
      if ((await publishStudyEventOnce(deps, request.studyInstanceUid, delivery, context)) === 'busy') return 'busy' as const;
      return outcome.retryable ? ('retryable' as const) : ('failed' as const);
    }
    if (outcome.state === 'SUBMITTED') {
      // Nothing is delivered yet: the import's end counts and announces the study, once.
      deps.metrics.count('StudiesSubmittedForImport');
      deps.log.info('study submitted for import', { ...logged, jobs: outcome.jobs?.length ?? 1, ms: Date.parse(at) - startedAt.getTime() });
      return 'submitted' as const;
    }
    deps.log.info('study delivered', { ...logged, ms: Date.parse(at) - startedAt.getTime() });
    // Busy only if another run took the event over in between: this message must come back for it.
    if ((await publishStudyEventOnce(deps, request.studyInstanceUid, delivery, context)) === 'busy') return 'busy' as const;
    return 'delivered' as const;
  }

  /** Delivers every study of an accepted session that is not delivered yet; other sessions are left alone. */
  return async function deliverAcceptedSession(sessionId: string): Promise<SessionDeliveryResult> {
    const result: SessionDeliveryResult = { delivered: 0, submitted: 0, failed: 0, retryable: 0, skipped: 0, busy: 0 };
    const session = await deps.sessions.get(sessionId);
    if (session?.status !== 'ACCEPTED') return result;
    const [files, states] = await Promise.all([deps.sessions.listFiles(sessionId), deps.deliveries.deliveries(sessionId)]);
    for (const [studyInstanceUid, objects] of studiesOf(files)) {
      const previous = states.get(studyInstanceUid);
      const context = { sessionId, institutionId: session.institutionId, manifestKey: session.manifestKey, studyRef: await studyRef(studyInstanceUid) };
      // An earlier final state's event first: a failed publish throws, and one another run holds (it may
      // have died) leaves the study alone for now; either way the message comes back for it.
      if (previous?.eventPending && (await publishStudyEventOnce(deps, studyInstanceUid, previous, context)) === 'busy') {
        result.busy++;
        continue;
      }
      if (previous?.state === 'DELIVERED' || previous?.state === 'SUBMITTED' || (previous?.state === 'FAILED' && !previous.retryable)) {
        result.skipped++;
        continue;
      }
      const imports = jobsOf(previous);
      const request: StudyDeliveryRequest = {
        sessionId,
        studyInstanceUid,
        objects,
        attempt: (previous?.attempts ?? 0) + 1,
        ...(imports ? { imports } : {}),
        ...(session.codeReference ? { reference: session.codeReference } : {}),
      };
      const outcome = await deliverStudy(request, previous, context);
      result[outcome]++;
    }
    if (result.retryable === 0 && result.busy === 0) await deps.deliveries.markSessionDelivered(sessionId, deps.clock.now().toISOString());
    return result;
  };
}

export type DeliverAcceptedSession = ReturnType<typeof makeDeliverAcceptedSession>;
