/** GET /sessions/{id}: the session's state (status, limits, usage, files, studies, rejection). */
import type { GetSession } from '../core/sessions';
import { bearerToken, httpRoute, jsonResponse, lazyHandler, parsePathParameters, type ApiHandler } from './http';
import { observability as defaultObservability, type Observability } from './observability';
import { sessionPathSchema } from './schemas';
import { apiDeps } from './wiring';

export function createGetSessionHandler(deps: { getSession: GetSession; observability?: Observability }): ApiHandler {
  return httpRoute('GetSession', deps.observability ?? defaultObservability, async (event) => {
    const { id } = parsePathParameters(event, sessionPathSchema);
    const token = bearerToken(event);
    return jsonResponse(200, await deps.getSession({ sessionId: id, token }));
  });
}

export const handler = lazyHandler(() => createGetSessionHandler(apiDeps()));
