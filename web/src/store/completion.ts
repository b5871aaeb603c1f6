/**
 * POST …/complete may answer 202 with status COMPLETING: the server finishes a large session outside the request
 * (its completer), and GET /sessions/{id} shows the outcome. This waits for it by polling the first page of the
 * session view (status and counts, whatever the number of files). When the session is OPEN again the server gave
 * the completion back (its checks refused it); asking again brings the reason. A completion that never ends (its
 * lock outlives the server's timeout) is asked for again, which takes the stale lock over.
 */
import { ApiError, type ApiClient, type CompleteRequest, type SessionState } from '../api';

const POLL_MS = 1000;
/** The server's completion lock timeout (core/complete-session.ts LOCK_TIMEOUT_MS) and a little more. */
const ASK_AGAIN_AFTER_MS = 5.5 * 60_000;
const GIVE_UP_AFTER_MS = 15 * 60_000;

/** The decided answer (ACCEPTED or REJECTED) for a completion request, however the server answered it. */
export async function completeAndWait(api: Pick<ApiClient, 'complete' | 'getSessionSummary'>, sessionId: string, body: CompleteRequest): Promise<SessionState> {
  const started = Date.now();
  let askedAt = started;
  let current = await api.complete(sessionId, body);
  while (current.status === 'COMPLETING' || current.status === 'OPEN') {
    if (Date.now() - started > GIVE_UP_AFTER_MS) throw new ApiError(0, 'NETWORK', 'The completion did not finish');
    if (current.status === 'OPEN' || Date.now() - askedAt > ASK_AGAIN_AFTER_MS) {
      askedAt = Date.now();
      current = await api.complete(sessionId, body);
      continue;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    current = await api.getSessionSummary(sessionId);
  }
  return current;
}
