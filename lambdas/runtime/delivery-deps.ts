/**
 * The delivery use case built on its adapters, for both composition roots: the AWS delivery Lambda
 * and local mode (local/delivery.ts), and the tests. The target is the caller's choice:
 * `dicomwebTarget` here, or the HealthImaging adapter.
 */
import { DicomwebDeliveryTarget, type DicomwebCredentials } from '../adapters/dicomweb-delivery-target';
import { DynamoDeliveryStore } from '../adapters/dynamo-delivery-store';
import { DynamoSessionStore } from '../adapters/dynamo-session-store';
import { DynamoStudyEventOutbox } from '../adapters/dynamo-study-event-outbox';
import { SystemClock } from '../adapters/node-clock';
import { S3ObjectReader } from '../adapters/s3-object-reader';
import { S3ObjectStreamer } from '../adapters/s3-object-streamer';
import { makeDeliverAcceptedSession } from '../core/deliver-accepted-session';
import { makeStudyInstances } from '../core/delivery/study-instances';
import type { DeliveryConfig } from '../core/delivery-config';
import type { DeliveryTarget } from '../core/ports';
import type { InspectionInfrastructure } from './inspection-deps';

/** The same clients, table, bucket and publisher as the inspection half. */
export type DeliveryInfrastructure = Omit<InspectionInfrastructure, 'reader'>;

/** The DICOMweb target of an institution's `delivery` config; credentials come from the composition root (Secrets Manager in AWS). */
export function dicomwebTarget(
  infra: Pick<DeliveryInfrastructure, 's3' | 'bucketName' | 'clock'>,
  delivery: Extract<DeliveryConfig, { type: 'dicomweb' }>,
  credentials?: DicomwebCredentials,
): DicomwebDeliveryTarget {
  const bucket = { s3: infra.s3, bucketName: infra.bucketName };
  const clock = infra.clock ?? new SystemClock();
  const studyInstances = makeStudyInstances({
    reader: new S3ObjectReader(bucket),
    streamer: new S3ObjectStreamer(bucket),
    rules: delivery,
    now: () => clock.now(),
  });
  return new DicomwebDeliveryTarget({ url: delivery.url, studyInstances, ...(credentials ? { credentials } : {}) });
}

export function buildDeliverAcceptedSession(infra: DeliveryInfrastructure, target: DeliveryTarget) {
  const deliveries = new DynamoDeliveryStore({ doc: infra.doc, tableName: infra.tableName });
  // On the study items the delivery store writes: a final state and its pending event in one write.
  const studyEvents = new DynamoStudyEventOutbox(infra.doc, infra.tableName);
  return {
    deliveries,
    studyEvents,
    deliverAcceptedSession: makeDeliverAcceptedSession({
      sessions: new DynamoSessionStore(infra.doc, infra.tableName),
      deliveries,
      studyEvents,
      target,
      events: infra.publisher,
      metrics: infra.observability,
      log: infra.observability.log,
      clock: infra.clock ?? new SystemClock(),
    }),
  };
}
