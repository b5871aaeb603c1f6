/**
 * GET /sessions/{id} at any size: the session, its counts and its study totals, and one page of its files. Its cost
 * is three reads (the session item, the study items, one page of file items), whatever the number of files: the
 * portal polls it while thousands of files upload. The counts come from counters the verdicts keep on the session
 * item (adapters/dynamo-verdict-store.ts), not from reading the files.
 */
import type { InstitutionConfig } from './institution';
import type { SessionRecord, SessionTotals } from './model';
import type { Clock, SecretHasher, SessionFilePages, SessionStore } from './ports';
import { authenticate, sessionView, type SessionView } from './sessions';

/** Files per page of GET /sessions/{id}. */
export const FILES_PAGE_LIMIT = 1000;

/** Where a page of files continues: the opaque `nextCursor` of the page before (a file id). */
export const FILES_CURSOR_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export interface SessionCounts {
  /** Files declared and not removed. */
  declared: number;
  /** Files whose object arrived and was judged (verified + rejected). */
  received: number;
  verified: number;
  rejected: number;
}

export interface SessionSummary extends SessionView {
  counts: SessionCounts;
  /** Present when more files follow: pass it as `?cursor=` for the next page. */
  nextCursor?: string;
}

export type GetSessionSummary = (input: { sessionId: string; token: string; cursor?: string }) => Promise<SessionSummary>;

export function countsOf(session: SessionRecord): SessionCounts {
  const verified = session.verifiedCount ?? 0;
  const rejected = session.rejectedCount ?? 0;
  return { declared: session.dicomCount + session.attachmentCount, received: verified + rejected, verified, rejected };
}

export function makeGetSessionSummary(deps: {
  sessions: Pick<SessionStore, 'loadTotals'> & SessionFilePages;
  hasher: SecretHasher;
  clock: Clock;
  institution: InstitutionConfig;
}): GetSessionSummary {
  return async ({ sessionId, token, cursor }) => {
    // The page is read alongside the totals; it is only shown once the token matched.
    const [totals, page] = await Promise.all([
      deps.sessions.loadTotals(sessionId),
      deps.sessions.loadFilesPage(sessionId, { ...(cursor ? { cursor } : {}), limit: FILES_PAGE_LIMIT }),
    ]);
    const session = authenticate(totals?.session, token, deps.hasher);
    const { studies } = totals as SessionTotals;
    const view = sessionView({ session, studies, files: page.files }, deps.institution, deps.clock.now());
    return { ...view, counts: countsOf(session), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
  };
}
