/**
 * Local mode's composition root: the same adapters and handler factories as AWS
 * (lambdas/runtime/wiring.ts), built over the emulators' endpoints, with a recording event
 * publisher (events.jsonl) in place of EventBridge. As the stack's rule does, each
 * UploadSessionAccepted event invokes the sweeper for that session (asynchronously, one at a time),
 * and, when DELIVERY_DICOMWEB_URL names a PACS, the delivery (./delivery.ts).
 */
import { createHmac } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { InstitutionConfig } from '../lambdas/core/institution';
import type { EventPublisher } from '../lambdas/core/ports';
import { RecordingEventPublisher } from '../lambdas/adapters/recording-event-publisher';
import type { AppConfig } from '../lambdas/runtime/config';
import { createApiDeps } from '../lambdas/runtime/api-deps';
import { createAwsClients } from '../lambdas/runtime/aws-clients';
import { buildInspectionUseCases } from '../lambdas/runtime/inspection-deps';
import type { Observability } from '../lambdas/runtime/observability';
import { createCreateSessionHandler } from '../lambdas/handlers/create-session';
import { createGetSessionHandler } from '../lambdas/handlers/get-session';
import { createRequestUploadsHandler } from '../lambdas/handlers/request-uploads';
import { createRemoveFileHandler } from '../lambdas/handlers/remove-file';
import { createRenewUploadUrlHandler } from '../lambdas/handlers/renew-upload-url';
import { createSignPartsHandler } from '../lambdas/handlers/sign-parts';
import { createListPartsHandler } from '../lambdas/handlers/list-parts';
import { createFinishUploadHandler } from '../lambdas/handlers/finish-upload';
import { createCompleteSessionHandler } from '../lambdas/handlers/complete-session';
import { createIssueUploadCodeHandler } from '../lambdas/handlers/issue-upload-code';
import { createListUploadCodesHandler } from '../lambdas/handlers/list-upload-codes';
import { createRevokeUploadCodeHandler } from '../lambdas/handlers/revoke-upload-code';
import { createReadAuditTrailHandler } from '../lambdas/handlers/read-audit-trail';
import { createInspectorHandler } from '../lambdas/handlers/inspector';
import { createSweeperHandler, type SweeperEvent } from '../lambdas/handlers/sweeper';
import { createCompleterHandler } from '../lambdas/handlers/completer';
import { LocalCompletionQueue } from './completion-queue';
import { buildLocalDelivery } from './delivery';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './emulators';
import type { ApiHandler } from './http-adapter';
import type { SqsHandler } from './s3-events';
import { UsageMeter, type Usage } from './usage-meter';

export interface LocalAppOptions {
  dynamoEndpoint: string;
  s3Endpoint: string;
  tableName: string;
  bucketName: string;
  institution: InstitutionConfig;
  /** SHA-256 hex of the admin token POST /admin/upload-codes requires locally. */
  adminTokenHash: string;
  /** Where published events are appended (EventBridge's stand-in); JSON lines. */
  eventsFile: string;
  /** Where queued completions wait for the completer (./completion-queue.ts). */
  completionsDir: string;
  observability: Observability;
}

export interface LocalApp {
  /** One handler per route id in lambdas/runtime/routes.ts. */
  apiHandlers: Record<string, ApiHandler>;
  inspector: SqsHandler;
  /** One run of the scheduled sweep. */
  sweep(): Promise<void>;
  /** Resolves when no sweeper invocation (scheduled or event-driven) is queued or running. */
  sweeperIdle(): Promise<void>;
  /** Delivers every accepted session not delivered yet (at start, and with each sweep). */
  resumeDeliveries(): Promise<void>;
  /** Resolves when no delivery is queued or running. */
  deliveryIdle(): Promise<void>;
  /** Queues the completions a previous run left unfinished; returns how many. */
  resumeCompletions(): number;
  /** Resolves when no completion is queued or running. */
  completerIdle(): Promise<void>;
  /** Starts no further queued completion (they stay for the next start). */
  stopCompleter(): void;
  /** Plain clients for provisioning and start-up reconciliation. */
  dynamoClient: DynamoDBClient;
  s3Client: S3Client;
  events: RecordingEventPublisher;
  /** AWS requests and invocations the handlers made so far. */
  usage(): Usage;
  destroy(): void;
}

export function buildLocalApp(opts: LocalAppOptions): LocalApp {
  const config: AppConfig = {
    tableName: opts.tableName,
    bucketName: opts.bucketName,
    institution: opts.institution,
    region: LOCAL_REGION,
    dynamoEndpoint: opts.dynamoEndpoint,
    s3Endpoint: opts.s3Endpoint,
    s3ForcePathStyle: true,
    localAdminTokenHash: opts.adminTokenHash,
    // Keyed by the admin token (only this machine holds it), so the hashes stay the same across restarts.
    localClientAddressKey: createHmac('sha256', opts.adminTokenHash).update('client-address').digest('hex'),
    logFormat: 'pretty',
  };
  const { observability } = opts;
  observability.setInstitution(opts.institution.id);
  const clients = createAwsClients(config, { credentials: LOCAL_CREDENTIALS });
  // What the handlers cost in AWS requests, for the stop log and bench:cost.
  const meter = new UsageMeter();
  meter.meterDynamo(clients.dynamo);
  meter.meterS3(clients.s3);
  const dynamoClient = new DynamoDBClient({ endpoint: opts.dynamoEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const events = new RecordingEventPublisher({ file: opts.eventsFile });
  // The sweeper runs one invocation at a time (reserved concurrency 1 in the stack).
  let sweeperChain: Promise<unknown> = Promise.resolve();
  const invokeSweeper = (event?: SweeperEvent) => {
    const run = sweeperChain.then(() => meteredSweeper(event));
    sweeperChain = run.catch((error: unknown) => observability.logger.error('Sweeper failed; the next scheduled sweep retries', { errorName: (error as Error)?.name }));
    return run;
  };
  const publisher: EventPublisher = {
    async publish(event) {
      await events.publish(event);
      // The stack's rule on the bus: UploadSessionAccepted → sweeper, invoked asynchronously.
      if (event.type === 'UploadSessionAccepted') {
        const { type, ...detail } = event;
        void invokeSweeper({ 'detail-type': type, detail }).catch(() => undefined);
        delivery?.deliver(event.sessionId);
      }
    },
  };

  const api = createApiDeps(config, clients, { observability });
  // The completer function's asynchronous invocation (lib/completer.ts): run here, one job at a time, metered.
  const completions = new LocalCompletionQueue({
    dir: opts.completionsDir,
    run: (job) => meteredCompleter(job),
    onFailure: (job, error, final) =>
      observability.logger.error(final ? 'Completion failed three times; set aside as <session>.failed.json' : 'Completion failed; retrying', { sessionId: job.sessionId, errorName: (error as Error)?.name }),
  });
  const inspection = buildInspectionUseCases({
    completionQueue: completions,
    doc: clients.dynamo,
    tableName: opts.tableName,
    s3: clients.s3,
    bucketName: opts.bucketName,
    publisher,
    observability,
  });
  const sweeper = createSweeperHandler({ sweep: inspection.sweep, observability });
  const delivery = buildLocalDelivery({ institution: opts.institution, doc: clients.dynamo, tableName: opts.tableName, s3: clients.s3, bucketName: opts.bucketName, publisher, observability, audit: api.audit });
  const meteredSweeper = meter.meterInvocations('Sweeper', sweeper);
  const meteredCompleter = meter.meterInvocations('Completer', createCompleterHandler({ finishCompletion: inspection.finishCompletion, observability, audit: api.audit }));
  const metered = (name: string, handler: ApiHandler) => meter.meterInvocations(name, handler);

  return {
    apiHandlers: {
      CreateSession: metered('CreateSession', createCreateSessionHandler(api)),
      GetSession: metered('GetSession', createGetSessionHandler(api)),
      RequestUploads: metered('RequestUploads', createRequestUploadsHandler(api)),
      RemoveFile: metered('RemoveFile', createRemoveFileHandler(api)),
      RenewUploadUrl: metered('RenewUploadUrl', createRenewUploadUrlHandler(api)),
      SignParts: metered('SignParts', createSignPartsHandler(api)),
      ListParts: metered('ListParts', createListPartsHandler(api)),
      FinishUpload: metered('FinishUpload', createFinishUploadHandler(api)),
      CompleteSession: metered('CompleteSession', createCompleteSessionHandler({ authorize: inspection.authorize, completeSession: inspection.requestCompletion!, observability, audit: api.audit })),
      IssueUploadCode: metered('IssueUploadCode', createIssueUploadCodeHandler(api)),
      ListUploadCodes: metered('ListUploadCodes', createListUploadCodesHandler(api)),
      RevokeUploadCode: metered('RevokeUploadCode', createRevokeUploadCodeHandler(api)),
      ReadAuditTrail: metered('ReadAuditTrail', createReadAuditTrailHandler(api)),
    },
    inspector: meter.meterInvocations('Inspector', createInspectorHandler({ inspectObject: inspection.inspectObject, observability, audit: api.audit })),
    async sweep() {
      if (delivery) void delivery.resume();
      const result = await invokeSweeper();
      if (result.expired || result.failed || result.retentionApplied) observability.logger.info('Swept sessions', { ...result });
      else observability.logger.debug('Sweep found nothing to do');
    },
    sweeperIdle: async () => {
      // Wait until the chain stops growing (an invocation may queue another).
      for (let seen = sweeperChain; ; seen = sweeperChain) {
        await seen;
        if (seen === sweeperChain) return;
      }
    },
    resumeDeliveries: async () => delivery?.resume(),
    deliveryIdle: async () => delivery?.idle(),
    resumeCompletions: () => completions.resume(),
    completerIdle: () => completions.idle(),
    stopCompleter: () => completions.stop(),
    dynamoClient,
    s3Client: clients.s3,
    events,
    usage: () => meter.snapshot(),
    destroy() {
      clients.dynamo.destroy();
      clients.s3.destroy();
      dynamoClient.destroy();
    },
  };
}
