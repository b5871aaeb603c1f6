/**
 * SessionCompleter: finishes the completions POST /sessions/{id}/complete locked (core/request-completion.ts), outside
 * the request, so a session of 20,000 files is never held to API Gateway's 29 s. The complete-session function
 * invokes it asynchronously: Lambda queues the event, retries a failed run twice, then sends it to the dead-letter
 * queue, which alarms. Its timeout stays under the completion lock's timeout (core/complete-session.ts), so a lock
 * still held after that is a crashed run and the uploader's next POST takes it over.
 */
import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { LOCK_TIMEOUT_MS } from '../lambdas/core/complete-session';
import { workerEntries } from '../lambdas/runtime/routes';
import type { AppFunction } from './app-function';
import { backgroundFunction, type BackgroundWorkerProps } from './background-function';

/** A minute under the lock's timeout. */
export const COMPLETER_TIMEOUT = Duration.millis(LOCK_TIMEOUT_MS - 60_000);

export type SessionCompleterProps = BackgroundWorkerProps;

export class SessionCompleter extends Construct {
  readonly completer: AppFunction;
  /** Completions that failed three times land here (async invocation DLQ). */
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: SessionCompleterProps) {
    super(scope, id);
    ({ fn: this.completer, deadLetterQueue: this.deadLetterQueue } = backgroundFunction(this, 'Completer', {
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
      queueKey: props.queueKey,
      deadLetters: 'the completer\'s dead-letter queue (completions that failed three times)',
    }));
    this.completer.function.configureAsyncInvoke({ retryAttempts: 2, maxEventAge: Duration.hours(1) });
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
