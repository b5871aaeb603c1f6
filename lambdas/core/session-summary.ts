/**
 * GET /sessions/{id} at any size: the session, its counts and its study totals, and one page of its files. Its cost
 * is three reads (the session item, the study items, one page of file items), whatever the number of files: the
 * portal polls it while thousands of files upload. The counts come from counters the verdicts keep on the session
 * item (adapters/dynamo-verdict-store.ts), not from reading the files.
 */
import type { InstitutionConfig } from './institution';
import type { SessionTotals } from './model';
import type { Clock, SecretHasher, SessionFilePages, SessionStore } from './ports';
import { authenticate, fileCounts, sessionView, type FileCounts, type SessionView } from './sessions';

/** Files per page of GET /sessions/{id}. */
export const FILES_PAGE_LIMIT = 1000;

/** Where a page of files continues: the opaque `nextCursor` of the page before (a file id). */
export const FILES_CURSOR_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export interface SessionSummary extends SessionView {
  counts: FileCounts;
  /** Present when more files follow: pass it as `?cursor=` for the next page. */
  nextCursor?: string;
}

export type GetSessionSummary = (input: { sessionId: string; token: string; cursor?: string }) => Promise<SessionSummary>;

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
    return { ...view, counts: fileCounts(session), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
  };
}
