/** GET /sessions/{id}[?cursor=]: the session's state, counts and study totals, and one page of its files. */
import type { GetSessionSummary } from '../core/session-summary';
import { bearerToken, httpRoute, jsonResponse, parsePathParameters, parseQueryParameters, type ApiHandler } from '../runtime/http';
import type { Observability } from '../runtime/observability';
import { sessionPathSchema, sessionQuerySchema } from './schemas';

export function createGetSessionHandler(deps: { getSession: GetSessionSummary; observability: Observability }): ApiHandler {
  return httpRoute('GetSession', deps.observability, async (event) => {
    const { id } = parsePathParameters(event, sessionPathSchema);
    const { cursor } = parseQueryParameters(event, sessionQuerySchema);
    const token = bearerToken(event);
    return jsonResponse(200, await deps.getSession({ sessionId: id, token, ...(cursor ? { cursor } : {}) }));
  });
}
