/**
 * DeliveryRetries on the delivery queue itself: a delayed message shaped like the UploadSessionAccepted
 * event the queue already carries, so the delivery Lambda runs the session again (its delivered studies
 * are skipped, the failed one is claimed and imported anew).
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DeliveryRetries } from '../core/ports';

/** SQS delays a message by at most 15 minutes. */
const MAX_DELAY_SECONDS = 900;

export class SqsDeliveryRetries implements DeliveryRetries {
  constructor(private readonly options: { sqs: SQSClient; queueUrl: string }) {}

  async retryLater(sessionId: string, delaySeconds: number): Promise<void> {
    await this.options.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.options.queueUrl,
        DelaySeconds: Math.max(0, Math.min(MAX_DELAY_SECONDS, Math.round(delaySeconds))),
        // The session id only, as in the accepted event: no header data on the queue.
        MessageBody: JSON.stringify({ source: 'upload-portal.delivery-retry', 'detail-type': 'UploadSessionAccepted', detail: { sessionId } }),
      }),
    );
  }
}
