/** GET /admin/upload-codes: the institution's codes, what became of each and its session (admin). */
import type { ListUploadCodes } from '../core/code-admin';
import { httpRoute, jsonResponse, type ApiHandler } from '../runtime/http';
import type { Observability } from '../runtime/observability';
import { requireAdmin, type AdminAuthDeps } from './admin-auth';

export function createListUploadCodesHandler(deps: AdminAuthDeps & { listUploadCodes: ListUploadCodes; observability: Observability }): ApiHandler {
  return httpRoute('ListUploadCodes', deps.observability, async (event) => {
    requireAdmin(event, deps);
    return jsonResponse(200, await deps.listUploadCodes());
  });
}
