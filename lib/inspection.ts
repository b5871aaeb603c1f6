/**
 * Inspection: S3 ObjectCreated under sessions/ → SQS (KMS, TLS-only, DLQ) → the inspector Lambda,
 * which reports partial batch failures so one bad message is retried alone and, after
 * MAX_RECEIVE_COUNT tries, lands in the DLQ (which Monitoring alarms on).
 */
import { Duration } from 'aws-cdk-lib';
import * as lambdaEvents from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { InstitutionConfig } from '../lambdas/core/institution';
import { workerEntries } from '../lambdas/runtime/routes';
import { AppFunction } from './app-function';
import { acknowledge, customerManagedKey, encryptedQueue, VISIBILITY_TIMEOUT_FACTOR } from './defaults';
import type { PortalEvents } from './events';
import type { SessionTable } from './session-table';
import { SESSIONS_PREFIX, type UploadStorage } from './upload-storage';

/** Ranged reads of a header prefix: seconds, not minutes, whatever the file size. */
export const INSPECTOR_TIMEOUT = Duration.seconds(30);

export interface InspectionProps {
  institution: InstitutionConfig;
  storage: UploadStorage;
  table: SessionTable;
  events: PortalEvents;
  logsKey: kms.IKey;
}

export class Inspection extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly inspector: AppFunction;
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: InspectionProps) {
    super(scope, id);
    this.key = customerManagedKey(this, 'Key', 'Encrypts the Upload Portal inspection queue (object keys and sizes of uploads)');
    this.deadLetterQueue = encryptedQueue(this, 'DeadLetterQueue', { key: this.key, retentionPeriod: Duration.days(14) });
    acknowledge(this.deadLetterQueue, [
      ['AwsSolutions-SQS3', 'This queue is the dead-letter queue of the inspection queue; Monitoring alarms as soon as it holds a message.'],
    ]);
    this.queue = encryptedQueue(this, 'Queue', {
      key: this.key,
      deadLetterQueue: this.deadLetterQueue,
      visibilityTimeout: Duration.seconds(INSPECTOR_TIMEOUT.toSeconds() * VISIBILITY_TIMEOUT_FACTOR),
      retentionPeriod: Duration.days(4),
    });

    this.inspector = new AppFunction(this, 'Inspector', {
      entry: workerEntries.inspector,
      serviceName: 'inspector',
      description: `Upload Portal ${props.institution.id}: inspects each uploaded object (header only) and records its verdict`,
      institution: props.institution,
      logsKey: props.logsKey,
      timeout: INSPECTOR_TIMEOUT,
      memorySize: 1024,
      // Caps parallel S3 reads and table writes during a burst of uploads.
      reservedConcurrentExecutions: 10,
    });
    props.table.bindReadWrite(this.inspector);
    props.storage.bindInspector(this.inspector);
    props.events.bindPublisher(this.inspector);
    this.inspector.function.addEventSource(
      new lambdaEvents.SqsEventSource(this.queue, {
        batchSize: 10,
        maxBatchingWindow: Duration.seconds(1),
        reportBatchItemFailures: true,
        maxConcurrency: 10,
      }),
    );
    acknowledge(this.inspector.function, [
      ['HIPAA.Security-LambdaDLQ', 'The inspector is invoked by an SQS event source mapping, not asynchronously; failed messages go to the inspection queue\'s DLQ (maxReceiveCount) instead.'],
    ]);

    props.storage.bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.SqsDestination(this.queue), {
      prefix: SESSIONS_PREFIX,
    });
  }
}
