/** DELETE /sessions/{id}/files/{fileId}: releases the file's reservation once and deletes its object (204). */
import type { RemoveFile } from '../core/uploads';
import { bearerToken, httpRoute, lazyHandler, noContent, parsePathParameters, type ApiHandler } from './http';
import { observability as defaultObservability, type Observability } from './observability';
import { filePathSchema } from './schemas';
import { apiDeps } from './wiring';

export function createRemoveFileHandler(deps: { removeFile: RemoveFile; observability?: Observability }): ApiHandler {
  return httpRoute('RemoveFile', deps.observability ?? defaultObservability, async (event) => {
    const { id, fileId } = parsePathParameters(event, filePathSchema);
    const token = bearerToken(event);
    await deps.removeFile({ sessionId: id, token, fileId });
    return noContent();
  });
}

export const handler = lazyHandler(() => createRemoveFileHandler(apiDeps()));
