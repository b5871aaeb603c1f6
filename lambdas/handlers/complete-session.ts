/**
 * POST /sessions/{id}/complete. Parses and authenticates at the edge; the use case decides.
 * 202 with {status: COMPLETING} while the completer works (GET /sessions/{id} shows the outcome),
 * 200 with {status: ACCEPTED|REJECTED, …} once decided (the same answer on every repeat), 422 without
 * consent, 409 while files are in flight (details.fileIds), 400 for a malformed body.
 */
import * as z from 'zod';
import type { AuditTrail } from '../core/audit';
import type { CompleteSessionRequest, CompletionResult } from '../core/complete-session';
import type { CompletionStarted } from '../core/request-completion';
import { bearerToken, httpRoute, jsonResponse, parseJsonBody, parsePathParameters, sourceIp, type ApiEvent, type ApiHandler } from '../runtime/http';
import type { Observability } from '../runtime/observability';
import { sessionPathSchema } from './schemas';

export interface CompleteSessionHandlerDeps {
  /** Throws UnauthorizedError unless `token` is the session's bearer token. */
  authorize(sessionId: string, token: string): Promise<void>;
  completeSession(sessionId: string, request: CompleteSessionRequest): Promise<CompletionResult | CompletionStarted>;
  observability: Observability;
  audit?: AuditTrail;
}

const uid = z.string().regex(/^[0-9]+(\.[0-9]+)*$/, 'must be a DICOM UID').max(64);
const bodySchema = z
  .object({
    studies: z.array(z.object({ studyInstanceUid: uid, comment: z.string().max(2000).optional() }).strict()).max(100).default([]),
    contact: z
      .object({
        email: z.email().max(254).optional(),
        phone: z.string().regex(/^[0-9+()./ -]{3,40}$/, 'must be a phone number').optional(),
      })
      .strict()
      .default({}),
    // Missing or not both true is a 422 CONSENT_REQUIRED from the use case, not a 400.
    consent: z.object({ privacyPolicy: z.boolean(), dataSharing: z.boolean() }).strict().optional(),
  })
  .strict();

export function createCompleteSessionHandler(deps: CompleteSessionHandlerDeps): ApiHandler {
  return httpRoute('CompleteSession', deps.observability, async (event: ApiEvent) => {
    const { id } = parsePathParameters(event, sessionPathSchema);
    await deps.authorize(id, bearerToken(event));
    const body = parseJsonBody(event, bodySchema);
    const result = await deps.completeSession(id, body);
    // The outcome is audited when decided: here, or by the completer (handlers/completer.ts).
    if (result.status !== 'COMPLETING') await deps.audit?.completed(id, result, sourceIp(event));
    return jsonResponse(result.status === 'COMPLETING' ? 202 : 200, result);
  });
}
