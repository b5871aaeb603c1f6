/** GET /sessions/{id}: the session's state (status, limits, usage, files, studies, rejection). */
import type { GetSession } from '../core/sessions';
import { bearerToken, httpRoute, jsonResponse, parsePathParameters, type ApiHandler } from '../runtime/http';
import type { Observability } from '../runtime/observability';
import { sessionPathSchema } from './schemas';

export function createGetSessionHandler(deps: { getSession: GetSession; observability: Observability }): ApiHandler {
  return httpRoute('GetSession', deps.observability, async (event) => {
    const { id } = parsePathParameters(event, sessionPathSchema);
    const token = bearerToken(event);
    return jsonResponse(200, await deps.getSession({ sessionId: id, token }));
  });
}
