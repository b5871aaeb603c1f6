/** POST /sessions/{id}/files/{fileId}/upload-url: a fresh grant (a new presigned PUT, or the multipart upload) for a declared file that has not arrived. */
import type { RenewUploadUrl } from '../core/file-transfers';
import { bearerToken, httpRoute, jsonResponse, parsePathParameters, type ApiHandler } from '../runtime/http';
import type { Observability } from '../runtime/observability';
import { filePathSchema } from './schemas';

export function createRenewUploadUrlHandler(deps: { renewUploadUrl: RenewUploadUrl; observability: Observability }): ApiHandler {
  return httpRoute('RenewUploadUrl', deps.observability, async (event) => {
    const { id, fileId } = parsePathParameters(event, filePathSchema);
    const token = bearerToken(event);
    return jsonResponse(200, await deps.renewUploadUrl({ sessionId: id, token, fileId }));
  });
}
