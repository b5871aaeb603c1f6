/**
 * The delivery Lambda entry: each SQS record holds an EventBridge event; a record whose work threw
 * is reported as a batch item failure (SQS retries it), one that succeeded is not. The use cases
 * behind it are tested against DynamoDB Local, S3 and Orthanc in test/integration.
 */
import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createDeliveryHandler } from '../../lambdas/handlers/delivery';
import { DeliveryIncompleteError } from '../../lambdas/runtime/delivery-aws-deps';
import { createObservability } from '../../lambdas/runtime/observability';

const observability = createObservability({ logLevel: 'SILENT', metrics: false });

function batch(...bodies: unknown[]): SQSEvent {
  return { Records: bodies.map((body, i) => ({ messageId: `m${i}`, body: JSON.stringify(body) })) } as unknown as SQSEvent;
}
const accepted = (sessionId: string) => ({ source: 'upload-portal.demo', 'detail-type': 'UploadSessionAccepted', detail: { sessionId } });
const jobEnded = (jobId: string) => ({ source: 'aws.medical-imaging', 'detail-type': 'Import Job Completed', detail: { jobId, datastoreId: 'x', jobStatus: 'COMPLETED' } });

describe('delivery handler', () => {
  it('reports only the records whose delivery threw, and delivers every session and job once', async () => {
    const delivered: string[] = [];
    const jobs: string[] = [];
    const handler = createDeliveryHandler({
      observability,
      async deliverAcceptedSession(sessionId) {
        if (sessionId === 'pacsDown') throw new DeliveryIncompleteError('1 studies to retry, 0 held by another run');
        delivered.push(sessionId);
      },
      async recordImportJob(jobId) {
        jobs.push(jobId);
      },
    });
    const result = await handler(batch(accepted('okSession'), accepted('pacsDown'), jobEnded('0123abcd'), { 'detail-type': 'Something else' }, accepted('bad/../id')));
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }, { itemIdentifier: 'm3' }, { itemIdentifier: 'm4' }]);
    expect(delivered).toEqual(['okSession']);
    expect(jobs).toEqual(['0123abcd']);
  });

  it('fails a record whose body is not JSON instead of crashing the batch', async () => {
    const handler = createDeliveryHandler({ observability, deliverAcceptedSession: async () => undefined, recordImportJob: async () => undefined });
    const event = { Records: [{ messageId: 'junk', body: '{not json' }, { messageId: 'ok', body: JSON.stringify(accepted('s1')) }] } as unknown as SQSEvent;
    expect((await handler(event)).batchItemFailures).toEqual([{ itemIdentifier: 'junk' }]);
  });
});
