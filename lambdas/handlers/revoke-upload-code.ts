/**
 * POST /admin/upload-codes/revoke {code | reference | codeId}: ends the code(s) and an OPEN session,
 * deleting what it uploaded (admin). The code travels in the body: paths land in access logs.
 */
import type { AuditTrail } from '../core/audit';
import type { RevokeUploadCode } from '../core/code-admin';
import { httpRoute, jsonResponse, parseJsonBody, type ApiHandler } from '../runtime/http';
import type { Observability } from '../runtime/observability';
import { requireAdmin, type AdminAuthDeps } from './admin-auth';
import { revokeUploadCodeSchema } from './schemas';

export function createRevokeUploadCodeHandler(deps: AdminAuthDeps & { revokeUploadCode: RevokeUploadCode; observability: Observability; audit?: AuditTrail }): ApiHandler {
  const { observability } = deps;
  return httpRoute('RevokeUploadCode', observability, async (event) => {
    requireAdmin(event, deps);
    const result = await deps.revokeUploadCode(parseJsonBody(event, revokeUploadCodeSchema));
    observability.count('CodesRevoked', result.revoked);
    await deps.audit?.revoked(result);
    return jsonResponse(200, result);
  });
}
