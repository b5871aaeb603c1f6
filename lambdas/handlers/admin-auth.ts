/**
 * The admin routes' check. On AWS, API Gateway's IAM authorizer guards them and the handler trusts
 * it; in local mode (localAdminTokenHash set) they require `Authorization: Bearer <admin token>`.
 */
import { UnauthorizedError } from '../core/errors';
import type { SecretHasher } from '../core/ports';
import { bearerToken, type ApiEvent } from '../runtime/http';

export interface AdminAuthDeps {
  hasher: SecretHasher;
  /** SHA-256 hex of the admin token (local mode); undefined when IAM authorizes the route. */
  localAdminTokenHash?: string;
}

export function requireAdmin(event: ApiEvent, deps: AdminAuthDeps): void {
  if (deps.localAdminTokenHash !== undefined && !deps.hasher.matches(bearerToken(event), deps.localAdminTokenHash)) {
    throw new UnauthorizedError();
  }
}
