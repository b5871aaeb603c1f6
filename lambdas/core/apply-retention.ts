/**
 * Re-tags an accepted session's file objects `upload-state=accepted`, so the bucket lifecycle keeps
 * them for retention.acceptedDays instead of expiring them as pending (core/retention.ts).
 *
 * This runs after acceptance, not inside it: completion answers as soon as the session is ACCEPTED
 * and leaves `retentionDueSince` on it. The sweeper then tags the files, right away when the
 * UploadSessionAccepted event reaches it and on every scheduled sweep until it is done. A session
 * of thousands of files would otherwise keep the uploader waiting through one tagging request
 * per file. The pending rule expires data only after retention.pendingDays, which leaves days for
 * retries (the sweeper's failures alarm long before then).
 */
import type { SessionRecord } from './model';
import type { Clock, Log, RetentionMarker, SessionStore, SweepQueue } from './ports';

export interface ApplyRetentionDeps {
  sessions: Pick<SessionStore, 'listFiles'>;
  sweepQueue: SweepQueue;
  retention: RetentionMarker;
  log: Log;
  clock: Clock;
}

/** Tags the files of an accepted session still awaiting it; returns how many objects were tagged, or null when it was not due. */
export function makeApplyRetention(deps: ApplyRetentionDeps) {
  return async function applyRetention(session: SessionRecord): Promise<number | null> {
    if (session.status !== 'ACCEPTED' || !session.retentionDueSince) return null;
    // The files the manifest lists: every one still declared (all of them VERIFIED, or the session
    // would not have been accepted).
    const keys = (await deps.sessions.listFiles(session.sessionId)).filter((f) => f.status !== 'REMOVED').map((f) => f.objectKey);
    await deps.retention.markAccepted(keys);
    await deps.sweepQueue.markRetentionApplied(session.sessionId, deps.clock.now().toISOString());
    deps.log.info('retention tags applied', { sessionId: session.sessionId, objects: keys.length });
    return keys.length;
  };
}

export type ApplyRetention = ReturnType<typeof makeApplyRetention>;
