/** GET /sessions/{id}/files/{fileId}/parts: the parts S3 holds of the file's multipart upload, to resume from. */
import type { ListParts } from '../core/file-transfers';
import { bearerToken, httpRoute, jsonResponse, parsePathParameters, type ApiHandler } from '../runtime/http';
import type { Observability } from '../runtime/observability';
import { filePathSchema } from './schemas';

export function createListPartsHandler(deps: { listParts: ListParts; observability: Observability }): ApiHandler {
  return httpRoute('ListParts', deps.observability, async (event) => {
    const { id, fileId } = parsePathParameters(event, filePathSchema);
    const token = bearerToken(event);
    return jsonResponse(200, await deps.listParts({ sessionId: id, token, fileId }));
  });
}
