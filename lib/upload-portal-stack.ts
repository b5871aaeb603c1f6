/**
 * UploadPortalStack: one hospital's deployment. It only composes the constructs (one per concern)
 * from a validated institution config; each construct owns its resources, grants and nag reasons.
 */
import { MalwareProtection } from './malware-protection';
import { MalwareScanResults } from './malware-scan-results';
import { CfnElement, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct, IConstruct } from 'constructs';
import type { InstitutionConfig } from '../lambdas/core/institution';
import type { AppFunction } from './app-function';
import { AccessLogBucket, acknowledge, logsKey } from './defaults';
import { Delivery } from './delivery';
import { PortalEvents } from './events';
import { Inspection } from './inspection';
import { Monitoring } from './monitoring';
import { PortalSite } from './portal-site';
import { SessionTable } from './session-table';
import { SessionCompleter } from './completer';
import { SessionSweeper } from './sweeper';
import { UploadApi } from './upload-api';
import { SESSIONS_PREFIX, UploadStorage } from './upload-storage';

export interface UploadPortalStackProps extends StackProps {
  institution: InstitutionConfig;
  /** The built portal to deploy (web/dist). */
  portalAssetDir: string;
  /** Where the Lambda entry files live (defaults to lambdas/runtime/entries). */
}

export function stackNameFor(institutionId: string): string {
  return `UploadPortal-${institutionId}`;
}

export class UploadPortalStack extends Stack {
  readonly institution: InstitutionConfig;
  readonly storage: UploadStorage;
  readonly table: SessionTable;
  readonly events: PortalEvents;
  readonly api: UploadApi;
  readonly inspection: Inspection;
  readonly sweeper: SessionSweeper;
  readonly completer: SessionCompleter;
  readonly site: PortalSite;
  readonly monitoring: Monitoring;
  /** Present when the institution config names a delivery target. */
  readonly delivery?: Delivery;
  /** Present when the institution turns on GuardDuty Malware Protection for S3. */
  readonly malwareProtection?: MalwareProtection;
  /** With malware protection: the scan results' queue and the Lambda that records them. */
  readonly malwareScanResults?: MalwareScanResults;
  /** Every Lambda, by display name (the route id, Inspector, Sweeper, Completer). */
  readonly functions: Record<string, AppFunction>;

  constructor(scope: Construct, id: string, props: UploadPortalStackProps) {
    super(scope, id, {
      description: `DICOM Upload Portal for ${props.institution.name} (${props.institution.id})`,
      ...props,
    });
    const { institution } = props;
    this.institution = institution;
    const logs = logsKey(this, 'LogsKey');
    const accessLogs = new AccessLogBucket(this, 'AccessLogs');

    this.storage = new UploadStorage(this, 'UploadStorage', { institution, accessLogs: accessLogs.bucket });
    if (institution.malwareProtection) {
      this.malwareProtection = new MalwareProtection(this, 'MalwareProtection', { bucket: this.storage.bucket, key: this.storage.key, prefix: SESSIONS_PREFIX });
    }
    this.table = new SessionTable(this, 'SessionTable');
    this.events = new PortalEvents(this, 'Events', { institution });
    this.api = new UploadApi(this, 'UploadApi', { institution, storage: this.storage, table: this.table, events: this.events, logsKey: logs });
    this.inspection = new Inspection(this, 'Inspection', { institution, storage: this.storage, table: this.table, events: this.events, logsKey: logs });
    // The background functions' dead-letter queues share the inspection queue's key.
    const workerProps = { institution, storage: this.storage, table: this.table, events: this.events, logsKey: logs, queueKey: this.inspection.key };
    this.sweeper = new SessionSweeper(this, 'SessionSweeper', workerProps);
    this.completer = new SessionCompleter(this, 'SessionCompleter', workerProps);
    this.completer.bindInvoker(this.api.functions.CompleteSession!);
    const { delivery } = institution;
    if (delivery) this.delivery = new Delivery(this, 'Delivery', { institution: { ...institution, delivery }, storage: this.storage, table: this.table, events: this.events, logsKey: logs });
    if (this.malwareProtection) {
      this.malwareScanResults = new MalwareScanResults(this, 'MalwareScanResults', { institution, storage: this.storage, table: this.table, events: this.events, logsKey: logs });
      // Delivery checks each object's scan tag; the sweeper keeps it when it tags accepted files.
      for (const fn of [this.sweeper.sweeper, ...(this.delivery ? [this.delivery.deliverer] : [])]) this.storage.bindTagReader(fn);
    }
    this.functions = {
      ...this.api.functions,
      Inspector: this.inspection.inspector,
      Sweeper: this.sweeper.sweeper,
      Completer: this.completer.completer,
      ...(this.delivery ? { Delivery: this.delivery.deliverer } : {}),
      ...(this.malwareScanResults ? { MalwareScan: this.malwareScanResults.recorder } : {}),
    };
    // config.ts validates BUCKET_NAME in every Lambda; functions without S3 access get the name, never a grant.
    for (const fn of Object.values(this.functions)) {
      if (!fn.boundEnvironment.has('BUCKET_NAME')) this.storage.bindNameOnly(fn);
    }

    this.site = new PortalSite(this, 'PortalSite', {
      institution,
      assetDir: props.portalAssetDir,
      apiUrl: this.api.url,
      uploadsBucket: this.storage.bucket,
      accessLogs: accessLogs.bucket,
    });
    this.monitoring = new Monitoring(this, 'Monitoring', {
      institution,
      httpApi: this.api.httpApi,
      functions: this.functions,
      deadLetterQueues: {
        InspectionDLQ: this.inspection.deadLetterQueue,
        SweeperDLQ: this.sweeper.deadLetterQueue,
        CompleterDLQ: this.completer.deadLetterQueue,
        ...(this.delivery ? { DeliveryDLQ: this.delivery.deadLetterQueue } : {}),
        ...(this.malwareScanResults ? { MalwareScanDLQ: this.malwareScanResults.deadLetterQueue } : {}),
      },
    });
    if (this.delivery) this.monitoring.dashboard.addWidgets(...this.delivery.dashboardRow((name, period) => this.monitoring.business(name, period)));

    this.storage.acknowledgeNotificationsHelper();
    this.acknowledgeCdkProviders();

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'HTTP API base URL (npm run codes uses it)' });
    new CfnOutput(this, 'PortalUrl', { value: this.site.url, description: 'CloudFront URL of the portal (point portalOrigin\'s DNS here)' });
    new CfnOutput(this, 'UploadsBucketName', { value: this.storage.bucket.bucketName });
    new CfnOutput(this, 'TableName', { value: this.table.table.tableName });
    new CfnOutput(this, 'EventBusName', { value: this.events.bus.eventBusName });
    new CfnOutput(this, 'IssueCodesPolicyArn', { value: this.api.issueCodesPolicy.managedPolicyArn, description: 'Attach to the staff role/group that issues upload codes' });
    new CfnOutput(this, 'DashboardName', { value: this.monitoring.dashboard.dashboardName });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn });
  }

  /**
   * The helper Lambdas CDK itself adds (S3 notification setup, portal file deployment) are
   * deployment-time custom resources, not part of the data path; their findings are acknowledged
   * here, where they are created, with the reason.
   */
  private acknowledgeCdkProviders(): void {
    for (const child of this.node.children) {
      if (child.node.id.startsWith('BucketNotificationsHandler')) {
        acknowledgeProvider(child, 'configures the uploads bucket\'s event notification at deployment time; s3:PutBucketNotification does not support narrower resources in this CDK provider');
      } else if (child.node.id.startsWith('Custom::CDKBucketDeployment')) {
        const what = 'copies the portal build (public static files, no PHI) from the CDK asset bucket to the portal bucket at deployment time';
        acknowledgeProvider(child, what);
        const siteBucket = this.resolve((this.site.bucket.node.defaultChild as CfnElement).logicalId) as string;
        acknowledge(child, [
          ...['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*'].map(
            (action): [string, string] => [`AwsSolutions-IAM5[Action::${action}]`, `CDK-provided deployment helper that ${what}; the action set is generated by aws-cdk-lib and limited to the asset and portal buckets.`],
          ),
          ['AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]', `CDK-provided deployment helper that ${what}; it reads the deployment's assets from the CDK bootstrap bucket.`],
          [`AwsSolutions-IAM5[Resource::<${siteBucket}.Arn>/*]`, `CDK-provided deployment helper that ${what}; it writes the portal bucket only.`],
        ]);
      }
    }
  }
}

function acknowledgeProvider(construct: IConstruct, what: string): void {
  acknowledge(construct, [
    ['AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', `CDK-provided deployment helper that ${what}; the AWS managed policy only lets it write its own logs.`],
    ['AwsSolutions-IAM5[Resource::*]', `CDK-provided deployment helper that ${what}.`],
    ['AwsSolutions-L1', `CDK-provided deployment helper that ${what}; its runtime is pinned by aws-cdk-lib and upgraded with it.`],
    ['HIPAA.Security-LambdaConcurrency', `CDK-provided deployment helper that ${what}; it runs only during deployments.`],
    ['HIPAA.Security-LambdaDLQ', `CDK-provided deployment helper that ${what}; CloudFormation reports its failure and rolls back.`],
    ['HIPAA.Security-LambdaInsideVPC', `CDK-provided deployment helper that ${what}; it reaches only AWS APIs.`],
    ['HIPAA.Security-IAMNoInlinePolicy', `CDK-provided deployment helper that ${what}; its policy is generated by aws-cdk-lib.`],
  ]);
}
