/**
 * SessionCompleter: finishes the completions POST /sessions/{id}/complete locked (core/request-completion.ts), outside
 * the request, so a session of 20,000 files is never held to API Gateway's 29 s. The complete-session function
 * invokes it asynchronously: Lambda queues the event, retries a failed run twice, then sends it to the dead-letter
 * queue, which alarms. Its timeout stays under the completion lock's timeout (core/complete-session.ts), so a lock
 * still held after that is a crashed run and the uploader's next POST takes it over.
 */
import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { LOCK_TIMEOUT_MS } from '../lambdas/core/complete-session';
import type { InstitutionConfig } from '../lambdas/core/institution';
import { workerEntries } from '../lambdas/runtime/routes';
import { AppFunction } from './app-function';
import { acknowledge, encryptedQueue } from './defaults';
import type { PortalEvents } from './events';
import type { SessionTable } from './session-table';
import type { UploadStorage } from './upload-storage';

/** A minute under the lock's timeout. */
export const COMPLETER_TIMEOUT = Duration.millis(LOCK_TIMEOUT_MS - 60_000);

export interface SessionCompleterProps {
  institution: InstitutionConfig;
  storage: UploadStorage;
  table: SessionTable;
  events: PortalEvents;
  logsKey: kms.IKey;
  queueKey: kms.IKey;
}

export class SessionCompleter extends Construct {
  readonly completer: AppFunction;
  /** Completions that failed three times land here (async invocation DLQ). */
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: SessionCompleterProps) {
    super(scope, id);
    this.deadLetterQueue = encryptedQueue(this, 'DeadLetterQueue', { key: props.queueKey, retentionPeriod: Duration.days(14) });
    acknowledge(this.deadLetterQueue, [
      ['AwsSolutions-SQS3', 'This queue is the completer\'s dead-letter queue (completions that failed three times); Monitoring alarms as soon as it holds a message.'],
    ]);
    this.completer = new AppFunction(this, 'Completer', {
      entry: workerEntries.completer,
      serviceName: 'completer',
      description: `Upload Portal ${props.institution.id}: finishes a locked completion (re-checks every rule, writes the manifest, accepts or rejects)`,
      institution: props.institution,
      logsKey: props.logsKey,
      timeout: COMPLETER_TIMEOUT,
      // bench:scale measures a 20,000-file completion's peak memory; this leaves room above it.
      memorySize: 1024,
      // Completions of different sessions are independent; this bounds the table and bucket load of a burst.
      reservedConcurrentExecutions: 2,
      deadLetterQueue: this.deadLetterQueue,
    });
    this.completer.function.configureAsyncInvoke({ retryAttempts: 2, maxEventAge: Duration.hours(1) });
    // Sending to the KMS-encrypted DLQ needs the queue key too (CDK grants only sqs:SendMessage).
    this.completer.addToRolePolicy(new iam.PolicyStatement({ actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [props.queueKey.keyArn] }));
    props.table.bindReadWrite(this.completer);
    props.storage.bindCompleter(this.completer);
    props.events.bindPublisher(this.completer);
  }

  /** The complete-session function: may invoke the completer asynchronously, and learns its name. */
  bindInvoker(fn: AppFunction): void {
    fn.addEnvironment('COMPLETER_FUNCTION_NAME', this.completer.function.functionName);
    // The function itself, not its versions (grantInvoke would add `:*`): it is only ever invoked unqualified.
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.completer.function.functionArn] }));
  }
}
