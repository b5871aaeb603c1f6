/**
 * Monitoring: one CloudWatch dashboard per institution and the alarms ops act on, all sent to an
 * encrypted SNS topic that e-mails the institution's alarmEmail. Business metrics come from the
 * Lambdas' EMF output (lambdas/runtime/observability.ts): namespace UploadPortal, dimension
 * institutionId, plus reason for SessionsRejected.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { InstitutionConfig } from '../lambdas/core/institution';
import { METRICS_NAMESPACE, type AppFunction } from './app-function';
import { CODE_REDEMPTION_FAILURE_SPIKE, customerManagedKey } from './defaults';

/** Rejected sessions (all reasons) per hour that suggest a broken client or a bad config rather than user mistakes. */
export const REJECTION_SPIKE_PER_HOUR = 10;
const FIVE_MINUTES = Duration.minutes(5);

export interface MonitoringProps {
  institution: InstitutionConfig;
  httpApi: apigwv2.HttpApi;
  /** Every Lambda of the stack, by a short display name. */
  functions: Record<string, AppFunction>;
  /** Queues whose depth must stay 0, by display name. */
  deadLetterQueues: Record<string, sqs.IQueue>;
}

export class Monitoring extends Construct {
  readonly topic: sns.Topic;
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarms: cloudwatch.Alarm[] = [];
  private readonly institutionId: string;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { institution } = props;
    this.institutionId = institution.id;

    const key = customerManagedKey(this, 'Key', 'Encrypts the Upload Portal alarm topic');
    // CloudWatch publishes alarm notifications to the encrypted topic.
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
      }),
    );
    this.topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: `Upload Portal ${institution.name} alarms`,
      masterKey: key,
      enforceSSL: true,
    });
    this.topic.addSubscription(new subscriptions.EmailSubscription(institution.alarmEmail));

    const api = props.httpApi;
    this.alarm('Api5xx', 'The API answered with a 5xx: a handler crashed or timed out (bad input must be a 4xx, never a 500).', api.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' }), 1);
    for (const [name, fn] of Object.entries(props.functions)) {
      this.alarm(`${name}Errors`, `The ${name} Lambda failed (unhandled error or timeout); see its log group.`, fn.function.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }), 1);
      this.alarm(`${name}Throttles`, `The ${name} Lambda was throttled: traffic above its reserved concurrency or the account limit.`, fn.function.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' }), 1);
    }
    for (const [name, queue] of Object.entries(props.deadLetterQueues)) {
      this.alarm(`${name}Depth`, `Messages in ${name}: events that failed all retries; inspect, fix, then redrive.`, queue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: 'Maximum' }), 1);
    }
    this.alarm(
      'CodeRedemptionFailureSpike',
      `At least ${CODE_REDEMPTION_FAILURE_SPIKE} failed upload-code redemptions in 5 minutes: someone may be guessing codes.`,
      this.business('CodeRedemptionFailures', FIVE_MINUTES),
      CODE_REDEMPTION_FAILURE_SPIKE,
    );
    // The audit trail never fails the request it records, so a lost record shows only here.
    this.alarm(
      'AuditWriteFailures',
      'An audit record could not be written (the request it describes went through): the audit trail has a gap. See the log line "audit record not written" for the event.',
      this.business('AuditWriteFailures', FIVE_MINUTES),
      1,
    );
    // SessionsRejected is published per reason; a Metrics Insights query sums every reason.
    this.alarm(
      'SessionRejectionSpike',
      `At least ${REJECTION_SPIKE_PER_HOUR} session rejections (all reasons) in an hour: check the dashboard's reasons for a broken client or a too-strict config.`,
      new cloudwatch.MathExpression({
        expression: `SELECT SUM(SessionsRejected) FROM SCHEMA("${METRICS_NAMESPACE}", institutionId, reason) WHERE institutionId = '${institution.id}'`,
        period: Duration.hours(1),
        label: 'Sessions rejected',
      }),
      REJECTION_SPIKE_PER_HOUR,
    );

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `UploadPortal-${institution.id}`,
      defaultInterval: Duration.days(1),
    });
    const fns = Object.entries(props.functions);
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'API requests', left: [api.metricCount({ period: FIVE_MINUTES })], width: 8 }),
      new cloudwatch.GraphWidget({
        title: 'API 4xx / 5xx',
        left: [api.metricClientError({ period: FIVE_MINUTES }), api.metricServerError({ period: FIVE_MINUTES })],
        width: 8,
      }),
      new cloudwatch.GraphWidget({ title: 'API latency p99 (ms)', left: [api.metricLatency({ period: FIVE_MINUTES, statistic: 'p99' })], width: 8 }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Lambda errors', left: fns.map(([name, fn]) => fn.function.metricErrors({ period: FIVE_MINUTES, label: name })), width: 8 }),
      new cloudwatch.GraphWidget({ title: 'Lambda throttles', left: fns.map(([name, fn]) => fn.function.metricThrottles({ period: FIVE_MINUTES, label: name })), width: 8 }),
      new cloudwatch.GraphWidget({
        title: 'Dead-letter queue depth',
        left: Object.entries(props.deadLetterQueues).map(([name, q]) => q.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: 'Maximum', label: name })),
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Sessions opened / accepted',
        left: [this.business('SessionsOpened', FIVE_MINUTES), this.business('SessionsAccepted', FIVE_MINUTES)],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Sessions rejected by reason',
        left: [
          new cloudwatch.MathExpression({
            expression: `SEARCH('{${METRICS_NAMESPACE},institutionId,reason} MetricName="SessionsRejected" institutionId="${institution.id}"', 'Sum', 300)`,
            label: '',
            period: FIVE_MINUTES,
          }),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Code redemption failures / unknown objects / audit write failures',
        left: [this.business('CodeRedemptionFailures', FIVE_MINUTES), this.business('UnknownObjects', FIVE_MINUTES), this.business('AuditWriteFailures', FIVE_MINUTES)],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Bytes accepted', left: [this.business('BytesAccepted', FIVE_MINUTES)], width: 8 }),
      new cloudwatch.GraphWidget({
        title: 'Inspection: bytes read / files inspected',
        left: [this.business('InspectionBytesRead', FIVE_MINUTES)],
        right: [this.business('FilesInspected', FIVE_MINUTES)],
        width: 8,
      }),
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 8 }),
    );
  }

  /** A business metric of this institution, as the Lambdas publish it (Sum per period). */
  business(metricName: string, period: Duration): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName,
      dimensionsMap: { institutionId: this.institutionId },
      statistic: 'Sum',
      period,
    });
  }

  private alarm(id: string, description: string, metric: cloudwatch.IMetric, threshold: number): void {
    const alarm = new cloudwatch.Alarm(this, id, {
      alarmName: `UploadPortal-${this.institutionId}-${id}`,
      alarmDescription: description,
      metric,
      threshold,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.topic));
    alarm.addOkAction(new actions.SnsAction(this.topic));
    this.alarms.push(alarm);
  }
}
