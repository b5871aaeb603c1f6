/**
 * The inspection half's use cases (inspector, completion, sweep) built on their adapters, for
 * both composition roots: AWS (./wiring.ts, EventBridge publisher) and local mode
 * (local/wiring.ts, RecordingEventPublisher), and the tests.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { DynamoCompletionLock } from '../adapters/dynamo-completion-lock';
import { DynamoEventOutbox } from '../adapters/dynamo-event-outbox';
import { DynamoFileVerdicts } from '../adapters/dynamo-file-verdicts';
import { DynamoSessionRejections } from '../adapters/dynamo-session-rejections';
import { DynamoSessionStore } from '../adapters/dynamo-session-store';
import { DynamoSweepQueue } from '../adapters/dynamo-sweep-queue';
import { SystemClock } from '../adapters/node-clock';
import { Sha256SecretHasher } from '../adapters/node-secret-hasher';
import { S3ManifestWriter } from '../adapters/s3-manifest-writer';
import { S3ObjectReader } from '../adapters/s3-object-reader';
import { DynamoMalwareScans } from '../adapters/dynamo-malware-scans';
import { makeRecordMalwareScan } from '../core/malware-scan';
import { S3ObjectRemover } from '../adapters/s3-object-remover';
import { S3RetentionMarker } from '../adapters/s3-retention-marker';
import { makeApplyRetention } from '../core/apply-retention';
import { makeCompleteSession } from '../core/complete-session';
import { makeInspectObject } from '../core/inspect-object';
import type { Clock, CompletionQueue, EventPublisher, ObjectReader } from '../core/ports';
import { makeFinishCompletion, makeRequestCompletion } from '../core/request-completion';
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
  clock?: Clock;
  /** Tests wrap the reader (e.g. to count bytes); defaults to S3ObjectReader. */
  reader?: ObjectReader;
  /** GuardDuty scans uploads: completion waits for each file's clean result (core/malware-scan.ts). */
  malwareScanRequired?: boolean;
  /** Where POST …/complete hands a locked completion (the completer Lambda, local mode's queue); absent: the tests' synchronous completion only. */
  completionQueue?: CompletionQueue;
}

export function buildInspectionUseCases(infra: InspectionInfrastructure) {
  const { doc, tableName } = infra;
  const bucket = { s3: infra.s3, bucketName: infra.bucketName };
  const sessions = new DynamoSessionStore(doc, tableName);
  const shared = {
    sessions,
    rejections: new DynamoSessionRejections(doc, tableName, sessions),
    outbox: new DynamoEventOutbox(doc, tableName),
    remover: new S3ObjectRemover(bucket),
    publisher: infra.publisher,
    metrics: infra.observability,
    log: infra.observability.log,
    clock: infra.clock ?? new SystemClock(),
  };
  const sweepQueue = new DynamoSweepQueue(doc, tableName);
  const completing = { ...shared, completion: new DynamoCompletionLock(doc, tableName), manifests: new S3ManifestWriter(bucket), malwareScanRequired: infra.malwareScanRequired ?? false };
  const hasher = new Sha256SecretHasher();
  return {
    sessions,
    /** The session routes' bearer-token check (lambdas/core/sessions.ts), for POST /sessions/{id}/complete. */
    async authorize(sessionId: string, token: string): Promise<void> {
      authenticate(await sessions.get(sessionId), token, hasher);
    },
    inspectObject: makeInspectObject({ ...shared, verdicts: new DynamoFileVerdicts(doc, tableName), reader: infra.reader ?? new S3ObjectReader(bucket) }),
    /** The whole completion within the call (tests, and the delivery rig). */
    completeSession: makeCompleteSession(completing),
    /** POST …/complete: checks, locks and queues; 202 COMPLETING (core/request-completion.ts). */
    requestCompletion: infra.completionQueue ? makeRequestCompletion({ ...completing, queue: infra.completionQueue }) : undefined,
    /** The completer's work on a queued job. */
    finishCompletion: makeFinishCompletion(completing),
    recordMalwareScan: makeRecordMalwareScan({ ...shared, scans: new DynamoMalwareScans(doc, tableName) }),
    /** The sweeper's work: expiring abandoned sessions, tagging accepted ones for retention. */
    sweep: makeSweepExpired({ ...shared, sweepQueue, applyRetention: makeApplyRetention({ ...shared, sweepQueue, retention: new S3RetentionMarker({ ...bucket, keepOtherTags: infra.malwareScanRequired ?? false }) }) }),
  };
}
