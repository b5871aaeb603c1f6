/**
 * The scaffolding of a function that runs outside any request and is invoked asynchronously (the
 * completer, the sweeper): its own KMS-encrypted dead-letter queue, which Monitoring alarms on, and
 * an AppFunction that sends what fails for good there. The queue and the function are children of
 * the calling construct, under the ids they always had, so no logical id moves.
 */
import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { InstitutionConfig } from '../lambdas/core/institution';
import { AppFunction, type AppFunctionProps } from './app-function';
import { acknowledge, encryptedQueue } from './defaults';
import type { PortalEvents } from './events';
import type { SessionTable } from './session-table';
import type { UploadStorage } from './upload-storage';

/** What the completer and the sweeper constructs are built from. */
export interface BackgroundWorkerProps {
  institution: InstitutionConfig;
  storage: UploadStorage;
  table: SessionTable;
  events: PortalEvents;
  logsKey: kms.IKey;
  /** Encrypts the dead-letter queue. */
  queueKey: kms.IKey;
}

export interface BackgroundFunctionProps extends Omit<AppFunctionProps, 'deadLetterQueue'> {
  /** Encrypts the dead-letter queue. */
  queueKey: kms.IKey;
  /** Which queue this is and what lands in it, for the reviewer's answer to AwsSolutions-SQS3. */
  deadLetters: string;
}

export interface BackgroundFunction {
  fn: AppFunction;
  /** Invocations that failed every attempt land here (async invocation DLQ). */
  deadLetterQueue: sqs.Queue;
}

/** Creates `DeadLetterQueue` and the function `id` in `scope`. */
export function backgroundFunction(scope: Construct, id: string, props: BackgroundFunctionProps): BackgroundFunction {
  const { queueKey, deadLetters, ...functionProps } = props;
  const deadLetterQueue = encryptedQueue(scope, 'DeadLetterQueue', { key: queueKey, retentionPeriod: Duration.days(14) });
  acknowledge(deadLetterQueue, [['AwsSolutions-SQS3', `This queue is ${deadLetters}; Monitoring alarms as soon as it holds a message.`]]);
  const fn = new AppFunction(scope, id, { ...functionProps, deadLetterQueue });
  // Sending to the KMS-encrypted DLQ needs the queue key too (CDK grants only sqs:SendMessage).
  fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [queueKey.keyArn] }));
  return { fn, deadLetterQueue };
}
