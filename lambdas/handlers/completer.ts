/**
 * The completer: finishes a completion that POST /sessions/{id}/complete locked and queued (core/request-completion.ts).
 * Invoked asynchronously; a thrown error makes Lambda retry the same job, which is safe (finishing is idempotent).
 */
import * as z from 'zod';
import type { AuditTrail } from '../core/audit';
import type { FinishCompletion } from '../core/request-completion';
import type { CompletionJob } from '../core/ports';
import { isId } from '../core/limits';
import type { Observability } from '../runtime/observability';

export interface CompleterDeps {
  finishCompletion: FinishCompletion;
  observability: Observability;
  /** Records the outcome the request could not (it answered 202). */
  audit?: AuditTrail;
}

/** Only what the request handler queued: anything else is logged and dropped (a retry could not mend it). */
const jobSchema = z.object({
  sessionId: z.string().refine(isId, 'must be a session id'),
  lockedAt: z.iso.datetime(),
  request: z.object({
    studies: z.array(z.object({ studyInstanceUid: z.string(), comment: z.string().optional() })),
    contact: z.object({ email: z.string().optional(), phone: z.string().optional() }),
    consent: z.object({ privacyPolicy: z.boolean(), dataSharing: z.boolean() }).optional(),
  }),
});

export function createCompleterHandler(deps: CompleterDeps) {
  return async function completer(event: unknown): Promise<{ status: string } | null> {
    try {
      const parsed = jobSchema.safeParse(event);
      if (!parsed.success) {
        deps.observability.log.error('completion job refused', { issues: parsed.error.issues.map((i) => i.path.join('.')) });
        return null;
      }
      const result = await deps.finishCompletion(parsed.data as CompletionJob);
      if (result) await deps.audit?.completed(parsed.data.sessionId, result);
      return result ? { status: result.status } : null;
    } finally {
      deps.observability.flush();
    }
  };
}
