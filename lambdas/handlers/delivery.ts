/**
 * The delivery Lambda: SQS batches of EventBridge events (lib/delivery.ts). UploadSessionAccepted
 * delivers the session's studies; a HealthImaging import job's end reads its result back. Both
 * audit the study's delivery state. A record whose work threw is reported as a batch item failure,
 * so SQS retries it alone and, after maxReceiveCount tries, moves it to the DLQ (which alarms); a
 * record that succeeded is not retried.
 */
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import type { AuditTrail } from '../core/audit';
import type { Observability } from '../runtime/observability';

/** The study an import job belongs to, as its staging prefix and the session's delivery records name it. */
export interface ImportedStudy {
  sessionId: string;
  studyInstanceUid: string;
}

export interface DeliveryDeps {
  deliverAcceptedSession(sessionId: string): Promise<void>;
  /** HealthImaging: records the result of an import job that ended; answers its study, unless the job is not ours. */
  recordImportJob(jobId: string): Promise<ImportedStudy | undefined>;
  observability: Observability;
  audit?: AuditTrail;
}

const accepted = z.object({ 'detail-type': z.literal('UploadSessionAccepted'), detail: z.object({ sessionId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/) }) });
const importJobEnded = z.object({
  source: z.literal('aws.medical-imaging'),
  'detail-type': z.enum(['Import Job Completed', 'Import Job Failed']),
  detail: z.object({ jobId: z.string().regex(/^[0-9a-z]{1,32}$/) }),
});

export function createDeliveryHandler(deps: DeliveryDeps) {
  const { logger } = deps.observability;

  async function handle(message: SQSRecord): Promise<void> {
    const event: unknown = JSON.parse(message.body);
    const session = accepted.safeParse(event);
    if (session.success) return deps.deliverAcceptedSession(session.data.detail.sessionId).finally(() => deps.audit?.deliveries(session.data.detail.sessionId));
    const job = importJobEnded.safeParse(event);
    // The study's end state is audited like a DICOMweb delivery's; a repeated end event writes no second record.
    if (job.success) {
      const study = await deps.recordImportJob(job.data.detail.jobId);
      if (study) await deps.audit?.deliveries(study.sessionId, study.studyInstanceUid);
      return;
    }
    // Not ours to guess at: failing it sends it to the DLQ, where the alarm shows it.
    throw Object.assign(new Error('unrecognised delivery event'), { name: 'UnrecognisedEvent' });
  }

  return async function delivery(event: SQSEvent): Promise<SQSBatchResponse> {
    const results = await Promise.allSettled(event.Records.map(handle));
    const batchItemFailures = results.flatMap((result, i) => {
      if (result.status === 'fulfilled') return [];
      const error = result.reason as Error;
      // Name and stack only: a message could quote header values.
      logger.error('delivery failed; SQS will retry it', { messageId: event.Records[i]!.messageId, errorName: error?.name, stack: error?.stack?.split('\n').slice(1, 6).join('\n') });
      return [{ itemIdentifier: event.Records[i]!.messageId }];
    });
    deps.observability.flush();
    return { batchItemFailures };
  }
}
