/**
 * Delivery: accepted studies go to the hospital (DESIGN.md "Delivery to the hospital").
 * UploadSessionAccepted on the institution's bus → SQS (KMS, TLS-only, DLQ) → the delivery Lambda,
 * which reports partial batch failures; a failed record returns after the visibility timeout and,
 * after MAX_RECEIVE_COUNT tries, lands in the DLQ, which alarms.
 *
 * - DICOMweb: STOW-RS from the Lambda, with credentials from one Secrets Manager secret, and
 *   optionally from inside the hospital's VPC for a PACS reachable only over a private link.
 * - HealthImaging: the Lambda stages each study under deliveries/ and starts an import job with a
 *   data-access role of its own. The job's end comes back as HealthImaging's own EventBridge event
 *   ("Import Job Completed" / "Import Job Failed", default bus) into the same queue, so reading
 *   the result back has the same retries and DLQ, and no poll runs while nothing is imported.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { GraphWidget } from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambdaEvents from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { DeliveryConfig } from '../lambdas/core/delivery-config';
import type { InstitutionConfig } from '../lambdas/core/institution';
import { workerEntries } from '../lambdas/runtime/routes';
import { AppFunction } from './app-function';
import { acknowledge, customerManagedKey, encryptedQueue, VISIBILITY_TIMEOUT_FACTOR } from './defaults';
import type { PortalEvents } from './events';
import type { SessionTable } from './session-table';
import type { UploadStorage } from './upload-storage';

/** A whole session per invocation: staging or posting thousands of files takes minutes, not seconds. */
export const DELIVERY_TIMEOUT = Duration.minutes(15);
/** Lets the sweeper tag the accepted files first: until then the delivery role may not read them. */
export const DELIVERY_DELAY = Duration.minutes(1);
/** Parallel deliveries: a hospital PACS takes a few concurrent STOW-RS streams, not dozens. */
export const DELIVERY_CONCURRENCY = 2;
export const IMPORT_JOB_ENDED = ['Import Job Completed', 'Import Job Failed'] as const;

export interface DeliveryProps {
  institution: InstitutionConfig & { delivery: DeliveryConfig };
  storage: UploadStorage;
  table: SessionTable;
  events: PortalEvents;
  logsKey: kms.IKey;
}

export class Delivery extends Construct {
  readonly key: kms.Key;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly deliverer: AppFunction;
  /** HealthImaging only: the role the import job assumes. */
  readonly importRole?: iam.Role;

  constructor(scope: Construct, id: string, props: DeliveryProps) {
    super(scope, id);
    const { institution } = props;
    const delivery = institution.delivery;
    if (delivery.type === 'dicomweb' && delivery.auth && !delivery.auth.secretArn) {
      throw new Error(`delivery.auth: on AWS the ${delivery.auth.type} credentials come from Secrets Manager; set delivery.auth.secretArn`);
    }
    this.key = customerManagedKey(this, 'Key', 'Encrypts the Upload Portal delivery queue (session ids and import job ids)');
    this.deadLetterQueue = encryptedQueue(this, 'DeadLetterQueue', { key: this.key, retentionPeriod: Duration.days(14) });
    acknowledge(this.deadLetterQueue, [['AwsSolutions-SQS3', 'This queue is the delivery queue\'s dead-letter queue; Monitoring alarms as soon as it holds a message.']]);
    this.queue = encryptedQueue(this, 'Queue', {
      key: this.key,
      deadLetterQueue: this.deadLetterQueue,
      visibilityTimeout: Duration.seconds(DELIVERY_TIMEOUT.toSeconds() * VISIBILITY_TIMEOUT_FACTOR),
      retentionPeriod: Duration.days(14),
      deliveryDelay: DELIVERY_DELAY,
    });

    this.deliverer = new AppFunction(this, 'Deliverer', {
      entry: workerEntries.delivery,
      serviceName: 'delivery',
      description: `Upload Portal ${institution.id}: delivers accepted studies to ${delivery.type === 'dicomweb' ? 'the hospital PACS (DICOMweb)' : 'AWS HealthImaging'}`,
      institution,
      logsKey: props.logsKey,
      timeout: DELIVERY_TIMEOUT,
      memorySize: 1024,
      reservedConcurrentExecutions: DELIVERY_CONCURRENCY,
      ...(delivery.type === 'dicomweb' && delivery.vpc ? { vpcPlacement: this.vpcPlacement(delivery.vpc) } : {}),
      outsideVpcReason:
        delivery.type === 'dicomweb'
          ? 'The hospital\'s PACS is reached over HTTPS on its public DICOMweb endpoint with credentials from Secrets Manager; a PACS reachable only privately is configured with delivery.vpc, which places this function in the hospital\'s subnets.'
          : 'The function reaches only AWS APIs (S3, HealthImaging) over TLS with IAM-scoped credentials; it opens no network listener.',
    });
    props.storage.bindDeliveryReader(this.deliverer);
    // The studies' delivery state lives on the session's items; UploadStudyDelivered/…Failed go on the bus.
    props.table.bindReadWrite(this.deliverer);
    props.events.bindPublisher(this.deliverer);
    this.deliverer.function.addEventSource(
      new lambdaEvents.SqsEventSource(this.queue, { batchSize: 1, reportBatchItemFailures: true, maxConcurrency: DELIVERY_CONCURRENCY }),
    );
    acknowledge(this.deliverer.function, [
      ['HIPAA.Security-LambdaDLQ', 'The delivery Lambda is invoked by an SQS event source mapping, not asynchronously; failed messages go to the delivery queue\'s DLQ (maxReceiveCount) instead.'],
    ]);

    new events.Rule(this, 'OnAccepted', {
      description: `Upload Portal ${institution.id}: deliver an accepted session's studies`,
      eventBus: props.events.bus,
      eventPattern: { source: [props.events.source], detailType: ['UploadSessionAccepted'] },
      targets: [new targets.SqsQueue(this.queue)],
    });

    if (delivery.type === 'dicomweb') this.bindDicomweb(delivery);
    else this.importRole = this.bindHealthImaging(delivery, props);
  }

  /** The dashboard row: studies delivered and failed (and submitted for import), the DLQ, and how long a delivery takes. */
  dashboardRow(business: (metricName: string, period: Duration) => cloudwatch.IMetric): cloudwatch.IWidget[] {
    const period = Duration.minutes(5);
    // HealthImaging delivers when an import ends; submissions beside the ends show imports still running.
    const studies = ['StudiesDelivered', 'StudiesDeliveryFailed', ...(this.importRole ? ['StudiesSubmittedForImport'] : [])];
    return [
      new GraphWidget({ title: 'Studies delivered / failed', left: studies.map((name) => business(name, period)), width: 8 }),
      new GraphWidget({
        title: 'Delivery DLQ depth',
        left: [this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum', label: 'DeliveryDLQ' })],
        width: 8,
      }),
      new GraphWidget({
        title: 'Delivery duration (ms)',
        left: [this.deliverer.function.metricDuration({ period, statistic: 'p50', label: 'p50' }), this.deliverer.function.metricDuration({ period, statistic: 'Maximum', label: 'max' })],
        width: 8,
      }),
    ];
  }

  private vpcPlacement(vpc: NonNullable<Extract<DeliveryConfig, { type: 'dicomweb' }>['vpc']>) {
    return {
      vpc: ec2.Vpc.fromVpcAttributes(this, 'Vpc', { vpcId: vpc.vpcId, availabilityZones: Stack.of(this).availabilityZones }),
      subnets: vpc.subnetIds.map((subnetId, i) => ec2.Subnet.fromSubnetId(this, `Subnet${i}`, subnetId)),
      securityGroups: vpc.securityGroupIds.map((groupId, i) => ec2.SecurityGroup.fromSecurityGroupId(this, `SecurityGroup${i}`, groupId, { mutable: false })),
    };
  }

  /** Read access to the one secret that holds the PACS credentials. */
  private bindDicomweb(delivery: Extract<DeliveryConfig, { type: 'dicomweb' }>): void {
    if (!delivery.auth?.secretArn) return;
    this.deliverer.addToRolePolicy(new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [delivery.auth.secretArn] }));
  }

  private bindHealthImaging(delivery: Extract<DeliveryConfig, { type: 'healthimaging' }>, props: DeliveryProps): iam.Role {
    const stack = Stack.of(this);
    const datastoreArn = stack.formatArn({ service: 'medical-imaging', resource: 'datastore', resourceName: delivery.datastoreId });
    // Only this account's data store may act with the role (no confused deputy).
    const role = new iam.Role(this, 'ImportRole', {
      assumedBy: new iam.ServicePrincipal('medical-imaging.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account }, ArnEquals: { 'aws:SourceArn': datastoreArn } },
      }),
      description: `Upload Portal ${props.institution.id}: HealthImaging import jobs read staged studies and write their results`,
    });
    props.storage.bindImportDataAccess(role);
    acknowledge(role, [
      ['HIPAA.Security-IAMNoInlinePolicy', 'The policy is a separate AWS::IAM::Policy attached to this one role only, created and reviewed with the delivery stage; a managed policy would only make it attachable to other principals.'],
    ]);

    props.storage.bindImportStager(this.deliverer);
    this.deliverer.addEnvironment('HEALTHIMAGING_IMPORT_ROLE_ARN', role.roleArn);
    // A failed import asks for another delivery run through its own queue, after a delay.
    this.deliverer.addEnvironment('DELIVERY_QUEUE_URL', this.queue.queueUrl);
    // SendMessage only, and the two key actions an SSE-KMS producer needs (no wildcard actions).
    this.deliverer.addToRolePolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.queue.queueArn] }));
    this.deliverer.addToRolePolicy(new iam.PolicyStatement({ actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [this.key.keyArn] }));
    this.deliverer.addToRolePolicy(new iam.PolicyStatement({ actions: ['medical-imaging:StartDICOMImportJob', 'medical-imaging:GetDICOMImportJob'], resources: [datastoreArn] }));
    this.deliverer.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['iam:PassRole'], resources: [role.roleArn], conditions: { StringEquals: { 'iam:PassedToService': 'medical-imaging.amazonaws.com' } } }),
    );

    new events.Rule(this, 'OnImportJobEnded', {
      description: `Upload Portal ${props.institution.id}: read a HealthImaging import job's result back`,
      eventPattern: { source: ['aws.medical-imaging'], detailType: [...IMPORT_JOB_ENDED], detail: { datastoreId: [delivery.datastoreId] } },
      targets: [new targets.SqsQueue(this.queue)],
    });
    return role;
  }
}
