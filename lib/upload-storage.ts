/**
 * UploadStorage: the uploads bucket. Browsers PUT straight into it with presigned URLs, so it is
 * the one place PHI lands: KMS CMK, private, TLS-only, CORS for the portal origin only, access
 * logs, and a lifecycle that deletes what was never accepted and keeps accepted data for the
 * institution's retention period.
 *
 * Versioning is ON: accepted studies are protected against overwrite and accidental deletion.
 * Because a delete then only hides an object, noncurrent versions (removed files, rejected
 * sessions) are purged after 1 day and expired delete markers are cleaned up.
 *
 * Retention by object tag (keys stay `sessions/{sessionId}/files/{fileId}`, as DESIGN.md says):
 * - the upload URL carries `x-amz-tagging: upload-state=pending` (signed), so pending data expires
 *   after `retention.pendingDays`;
 * - on acceptance the completion sets `upload-state=accepted` on every file (PutObjectTagging), so
 *   the pending rule no longer matches;
 * - everything under sessions/ (accepted data, manifests, and any object that somehow lacks the
 *   tag) expires after `retention.acceptedDays`: S3 applies the shortest matching expiration, so
 *   this is the ceiling for all session data.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { InstitutionConfig } from '../lambdas/core/institution';
import { DELIVERY_STAGING_DAYS, DELIVERY_STAGING_PREFIX, STAGED_INPUTS, STAGED_OUTPUTS } from '../lambdas/core/delivery-staging';
import { RETENTION_TAG } from '../lambdas/core/retention';
import type { AppFunction } from './app-function';
import { acknowledge, customerManagedKey, privateBucketProps } from './defaults';

export const SESSIONS_PREFIX = 'sessions/';
const FILES = `${SESSIONS_PREFIX}*/files/*`;
const MANIFESTS = `${SESSIONS_PREFIX}*/manifest.json`;
const SESSION_DATA = `${SESSIONS_PREFIX}*`;

export interface UploadStorageProps {
  institution: InstitutionConfig;
  accessLogs: s3.IBucket;
}

/** What each transfer route does with the uploads bucket. */
export type TransferUse = 'declare' | 'sign-parts' | 'list-parts' | 'finish';

const TRANSFER_GRANTS: Record<TransferUse, { s3: string[]; kms: string[]; why: string }> = {
  // Declaring (and renewing) presigns a PUT with the pending tag, or starts a multipart upload and aborts it if recording it fails.
  declare: {
    s3: ['s3:PutObject', 's3:PutObjectTagging', 's3:AbortMultipartUpload'],
    kms: ['kms:GenerateDataKey', 'kms:Decrypt'],
    why: 'presigns PUTs with the pending retention tag, starts multipart uploads and aborts one it could not record',
  },
  'sign-parts': { s3: ['s3:PutObject'], kms: ['kms:GenerateDataKey', 'kms:Decrypt'], why: 'presigns the parts of multipart uploads' },
  'list-parts': { s3: ['s3:ListMultipartUploadParts'], kms: [], why: 'lists the parts S3 holds of multipart uploads' },
  finish: { s3: ['s3:PutObject', 's3:ListMultipartUploadParts'], kms: ['kms:GenerateDataKey', 'kms:Decrypt'], why: 'checks the parts S3 holds and completes multipart uploads' },
};

export class UploadStorage extends Construct {
  readonly bucket: s3.Bucket;
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: UploadStorageProps) {
    super(scope, id);
    const { retention, portalOrigin } = props.institution;
    this.key = customerManagedKey(this, 'Key', 'Encrypts uploaded DICOM studies and attachments (PHI) in the Upload Portal bucket');
    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...privateBucketProps(),
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      versioned: true,
      serverAccessLogsBucket: props.accessLogs,
      serverAccessLogsPrefix: `uploads-${props.institution.id}/`,
      cors: [
        {
          allowedOrigins: [portalOrigin],
          allowedMethods: [s3.HttpMethods.PUT, s3.HttpMethods.GET, s3.HttpMethods.HEAD],
          // Presigned PUTs sign content-type, if-none-match, the SHA-256 checksum and the tagging header.
          allowedHeaders: ['content-type', 'content-md5', 'if-none-match', 'x-amz-*'],
          exposedHeaders: ['ETag'],
          maxAge: 3000,
        },
      ],
      lifecycleRules: [
        { id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
        {
          id: 'expire-pending-session-data',
          prefix: SESSIONS_PREFIX,
          tagFilters: { [RETENTION_TAG.key]: RETENTION_TAG.pending },
          expiration: Duration.days(retention.pendingDays),
        },
        {
          id: 'expire-session-data-after-retention',
          prefix: SESSIONS_PREFIX,
          expiration: Duration.days(retention.acceptedDays),
        },
        // Copies staged for an import job, and its results: needed only until the job is read back.
        { id: 'expire-delivery-staging', prefix: DELIVERY_STAGING_PREFIX, expiration: Duration.days(DELIVERY_STAGING_DAYS) },
        { id: 'purge-deleted-versions', noncurrentVersionExpiration: Duration.days(1), expiredObjectDeleteMarker: true },
      ],
    });
    acknowledge(this.bucket, [
      ['HIPAA.Security-S3BucketReplicationEnabled', 'PHI stays in the one region the hospital deploys to (data residency). Versioning and the KMS key (retained on stack deletion) protect accepted studies; the hospital imports accepted studies into its PACS, which is the system of record.'],
    ]);
  }

  /** Acknowledges the policy of CDK's notification-configuration helper (created with the first notification). */
  acknowledgeNotificationsHelper(): void {
    const notifications = this.bucket.node.tryFindChild('Notifications');
    if (notifications) {
      acknowledge(notifications, [
        ['HIPAA.Security-IAMNoInlinePolicy', 'CDK-generated policy of the deployment-time helper that configures this bucket\'s event notification; it grants only s3:PutBucketNotification.'],
      ]);
    }
  }

  /** The bucket name alone, for a function that never touches objects (the Lambda config requires the variable). */
  bindNameOnly(fn: AppFunction): void {
    fn.addEnvironment('BUCKET_NAME', this.bucket.bucketName);
  }

  /**
   * The request-uploads and transfer Lambdas, each with only what its route does. Presigned PUTs and
   * parts run with the signer's role, so it needs s3:PutObject (and s3:PutObjectTagging for the pending
   * tag a PUT carries). SSE-KMS multipart uploads need kms:Decrypt as well as kms:GenerateDataKey (S3
   * decrypts the data key for each part and the completion).
   */
  bindUploadSigner(fn: AppFunction, use: TransferUse): void {
    fn.addEnvironment('BUCKET_NAME', this.bucket.bucketName);
    const grant = TRANSFER_GRANTS[use];
    this.grantObjects(fn, grant.s3, FILES, `${grant.why}, of declared files under sessions/*/files/ only`);
    if (grant.kms.length > 0) this.grantKey(fn, grant.kms);
  }

  /** The inspector: ranged reads of the header, and deletion of undeclared or rejected objects. */
  bindInspector(fn: AppFunction): void {
    fn.addEnvironment('BUCKET_NAME', this.bucket.bucketName);
    this.grantObjects(fn, ['s3:GetObject', 's3:DeleteObject'], SESSION_DATA, 'reads file headers and deletes undeclared objects or a rejected session\'s objects, under sessions/ only');
    this.grantList(fn);
    this.grantKey(fn, ['kms:Decrypt']);
  }

  /** The revoke-upload-code Lambda: deletes the objects of the session a revoked code ended. */
  bindCodeRevoker(fn: AppFunction): void {
    fn.addEnvironment('BUCKET_NAME', this.bucket.bucketName);
    this.grantObjects(fn, ['s3:DeleteObject'], SESSION_DATA, 'deletes the objects of a session its revoked code ended, under sessions/ only');
    this.grantList(fn);
  }

  /** The remove-file Lambda: deletes one declared file's object. */
  bindFileRemover(fn: AppFunction): void {
    fn.addEnvironment('BUCKET_NAME', this.bucket.bucketName);
    this.grantObjects(fn, ['s3:DeleteObject', 's3:AbortMultipartUpload'], FILES, 'deletes a removed file\'s object or aborts its multipart upload, under sessions/*/files/ only');
  }

  /** The complete-session Lambda: writes the manifest, marks files accepted, cleans up a rejected session. */
  bindCompleter(fn: AppFunction): void {
    fn.addEnvironment('BUCKET_NAME', this.bucket.bucketName);
    this.grantObjects(fn, ['s3:PutObject'], MANIFESTS, 'writes the session manifest, at sessions/*/manifest.json only');
    this.grantObjects(fn, ['s3:GetObject'], FILES, 'checks arrived files, under sessions/*/files/ only');
    this.grantObjects(fn, ['s3:DeleteObject'], SESSION_DATA, 'deletes a rejected session\'s objects (the cleaner lists the session\'s prefix), under sessions/ only');
    this.grantList(fn);
    this.grantKey(fn, ['kms:GenerateDataKey']);
  }

  /** The sweeper: deletes objects of sessions that expired without completing; tags accepted files for retention. */
  bindSweeper(fn: AppFunction): void {
    fn.addEnvironment('BUCKET_NAME', this.bucket.bucketName);
    this.grantObjects(fn, ['s3:DeleteObject'], SESSION_DATA, 'deletes the objects of expired sessions, under sessions/ only');
    this.grantObjects(fn, ['s3:PutObjectTagging'], FILES, 'tags the files of accepted sessions for retention, under sessions/*/files/ only');
    this.grantList(fn);
  }

  /**
   * The delivery Lambda: reads accepted files only (the sweeper tags them `upload-state=accepted`;
   * pending or rejected uploads stay unreadable to it).
   */
  bindDeliveryReader(fn: AppFunction): void {
    fn.addEnvironment('BUCKET_NAME', this.bucket.bucketName);
    this.grantObjects(fn, ['s3:GetObject'], FILES, 'reads accepted files for delivery, under sessions/*/files/ only and only while tagged accepted', {
      StringEquals: { [`s3:ExistingObjectTag/${RETENTION_TAG.key}`]: RETENTION_TAG.accepted },
    });
    this.grantKey(fn, ['kms:Decrypt']);
  }

  /** With GuardDuty on: the scan-result Lambda deletes the objects of a session a flagged file rejected. */
  bindScanRecorder(fn: AppFunction): void {
    fn.addEnvironment('BUCKET_NAME', this.bucket.bucketName);
    this.grantObjects(fn, ['s3:DeleteObject'], SESSION_DATA, 'deletes the objects of a session that a file flagged by the malware scan rejected, under sessions/ only');
    this.grantList(fn);
  }

  /** With GuardDuty on: reading files' tags (delivery checks the scan tag; the sweeper keeps it when it re-tags). */
  bindTagReader(fn: AppFunction): void {
    this.grantObjects(fn, ['s3:GetObjectTagging'], FILES, 'reads the files\' tags (GuardDuty\'s scan result), under sessions/*/files/ only');
  }

  /** HealthImaging delivery: stages a study's copies for the import job and reads the job's results. */
  bindImportStager(fn: AppFunction): void {
    // A staged object over 5 GiB goes up in parts (PutObject covers their upload); a failed one is aborted.
    this.grantObjects(fn, ['s3:PutObject', 's3:AbortMultipartUpload'], STAGED_INPUTS, 'stages copies of accepted files for an import job, under deliveries/*/input/ only');
    this.grantObjects(fn, ['s3:GetObject'], STAGED_OUTPUTS, 'reads the import job\'s results, under deliveries/*/output/ only');
    this.grantKey(fn, ['kms:GenerateDataKey']);
  }

  /** The role HealthImaging assumes for an import job: reads the staged inputs, writes its results. */
  bindImportDataAccess(role: iam.Role): void {
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [this.bucket.arnForObjects(STAGED_INPUTS)] }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [this.bucket.arnForObjects(STAGED_OUTPUTS)] }));
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn], conditions: { StringLike: { 's3:prefix': [`${DELIVERY_STAGING_PREFIX}*`] } } }),
    );
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [this.key.keyArn] }));
    acknowledge(role, [
      [`AwsSolutions-IAM5[Resource::<${this.bucketLogicalId()}.Arn>/${STAGED_INPUTS}]`, 'Staging prefixes are per session and study, so the grant is a key pattern; HealthImaging reads the staged copies under deliveries/*/input/ only.'],
      [`AwsSolutions-IAM5[Resource::<${this.bucketLogicalId()}.Arn>/${STAGED_OUTPUTS}]`, 'Staging prefixes are per session and study, so the grant is a key pattern; HealthImaging writes its job results under deliveries/*/output/ only.'],
    ]);
  }

  private grantObjects(fn: AppFunction, actions: string[], pattern: string, why: string, conditions?: Record<string, unknown>): void {
    fn.addToRolePolicy(new iam.PolicyStatement({ actions, resources: [this.bucket.arnForObjects(pattern)], ...(conditions ? { conditions } : {}) }));
    acknowledge(fn.role, [
      [`AwsSolutions-IAM5[Resource::<${this.bucketLogicalId()}.Arn>/${pattern}]`, `Object keys are random ids per session and file, so the grant is a key pattern; it ${why}.`],
    ]);
  }

  private grantList(fn: AppFunction): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [SESSION_DATA] } },
      }),
    );
  }

  private grantKey(fn: AppFunction, actions: string[]): void {
    fn.addToRolePolicy(new iam.PolicyStatement({ actions, resources: [this.key.keyArn] }));
  }

  private bucketLogicalId(): string {
    return Stack.of(this).resolve((this.bucket.node.defaultChild as s3.CfnBucket).logicalId) as string;
  }
}
