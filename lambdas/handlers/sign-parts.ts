/** POST /sessions/{id}/files/{fileId}/parts {parts}: a presigned UploadPart URL per part, pinned to its size and SHA-256. */
import type { SignParts } from '../core/file-transfers';
import { bearerToken, httpRoute, jsonResponse, parseJsonBody, parsePathParameters, type ApiHandler } from '../runtime/http';
import type { Observability } from '../runtime/observability';
import { filePathSchema, signPartsSchema } from './schemas';

export function createSignPartsHandler(deps: { signParts: SignParts; observability: Observability }): ApiHandler {
  return httpRoute('SignParts', deps.observability, async (event) => {
    const { id, fileId } = parsePathParameters(event, filePathSchema);
    const token = bearerToken(event);
    const { parts } = parseJsonBody(event, signPartsSchema);
    return jsonResponse(200, await deps.signParts({ sessionId: id, token, fileId, parts }));
  });
}
