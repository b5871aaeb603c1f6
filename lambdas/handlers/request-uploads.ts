/**
 * POST /sessions/{id}/uploads {files}: checks the rules against the session plus the batch, reserves
 * atomically and answers 201 with a presigned PUT per file (422 with the rule's message otherwise).
 */
import type { AuditTrail } from '../core/audit';
import type { RequestUploads } from '../core/uploads';
import { bearerToken, httpRoute, jsonResponse, parseJsonBody, parsePathParameters, sourceIp, type ApiHandler } from '../runtime/http';
import type { Observability } from '../runtime/observability';
import { requestUploadsSchema, sessionPathSchema } from './schemas';

export function createRequestUploadsHandler(deps: { requestUploads: RequestUploads; observability: Observability; audit?: AuditTrail }): ApiHandler {
  const observability = deps.observability;
  return httpRoute('RequestUploads', observability, async (event) => {
    const { id } = parsePathParameters(event, sessionPathSchema);
    const token = bearerToken(event);
    const { files } = parseJsonBody(event, requestUploadsSchema);
    const result = await deps.requestUploads({ sessionId: id, token, files });
    observability.count('FilesReserved', files.length);
    observability.count('BytesReserved', files.reduce((sum, f) => sum + f.size, 0));
    await deps.audit?.filesDeclared(id, files, sourceIp(event));
    return jsonResponse(201, result);
  });
}
