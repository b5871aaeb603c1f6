/**
 * The delivery Lambda's use cases on AWS: the target the institution's `delivery` names (DICOMweb
 * with credentials from Secrets Manager, or HealthImaging with the import role the stack created),
 * the delivery use case over it, and the read-back of HealthImaging import jobs. Built on the first
 * message, because the credentials are fetched once per container; a failed build is retried.
 */
import { MedicalImagingClient } from '@aws-sdk/client-medical-imaging';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoSessionStore } from '../adapters/dynamo-session-store';
import { SystemClock } from '../adapters/node-clock';
import { HealthImagingDeliveryTarget } from '../adapters/healthimaging-delivery-target';
import { HealthImagingImportResults } from '../adapters/healthimaging-import-results';
import { loadDicomwebCredentials } from '../adapters/secrets-manager-dicomweb-credentials';
import { SqsDeliveryRetries } from '../adapters/sqs-delivery-retries';
import type { DeliveryTarget } from '../core/ports';
import { makeRecordImportJob } from '../core/record-import-job';
import { withMalwareCheck } from '../core/malware-scan';
import { S3MalwareScanTags } from '../adapters/s3-malware-scan-tags';
import { appConfig, ConfigError, type AppConfig } from './config';
import type { DeliveryDeps } from '../handlers/delivery';
import { buildDeliverAcceptedSession, dicomwebTarget, type DeliveryInfrastructure } from './delivery-deps';
import { reconciledContent } from './healthimaging-content';
import { once } from './lazy';
import { auditDeps, awsClients, eventPublisher, observability } from './wiring';

/** Some study of the session failed for now, or another run holds it: the SQS record is retried. */
export class DeliveryIncompleteError extends Error {
  override readonly name = 'DeliveryIncompleteError';
}

/** The AWS service clients delivery uses beyond wiring.ts's; tests pass clients that record their requests. */
export interface DeliveryClients {
  imaging?: MedicalImagingClient;
  secrets?: SecretsManagerClient;
  sqs?: SQSClient;
}

async function targetFor(config: AppConfig, infra: DeliveryInfrastructure, clients: DeliveryClients): Promise<{ target: DeliveryTarget; imaging?: MedicalImagingClient }> {
  const delivery = config.institution.delivery;
  if (!delivery) throw new ConfigError(['INSTITUTION_CONFIG: has no delivery target']);
  if (delivery.type === 'dicomweb') {
    const secretArn = delivery.auth?.secretArn;
    const credentials = delivery.auth && secretArn ? await loadDicomwebCredentials(clients.secrets ?? new SecretsManagerClient({ region: config.region }), { type: delivery.auth.type, secretArn }) : undefined;
    return { target: dicomwebTarget(infra, delivery, credentials) };
  }
  if (!config.importRoleArn) throw new ConfigError(['HEALTHIMAGING_IMPORT_ROLE_ARN: required for HealthImaging delivery']);
  const imaging = clients.imaging ?? new MedicalImagingClient({ region: config.region });
  const target = new HealthImagingDeliveryTarget({
    s3: infra.s3,
    imaging,
    bucketName: infra.bucketName,
    datastoreId: delivery.datastoreId,
    dataAccessRoleArn: config.importRoleArn,
    maxFilesPerImportJob: delivery.maxFilesPerImportJob,
    content: reconciledContent(infra, delivery),
  });
  return { target, imaging };
}

async function buildUseCases(config: AppConfig, infra: DeliveryInfrastructure, clients: DeliveryClients) {
  const { target: plain, imaging } = await targetFor(config, infra, clients);
  const target = config.institution.malwareProtection ? withMalwareCheck(plain, new S3MalwareScanTags({ s3: infra.s3, bucketName: infra.bucketName })) : plain;
  const { deliveries, studyEvents, deliverAcceptedSession } = buildDeliverAcceptedSession(infra, target);
  const delivery = config.institution.delivery;
  const recordImportJob =
    imaging && delivery?.type === 'healthimaging'
      ? makeRecordImportJob({
          results: new HealthImagingImportResults({ s3: infra.s3, imaging, datastoreId: delivery.datastoreId }),
          sessions: new DynamoSessionStore(infra.doc, infra.tableName),
          deliveries,
          studyEvents,
          events: infra.publisher,
          metrics: infra.observability,
          log: infra.observability.log,
          clock: infra.clock ?? new SystemClock(),
          ...(config.deliveryQueueUrl ? { retries: new SqsDeliveryRetries({ sqs: clients.sqs ?? new SQSClient({ region: config.region }), queueUrl: config.deliveryQueueUrl }) } : {}),
        })
      : () => Promise.reject(new ConfigError(['import job events arrive only for HealthImaging delivery']));
  return { deliverAcceptedSession, recordImportJob };
}

export function createAwsDeliveryDeps(config: AppConfig, infra: DeliveryInfrastructure, clients: DeliveryClients = {}): DeliveryDeps {
  let pending: ReturnType<typeof buildUseCases> | undefined;
  // A rejected build (the secret unreadable for a moment) is not kept: the next message tries again.
  const useCases = () => (pending ??= buildUseCases(config, infra, clients).catch((error: unknown) => ((pending = undefined), Promise.reject(error))));
  return {
    async deliverAcceptedSession(sessionId) {
      const result = await (await useCases()).deliverAcceptedSession(sessionId);
      if (result.retryable > 0 || result.busy > 0) throw new DeliveryIncompleteError(`${result.retryable} studies to retry, ${result.busy} held by another run`);
    },
    async recordImportJob(jobId) {
      const recording = await (await useCases()).recordImportJob(jobId);
      return recording.result === 'foreign' ? undefined : { sessionId: recording.sessionId, studyInstanceUid: recording.studyInstanceUid };
    },
    observability: infra.observability,
  };
}

/**
 * The delivery Lambda's part of the AWS composition root. Kept out of wiring.ts so the other
 * Lambdas' bundles do not carry the DICOMweb, HealthImaging and Secrets Manager code.
 */
export const deliveryDeps = once(() => {
  const config = appConfig();
  const { dynamo, s3 } = awsClients();
  return { ...createAwsDeliveryDeps(config, { doc: dynamo, tableName: config.tableName, s3, bucketName: config.bucketName, publisher: eventPublisher(), observability: observability() }), audit: auditDeps().audit };
});
