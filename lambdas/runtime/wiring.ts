/**
 * The AWS composition root: config, observability, SDK clients and use cases, each built once per
 * Lambda container on first use (never at import), for the entry files in ./entries.
 */
import { Tracer } from '@aws-lambda-powertools/tracer';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { EventBridgePublisher } from '../adapters/eventbridge-publisher';
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
export const auditDeps = once(() => createAuditDeps(appConfig(), awsClients(), { logger: observability().log }));

/** The institution's bus; the delivery Lambda (delivery-aws-deps.ts) publishes through it too. */
export const eventPublisher = once((): EventPublisher => {
  const config = appConfig();
  const eventBusName = config.eventBusName;
  return eventBusName
    ? new EventBridgePublisher({ client: tracer().captureAWSv3Client(new EventBridgeClient({ region: config.region })), eventBusName, institutionId: config.institution.id })
    : {
        // Only the sweeper may run without a bus: it never publishes.
        publish: () => Promise.reject(new ConfigError(['EVENT_BUS_NAME: required to publish session events'])),
      };
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
  });
});

export const inspectorDeps = once(() => ({ inspectObject: inspectionUseCases().inspectObject, observability: observability(), audit: auditDeps().audit }));
export const completeSessionDeps = once(() => {
  const { authorize, completeSession } = inspectionUseCases();
  return { authorize, completeSession, observability: observability(), audit: auditDeps().audit };
});
export const malwareScanDeps = once(() => ({ recordMalwareScan: inspectionUseCases().recordMalwareScan, bucketName: appConfig().bucketName, observability: observability() }));
export const sweeperDeps = once(() => ({ sweep: inspectionUseCases().sweep, observability: observability() }));
