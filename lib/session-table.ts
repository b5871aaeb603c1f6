/**
 * SessionTable: the one DynamoDB table (codes, sessions, files, studies, rate windows), laid out as
 * lambdas/adapters/table.ts says. On-demand, point-in-time recovery, a customer-managed key, TTL.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { AUDIT_KEY_PREFIX, PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE } from '../lambdas/adapters/table';
import type { AppFunction } from './app-function';
import { acknowledge, customerManagedKey } from './defaults';

/** Item-level actions only: a transaction is authorized per item action, so no TransactWriteItems action exists. */
const READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem'];
const WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];
/** DynamoDB calls KMS on the caller's behalf: decrypt to read, encrypt/data keys to write. */
const KEY_READ_ACTIONS = ['kms:Decrypt', 'kms:DescribeKey'];
const KEY_WRITE_ACTIONS = ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'];

export class SessionTable extends Construct {
  readonly table: dynamodb.Table;
  readonly key: kms.Key;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.key = customerManagedKey(this, 'Key', 'Encrypts the Upload Portal table (codes, sessions, file records with DICOM header data)');
    // Table, not TableV2: TableV2 cannot render a customer-managed key in a region-agnostic stack.
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: PARTITION_KEY, type: dynamodb.AttributeType.STRING },
      sortKey: { name: SORT_KEY, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      timeToLiveAttribute: TTL_ATTRIBUTE,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(this.table, [
      ['HIPAA.Security-DynamoDBInBackupPlan', 'Point-in-time recovery gives continuous backups for 35 days; the table holds session state, and accepted studies themselves live in S3 with their own retention.'],
    ]);
  }

  /** Reads only: TABLE_NAME plus item reads. */
  bindRead(fn: AppFunction): void {
    fn.addEnvironment('TABLE_NAME', this.table.tableName);
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: READ_ACTIONS, resources: [this.table.tableArn] }));
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: KEY_READ_ACTIONS, resources: [this.key.keyArn] }));
  }

  /** Reads and conditional writes/transactions: TABLE_NAME plus item reads and writes. */
  bindReadWrite(fn: AppFunction, options: { scan?: boolean } = {}): void {
    fn.addEnvironment('TABLE_NAME', this.table.tableName);
    const actions = [...READ_ACTIONS, ...WRITE_ACTIONS, ...(options.scan ? ['dynamodb:Scan'] : [])];
    fn.addToRolePolicy(new iam.PolicyStatement({ actions, resources: [this.table.tableArn] }));
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: KEY_WRITE_ACTIONS, resources: [this.key.keyArn] }));
    fn.addToRolePolicy(denyAuditChanges(this.table.tableArn));
  }
}

/**
 * The audit trail is append-only: no function may update or delete an audit item. IAM cannot require
 * PutItem's attribute_not_exists condition, so the adapter (dynamo-audit-log.ts) is the one that
 * never replaces a record; DynamoDB's own TTL deletion is not an IAM call and still ends them.
 */
export function denyAuditChanges(tableArn: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    effect: iam.Effect.DENY,
    actions: ['dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'],
    resources: [tableArn],
    conditions: { 'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': [`${AUDIT_KEY_PREFIX}*`] } },
  });
}
