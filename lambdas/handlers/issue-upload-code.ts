/**
 * POST /admin/upload-codes {maxSessionBytes?, validDays?, reference?}: issues a code (201), shown
 * once. On AWS, API Gateway's IAM authorizer guards this route and the handler trusts it; in local
 * mode (localAdminTokenHash set) it requires `Authorization: Bearer <admin token>`.
 */
import type { IssueUploadCode } from '../core/codes';
import { UnauthorizedError } from '../core/errors';
import type { SecretHasher } from '../core/ports';
import { bearerToken, httpRoute, jsonResponse, parseJsonBody, type ApiHandler } from '../runtime/http';
import type { Observability } from '../runtime/observability';
import { issueUploadCodeSchema } from './schemas';

export function createIssueUploadCodeHandler(deps: {
  issueUploadCode: IssueUploadCode;
  hasher: SecretHasher;
  /** SHA-256 hex of the admin token (local mode); undefined when IAM authorizes the route. */
  localAdminTokenHash?: string;
  observability: Observability;
}): ApiHandler {
  const observability = deps.observability;
  return httpRoute('IssueUploadCode', observability, async (event) => {
    if (deps.localAdminTokenHash !== undefined && !deps.hasher.matches(bearerToken(event), deps.localAdminTokenHash)) {
      throw new UnauthorizedError();
    }
    const input = parseJsonBody(event, issueUploadCodeSchema, { allowEmpty: true });
    const issued = await deps.issueUploadCode(input);
    observability.count('CodesIssued');
    return jsonResponse(201, issued);
  });
}
