/** DELETE /sessions/{id}/files/{fileId}: releases the file's reservation once and deletes its object (204). */
import type { AuditTrail } from '../core/audit';
import type { RemoveFile } from '../core/uploads';
import { bearerToken, httpRoute, noContent, parsePathParameters, sourceIp, type ApiHandler } from '../runtime/http';
import type { Observability } from '../runtime/observability';
import { filePathSchema } from './schemas';

export function createRemoveFileHandler(deps: { removeFile: RemoveFile; observability: Observability; audit?: AuditTrail }): ApiHandler {
  return httpRoute('RemoveFile', deps.observability, async (event) => {
    const { id, fileId } = parsePathParameters(event, filePathSchema);
    const token = bearerToken(event);
    await deps.removeFile({ sessionId: id, token, fileId });
    await deps.audit?.fileRemoved(id, sourceIp(event));
    return noContent();
  });
}
