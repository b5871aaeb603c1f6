/**
 * The inspection half's use cases built on their adapters, for both composition roots: AWS
 * (./wiring.ts, EventBridge publisher) and local mode (local/wiring.ts, RecordingEventPublisher).
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { DynamoSessionStore } from '../adapters/dynamo-session-store';
import { DynamoVerdictStore } from '../adapters/dynamo-verdict-store';
import { Sha256SecretHasher } from '../adapters/node-secret-hasher';
import { inspectionLogFrom, inspectionMetricsFrom } from '../adapters/observability-inspection-metrics';
import { S3ManifestWriter } from '../adapters/s3-manifest-writer';
import { S3ObjectReader } from '../adapters/s3-object-reader';
import { S3RetentionMarker } from '../adapters/s3-retention-marker';
import { S3SessionCleaner } from '../adapters/s3-session-cleaner';
import { makeApplyRetention } from '../core/apply-retention';
import { makeCompleteSession } from '../core/complete-session';
import { makeInspectObject } from '../core/inspect-object';
import type { EventPublisher, ObjectReader } from '../core/inspection-ports';
import { authenticate } from '../core/sessions';
import { makeSweepExpired } from '../core/sweep-expired';
import type { Observability } from './observability';

export interface InspectionInfrastructure {
  doc: DynamoDBDocumentClient;
  tableName: string;
  s3: S3Client;
  bucketName: string;
  publisher: EventPublisher;
  observability: Observability;
  now?: () => Date;
  /** Tests wrap the reader (e.g. to count bytes); defaults to S3ObjectReader. */
  reader?: ObjectReader;
}

export function buildInspectionUseCases(infra: InspectionInfrastructure) {
  const s3 = { s3: infra.s3, bucketName: infra.bucketName };
  const shared = {
    store: new DynamoVerdictStore({ doc: infra.doc, tableName: infra.tableName }),
    cleaner: new S3SessionCleaner(s3),
    publisher: infra.publisher,
    metrics: inspectionMetricsFrom(infra.observability),
    log: inspectionLogFrom(infra.observability),
    now: infra.now ?? (() => new Date()),
  };
  const sessions = new DynamoSessionStore(infra.doc, infra.tableName);
  const hasher = new Sha256SecretHasher();
  return {
    store: shared.store,
    /** The session routes' bearer-token check (lambdas/core/sessions.ts), for POST /sessions/{id}/complete. */
    async authorize(sessionId: string, token: string): Promise<void> {
      authenticate(await sessions.get(sessionId), token, hasher);
    },
    inspectObject: makeInspectObject({ ...shared, reader: infra.reader ?? new S3ObjectReader(s3) }),
    completeSession: makeCompleteSession({ ...shared, manifests: new S3ManifestWriter(s3) }),
    /** The sweeper's work: expiring abandoned sessions, tagging accepted ones for retention. */
    sweep: makeSweepExpired({ ...shared, applyRetention: makeApplyRetention({ ...shared, retention: new S3RetentionMarker(s3) }) }),
  };
}
