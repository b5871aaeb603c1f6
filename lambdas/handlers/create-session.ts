/** POST /sessions {uploadCode}: redeems a code (201, new session) or resumes its OPEN session (200). */
import { RateLimitedError, UnauthorizedError } from '../core/errors';
import type { AuditTrail } from '../core/audit';
import type { OpenSession } from '../core/sessions';
import { httpRoute, jsonResponse, parseJsonBody, sourceIp, type ApiHandler } from '../runtime/http';
import type { Observability } from '../runtime/observability';
import { createSessionSchema } from './schemas';

export function createCreateSessionHandler(deps: { openSession: OpenSession; observability: Observability; audit?: AuditTrail }): ApiHandler {
  const observability = deps.observability;
  return httpRoute('CreateSession', observability, async (event) => {
    const { uploadCode } = parseJsonBody(event, createSessionSchema);
    try {
      const { created, ...session } = await deps.openSession({ uploadCode, clientAddress: sourceIp(event) });
      observability.count(created ? 'SessionsOpened' : 'SessionsResumed');
      await deps.audit?.redeemed(session.sessionId, created, sourceIp(event));
      return jsonResponse(created ? 201 : 200, session);
    } catch (error) {
      if (error instanceof UnauthorizedError || error instanceof RateLimitedError) observability.count('CodeRedemptionFailures');
      if (error instanceof UnauthorizedError || error instanceof RateLimitedError) await deps.audit?.redemptionFailed(error instanceof RateLimitedError ? 'RATE_LIMITED' : 'INVALID_CODE', sourceIp(event));
      throw error;
    }
  });
}
