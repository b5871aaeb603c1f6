/**
 * Secure defaults, in one place: every construct in lib/ builds its buckets, keys, queues, log
 * groups and Lambda settings from these, so a reviewer checks the security posture here once.
 */
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';
import { Construct } from 'constructs';

export const LAMBDA_RUNTIME = lambda.Runtime.NODEJS_22_X;
export const LAMBDA_ARCHITECTURE = lambda.Architecture.ARM_64;
/** Lambda and API logs hold no PHI; one year covers incident investigation and audits of access patterns. */
export const LOG_RETENTION = logs.RetentionDays.ONE_YEAR;
/** S3/CloudFront access logs are the audit trail of who touched PHI objects: kept six years (HIPAA documentation retention). */
export const ACCESS_LOG_RETENTION_DAYS = 6 * 365;
/** A message that failed this many inspections goes to the DLQ (and the DLQ alarm fires). */
export const MAX_RECEIVE_COUNT = 5;
/** SQS guidance: the visibility timeout must be at least 6× the consumer's timeout. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;
/** Stage throttling: a portal session makes a handful of requests per batch of 10 files. */
export const API_THROTTLE = { rateLimit: 50, burstLimit: 100 } as const;
/** Failed redemptions per 5 minutes that look like guessing rather than typos. */
export const CODE_REDEMPTION_FAILURE_SPIKE = 20;

/** A customer-managed key with yearly automatic rotation, kept when the stack is deleted (data may outlive it). */
export function customerManagedKey(scope: Construct, id: string, description: string): kms.Key {
  return new kms.Key(scope, id, {
    description,
    enableKeyRotation: true,
    removalPolicy: RemovalPolicy.RETAIN,
    pendingWindow: Duration.days(30),
  });
}

/** Private, TLS-only (TLS 1.2+), owner-enforced bucket settings shared by every bucket we create. */
export function privateBucketProps(): Pick<
  s3.BucketProps,
  'blockPublicAccess' | 'enforceSSL' | 'minimumTLSVersion' | 'objectOwnership' | 'removalPolicy'
> {
  return {
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    removalPolicy: RemovalPolicy.RETAIN,
  };
}

/**
 * The stack's access-log bucket: S3 server access logs and CloudFront standard logs.
 * SSE-S3, not KMS: S3 log delivery cannot write to SSE-KMS buckets. CloudFront standard logging
 * writes with ACLs, hence BUCKET_OWNER_PREFERRED instead of ENFORCED.
 */
export class AccessLogBucket extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...privateBucketProps(),
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      encryption: s3.BucketEncryption.S3_MANAGED,
      versioned: true,
      lifecycleRules: [
        { id: 'expire-access-logs', expiration: Duration.days(ACCESS_LOG_RETENTION_DAYS), noncurrentVersionExpiration: Duration.days(30) },
      ],
    });
    acknowledge(this.bucket, [
      ['AwsSolutions-S1', 'This is the access-log bucket itself; logging it into itself would loop, and it holds no PHI (only request metadata).'],
      ['HIPAA.Security-S3BucketLoggingEnabled', 'This is the access-log bucket itself; logging it into itself would loop.'],
      ['HIPAA.Security-S3DefaultEncryptionKMS', 'S3 server access log delivery cannot write to SSE-KMS buckets; SSE-S3 (AES-256) encrypts the logs at rest.'],
      ['HIPAA.Security-S3BucketReplicationEnabled', 'Access logs stay in the deployment region by design (data residency); versioning protects them against overwrite.'],
    ]);
  }
}

/** An SQS queue with KMS encryption, TLS-only access and (unless it is one) a DLQ. */
export function encryptedQueue(
  scope: Construct,
  id: string,
  props: { key: kms.IKey; visibilityTimeout?: Duration; deadLetterQueue?: sqs.IQueue; retentionPeriod?: Duration; deliveryDelay?: Duration },
): sqs.Queue {
  return new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.KMS,
    encryptionMasterKey: props.key,
    dataKeyReuse: Duration.minutes(5),
    enforceSSL: true,
    visibilityTimeout: props.visibilityTimeout,
    retentionPeriod: props.retentionPeriod,
    deliveryDelay: props.deliveryDelay,
    deadLetterQueue: props.deadLetterQueue ? { queue: props.deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT } : undefined,
  });
}

/**
 * A KMS key for CloudWatch Logs (HIPAA: log groups encrypted with a CMK). CloudWatch Logs may use
 * it only for log groups of this account and region.
 */
export function logsKey(scope: Construct, id: string): kms.Key {
  const key = customerManagedKey(scope, id, 'Encrypts the CloudWatch log groups of this Upload Portal stack');
  const { region, account, partition } = Stack.of(scope);
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal(`logs.${region}.amazonaws.com`)],
      actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey', 'kms:DescribeKey'],
      resources: ['*'],
      conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${partition}:logs:${region}:${account}:log-group:*` } },
    }),
  );
  return key;
}

export function encryptedLogGroup(scope: Construct, id: string, key: kms.IKey): logs.LogGroup {
  return new logs.LogGroup(scope, id, {
    encryptionKey: key,
    retention: LOG_RETENTION,
    removalPolicy: RemovalPolicy.RETAIN,
  });
}

/** Acknowledges cdk-nag findings on one construct; every entry carries the reason a reviewer reads. */
export function acknowledge(construct: IConstruct, findings: [id: string, reason: string][]): void {
  Validations.of(construct).acknowledge(...findings.map(([id, reason]) => ({ id, reason })));
}
