/** POST /sessions/{id}/files/{fileId}/finish {parts}: completes the file's multipart upload (never over an existing object). */
import type { FinishUpload } from '../core/file-transfers';
import { bearerToken, httpRoute, jsonResponse, parseJsonBody, parsePathParameters, type ApiHandler } from '../runtime/http';
import type { Observability } from '../runtime/observability';
import { filePathSchema, finishUploadSchema } from './schemas';

export function createFinishUploadHandler(deps: { finishUpload: FinishUpload; observability: Observability }): ApiHandler {
  return httpRoute('FinishUpload', deps.observability, async (event) => {
    const { id, fileId } = parsePathParameters(event, filePathSchema);
    const token = bearerToken(event);
    const { parts } = parseJsonBody(event, finishUploadSchema);
    return jsonResponse(200, await deps.finishUpload({ sessionId: id, token, fileId, parts }));
  });
}
