/**
 * The AWS composition root: config, observability, SDK clients and use cases, each built once per
 * Lambda container on first use (never at import), for the entry files in ./entries.
 */
import { Tracer } from '@aws-lambda-powertools/tracer';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { EventBridgePublisher } from '../adapters/eventbridge-publisher';
import { LambdaCompletionQueue } from '../adapters/lambda-completion-queue';
import type { EventPublisher } from '../core/ports';
import { createApiDeps } from './api-deps';
import { createAuditDeps } from './audit-deps';
import { createAwsClients } from './aws-clients';
import { appConfig, ConfigError, logFormatFromEnv } from './config';
import { buildInspectionUseCases } from './inspection-deps';
import { once } from './lazy';
import { createObservability } from './observability';

/** Built before the full config, so a bad configuration is still logged as JSON. */
export const observability = once(() => createObservability({ logFormat: logFormatFromEnv() }));

/**
 * X-Ray subsegments for every SDK call, under the invocation's segment (the functions trace
 * actively, lib/app-function.ts), so a slow request shows which DynamoDB or S3 call was slow.
 * Only here: local mode and the tests build their clients untraced.
 */
const tracer = once(() => new Tracer({ serviceName: 'upload-portal' }));

export const awsClients = once(() => {
  const config = appConfig();
  observability().setInstitution(config.institution.id);
  const clients = createAwsClients(config);
  tracer().captureAWSv3Client(clients.dynamo);
  tracer().captureAWSv3Client(clients.s3);
  return clients;
});

export const apiDeps = once(() => createApiDeps(appConfig(), awsClients(), { observability: observability() }));

/** The audit trail for the Lambdas outside the API (inspector, completion, delivery). */
export const auditDeps = once(() => createAuditDeps(appConfig(), awsClients(), { logger: observability().log, metrics: observability() }));

/** The institution's bus; the delivery Lambda (delivery-aws-deps.ts) publishes through it too. */
export const eventPublisher = once((): EventPublisher => {
  const config = appConfig();
  const eventBusName = config.eventBusName;
  return eventBusName
    ? new EventBridgePublisher({ client: tracer().captureAWSv3Client(new EventBridgeClient({ region: config.region })), eventBusName, institutionId: config.institution.id })
    : {
        // Every function that publishes is given the bus (lib/events.ts): without one, publishing fails loudly.
        publish: () => Promise.reject(new ConfigError(['EVENT_BUS_NAME: required to publish session events'])),
      };
});

/** The completer function's queue (an asynchronous invocation); only the complete-session function has its name. */
const completionQueue = once(() => {
  const config = appConfig();
  if (!config.completerFunctionName) return undefined;
  const client = tracer().captureAWSv3Client(new LambdaClient({ region: config.region }));
  return new LambdaCompletionQueue({ client, functionName: config.completerFunctionName });
});

const inspectionUseCases = once(() => {
  const config = appConfig();
  const { dynamo, s3 } = awsClients();
  return buildInspectionUseCases({
    doc: dynamo,
    tableName: config.tableName,
    s3,
    bucketName: config.bucketName,
    publisher: eventPublisher(),
    observability: observability(),
    malwareScanRequired: config.institution.malwareProtection,
    completionQueue: completionQueue(),
  });
});

export const inspectorDeps = once(() => ({ inspectObject: inspectionUseCases().inspectObject, observability: observability(), audit: auditDeps().audit }));
export const completeSessionDeps = once(() => {
  const { authorize, requestCompletion } = inspectionUseCases();
  if (!requestCompletion) throw new ConfigError(['COMPLETER_FUNCTION_NAME: required to complete sessions']);
  return { authorize, completeSession: requestCompletion, observability: observability(), audit: auditDeps().audit };
});
export const completerDeps = once(() => ({ finishCompletion: inspectionUseCases().finishCompletion, observability: observability(), audit: auditDeps().audit }));
export const malwareScanDeps = once(() => ({ recordMalwareScan: inspectionUseCases().recordMalwareScan, bucketName: appConfig().bucketName, observability: observability() }));
export const sweeperDeps = once(() => ({ sweep: inspectionUseCases().sweep, observability: observability() }));
