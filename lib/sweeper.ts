/**
 * SessionSweeper: on a schedule, expires sessions that were abandoned (OPEN past expiresAt) and
 * deletes their objects, so their reservations and PHI do not linger until the lifecycle rule.
 * It also tags the files of accepted sessions `upload-state=accepted` (core/apply-retention.ts):
 * at once, from the UploadSessionAccepted event on the institution's bus, and on each scheduled
 * run for any session still due (an event that failed twice lands in the DLQ, which alarms).
 * And it publishes a decided session's final event that a run which died left unpublished past
 * the claim's timeout (core/sweep-expired.ts), so it may put events on the bus.
 */
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { workerEntries } from '../lambdas/runtime/routes';
import type { AppFunction } from './app-function';
import { backgroundFunction, type BackgroundWorkerProps } from './background-function';

export const SWEEP_INTERVAL = Duration.minutes(15);

export type SessionSweeperProps = BackgroundWorkerProps;

export class SessionSweeper extends Construct {
  readonly sweeper: AppFunction;
  /** Failed scheduled invocations land here (async invocation DLQ). */
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: SessionSweeperProps) {
    super(scope, id);
    ({ fn: this.sweeper, deadLetterQueue: this.deadLetterQueue } = backgroundFunction(this, 'Sweeper', {
      entry: workerEntries.sweeper,
      serviceName: 'sweeper',
      description: `Upload Portal ${props.institution.id}: expires abandoned sessions, deletes their objects, tags accepted files for retention, publishes final events left unpublished`,
      institution: props.institution,
      logsKey: props.logsKey,
      timeout: Duration.minutes(5),
      // One sweep at a time: overlapping sweeps would only race on the same sessions.
      reservedConcurrentExecutions: 1,
      queueKey: props.queueKey,
      deadLetters: 'the sweeper\'s dead-letter queue (failed scheduled runs)',
    }));
    props.table.bindReadWrite(this.sweeper, { scan: true });
    props.storage.bindSweeper(this.sweeper);
    props.events.bindPublisher(this.sweeper);

    new events.Rule(this, 'Schedule', {
      description: `Upload Portal ${props.institution.id}: sweep abandoned sessions`,
      schedule: events.Schedule.rate(SWEEP_INTERVAL),
      targets: [new targets.LambdaFunction(this.sweeper.function, { retryAttempts: 2, maxEventAge: Duration.hours(1) })],
    });
    new events.Rule(this, 'OnAccepted', {
      description: `Upload Portal ${props.institution.id}: tag an accepted session's files for retention`,
      eventBus: props.events.bus,
      eventPattern: { source: [props.events.source], detailType: ['UploadSessionAccepted'] },
      targets: [new targets.LambdaFunction(this.sweeper.function, { retryAttempts: 2, maxEventAge: Duration.hours(1) })],
    });
  }
}
