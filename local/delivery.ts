/**
 * Local mode's delivery stage, as the stack's queue runs it: each UploadSessionAccepted event
 * delivers its session in the background, one session at a time; sessions accepted but not yet
 * delivered (a stop in the middle, a PACS that was down) are picked up again at start and with
 * every sweep. Only when DELIVERY_DICOMWEB_URL named a PACS (local/settings.ts).
 */
import type { AuditTrail } from '../lambdas/core/audit';
import type { InstitutionConfig } from '../lambdas/core/institution';
import { buildDeliverAcceptedSession, dicomwebTarget, type DeliveryInfrastructure } from '../lambdas/runtime/delivery-deps';

export interface LocalDelivery {
  deliver(sessionId: string): void;
  resume(): Promise<void>;
  idle(): Promise<void>;
}

export function buildLocalDelivery(opts: DeliveryInfrastructure & { institution: InstitutionConfig; audit?: AuditTrail }): LocalDelivery | undefined {
  const config = opts.institution.delivery;
  if (config?.type !== 'dicomweb') return undefined;
  const { logger } = opts.observability;
  const { deliveries, deliverAcceptedSession } = buildDeliverAcceptedSession(opts, dicomwebTarget(opts, config));
  let chain: Promise<unknown> = Promise.resolve();
  const queued = new Set<string>();
  const deliver = (sessionId: string) => {
    // A session already waiting in the chain needs no second turn.
    if (queued.has(sessionId)) return;
    queued.add(sessionId);
    chain = chain
      .then(async () => {
        queued.delete(sessionId);
        const result = await deliverAcceptedSession(sessionId);
        await opts.audit?.deliveries(sessionId);
        if (result.delivered || result.failed || result.retryable) logger.info('Delivered a session to the PACS', { sessionId, ...result });
      })
      .catch((error: unknown) => logger.error('Delivery failed; the next sweep tries again', { sessionId, errorName: (error as Error)?.name }));
  };
  return {
    deliver,
    async resume() {
      try {
        for (const sessionId of await deliveries.sessionsToDeliver()) deliver(sessionId);
      } catch (error) {
        logger.error('Finding sessions to deliver failed; the next sweep tries again', { errorName: (error as Error)?.name });
      }
    },
    async idle() {
      for (let seen = chain; ; seen = chain) {
        await seen;
        if (seen === chain) return;
      }
    },
  };
}
