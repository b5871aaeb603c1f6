/**
 * The inspector Lambda: SQS batches of S3 ObjectCreated notifications. Each message is inspected
 * on its own; the ones that failed (I/O, throttling) are reported back as batchItemFailures so SQS
 * redelivers only them, and after maxReceiveCount they land in the DLQ.
 */
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { tallyInspection, type AuditTrail, type InspectionTally } from '../core/audit';
import { loggableKey, type InspectionOutcome, type ObjectCreated } from '../core/inspect-object';
import type { Observability } from '../runtime/observability';

export interface InspectorDeps {
  inspectObject(event: ObjectCreated): Promise<InspectionOutcome>;
  observability: Observability;
  audit?: AuditTrail;
}

const s3Notification = z.object({
  Records: z.array(
    z.object({
      eventName: z.string(),
      s3: z.object({ object: z.object({ key: z.string().min(1), eTag: z.string().optional() }) }),
    }),
  ),
});
/** S3 sends this once when the notification is configured; there is nothing to inspect. */
const testEvent = z.object({ Event: z.literal('s3:TestEvent') });

/** S3 URL-encodes keys in notifications, with '+' for spaces. */
export function decodeS3Key(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '));
}

export function createInspectorHandler(deps: InspectorDeps) {
  const { logger } = deps.observability;

  async function inspectMessage(message: SQSRecord, tally: InspectionTally): Promise<void> {
    const body: unknown = JSON.parse(message.body);
    if (testEvent.safeParse(body).success) return;
    const notification = s3Notification.parse(body);
    for (const record of notification.Records) {
      if (!record.eventName.startsWith('ObjectCreated:')) continue;
      let key: string;
      try {
        key = decodeS3Key(record.s3.object.key);
      } catch {
        // A key S3 never encoded this way cannot be one we issued; there is no real object to delete by it.
        logger.warn('undecodable object key', { messageId: message.messageId });
        deps.observability.count('UnknownObjects');
        continue;
      }
      const outcome = await deps.inspectObject({ key, ...(record.s3.object.eTag ? { etag: record.s3.object.eTag } : {}) });
      logger.info('object handled', { key: loggableKey(key), outcome });
      tallyInspection(tally, key, outcome);
    }
  }

  return async function inspector(event: SQSEvent): Promise<SQSBatchResponse> {
    const tally: InspectionTally = new Map();
    const results = await Promise.allSettled(event.Records.map((message) => inspectMessage(message, tally)));
    await deps.audit?.filesInspected(tally);
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    results.forEach((result, i) => {
      if (result.status === 'fulfilled') return;
      const messageId = event.Records[i]!.messageId;
      batchItemFailures.push({ itemIdentifier: messageId });
      // Name and stack only: a message could quote bytes or header values.
      const error = result.reason as Error;
      logger.error('message failed; SQS will redeliver it', { messageId, errorName: error?.name, stack: error?.stack?.split('\n').slice(1, 6).join('\n') });
    });
    deps.observability.flush();
    return { batchItemFailures };
  };
}
