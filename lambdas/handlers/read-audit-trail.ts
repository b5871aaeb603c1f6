/**
 * GET /admin/audit?reference=R | codeId=X | securityDay=YYYY-MM-DD: the audit records of a code (all
 * codes issued with a reference) or a day's failed redemptions, oldest first (admin).
 */
import type { ReadAuditTrail } from '../core/audit';
import { httpRoute, jsonResponse, parseQueryParameters, type ApiHandler } from '../runtime/http';
import type { Observability } from '../runtime/observability';
import { requireAdmin, type AdminAuthDeps } from './admin-auth';
import { readAuditTrailSchema } from './schemas';

export function createReadAuditTrailHandler(deps: AdminAuthDeps & { readAuditTrail: ReadAuditTrail; observability: Observability }): ApiHandler {
  return httpRoute('ReadAuditTrail', deps.observability, async (event) => {
    requireAdmin(event, deps);
    return jsonResponse(200, await deps.readAuditTrail(parseQueryParameters(event, readAuditTrailSchema)));
  });
}
