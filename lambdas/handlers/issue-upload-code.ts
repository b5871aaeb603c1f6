/**
 * POST /admin/upload-codes {maxSessionBytes?, validDays?, reference?}: issues a code (201), shown
 * once. On AWS, API Gateway's IAM authorizer guards this route and the handler trusts it; in local
 * mode (localAdminTokenHash set) it requires `Authorization: Bearer <admin token>`.
 */
import type { AuditTrail } from '../core/audit';
import type { IssueUploadCode } from '../core/codes';
import { httpRoute, jsonResponse, parseJsonBody, type ApiHandler } from '../runtime/http';
import type { Observability } from '../runtime/observability';
import { requireAdmin, type AdminAuthDeps } from './admin-auth';
import { issueUploadCodeSchema } from './schemas';

export function createIssueUploadCodeHandler(deps: AdminAuthDeps & { issueUploadCode: IssueUploadCode; observability: Observability; audit?: AuditTrail }): ApiHandler {
  const observability = deps.observability;
  return httpRoute('IssueUploadCode', observability, async (event) => {
    requireAdmin(event, deps);
    const input = parseJsonBody(event, issueUploadCodeSchema, { allowEmpty: true });
    const issued = await deps.issueUploadCode(input);
    observability.count('CodesIssued');
    await deps.audit?.codeIssued(issued.code, issued.reference);
    return jsonResponse(201, issued);
  });
}
