/**
 * The delivery stage in the per-institution stack, synthesized from the example institution files
 * in test/cdk/fixtures/delivery (DICOMweb with a secret and VPC placement; HealthImaging) and from
 * one without delivery. Asserts the queue, DLQ, alarms, dashboard, batch failure reporting and the
 * least-privilege grants, and that cdk-nag finds nothing unacknowledged.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, HIPAASecurityChecks } from 'cdk-nag';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DELIVERY_STAGING_DAYS } from '../../lambdas/core/delivery-staging';
import type { InstitutionConfig } from '../../lambdas/core/institution';
import { RETENTION_TAG } from '../../lambdas/core/retention';
import { METRICS_NAMESPACE } from '../../lambdas/runtime/observability';
import { PROJECT_ROOT } from '../../lib/app-function';
import { AccessLogBucket, logsKey, MAX_RECEIVE_COUNT, VISIBILITY_TIMEOUT_FACTOR } from '../../lib/defaults';
import { Delivery, DELIVERY_CONCURRENCY, DELIVERY_DELAY, IMPORT_JOB_ENDED } from '../../lib/delivery';
import { PortalEvents } from '../../lib/events';
import { SessionTable } from '../../lib/session-table';
import { UploadStorage } from '../../lib/upload-storage';
import { loadInstitutionFile } from '../../lib/institutions';
import { UploadPortalStack } from '../../lib/upload-portal-stack';

type Resource = { Type: string; Properties: Record<string, any> };
interface Synthesized {
  institution: InstitutionConfig;
  stack: UploadPortalStack;
  template: Template;
  resources: Record<string, Resource>;
}

const FIXTURES = path.join(PROJECT_ROOT, 'test/cdk/fixtures/delivery');
const withoutDelivery = loadInstitutionFile(path.join(PROJECT_ROOT, 'institutions/st-elsewhere.json'));
const variants: Record<'dicomweb' | 'healthimaging' | 'none', InstitutionConfig> = {
  dicomweb: loadInstitutionFile(path.join(FIXTURES, 'riverside-pacs.json')),
  healthimaging: loadInstitutionFile(path.join(FIXTURES, 'lakeside-ahi.json')),
  none: { ...withoutDelivery, delivery: undefined },
};
const synthesized = new Map<string, Synthesized>();
let outdir = '';

beforeAll(() => {
  outdir = mkdtempSync(path.join(tmpdir(), 'upload-portal-delivery-cdk-'));
  const app = new App({ outdir });
  // Every stack first, then the templates: the app synthesizes once.
  const stacks = Object.entries(variants).map(
    ([variant, institution]) =>
      [variant, institution, new UploadPortalStack(app, `UploadPortal-${institution.id}`, { institution, portalAssetDir: path.join(PROJECT_ROOT, 'test/cdk/fixtures/portal') })] as const,
  );
  for (const [variant, institution, stack] of stacks) {
    const template = Template.fromStack(stack);
    synthesized.set(variant, { institution, stack, template, resources: template.toJSON().Resources });
  }
}, 600_000);

afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

const get = (variant: string) => synthesized.get(variant)!;
const logicalId = (s: Synthesized, construct: { node: { defaultChild?: unknown } }) =>
  s.stack.resolve((construct.node.defaultChild as { logicalId: string }).logicalId) as string;
const ofType = (s: Synthesized, type: string) => Object.entries(s.resources).filter(([, r]) => r.Type === type);
const refersTo = (value: unknown, id: string) => JSON.stringify(value).includes(`"${id}"`);
const asArray = <T,>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** Every statement of the policies attached to a role. */
function statementsOf(s: Synthesized, role: { node: { defaultChild?: unknown } }): any[] {
  const roleId = logicalId(s, role);
  return ofType(s, 'AWS::IAM::Policy')
    .filter(([, p]) => refersTo(p.Properties.Roles, roleId))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as any[]);
}

describe.each(['dicomweb', 'healthimaging'] as const)('delivery stage (%s)', (variant) => {
  const s = () => get(variant);
  const delivery = () => s().stack.delivery!;

  it('queues UploadSessionAccepted of this institution, with KMS, TLS-only access, a delay and a DLQ after MAX_RECEIVE_COUNT tries', () => {
    const queueId = logicalId(s(), delivery().queue);
    const queue = s().resources[queueId]!.Properties;
    expect(refersTo(queue.KmsMasterKeyId, logicalId(s(), delivery().key))).toBe(true);
    expect(queue.RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(s(), delivery().deadLetterQueue), 'Arn'] }, maxReceiveCount: MAX_RECEIVE_COUNT });
    expect(queue.DelaySeconds).toBe(DELIVERY_DELAY.toSeconds());
    for (const q of [delivery().queue, delivery().deadLetterQueue]) {
      const [, policy] = ofType(s(), 'AWS::SQS::QueuePolicy').find(([, p]) => refersTo(p.Properties.Queues, logicalId(s(), q)))!;
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
    }
    s().template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: logicalId(s(), s().stack.events.bus) },
      EventPattern: { source: [`upload-portal.${s().institution.id}`], 'detail-type': ['UploadSessionAccepted'] },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } })],
    });
    // EventBridge may send to the encrypted queue: the key lets events.amazonaws.com encrypt.
    const key = s().resources[logicalId(s(), delivery().key)]!.Properties.KeyPolicy.Statement as any[];
    expect(key.some((st) => st.Principal?.Service === 'events.amazonaws.com' && asArray(st.Action).includes('kms:GenerateDataKey*'))).toBe(true);
  });

  it('has a visibility timeout of 6× the delivery Lambda timeout and feeds it with batch item failures, within its reserved concurrency', () => {
    const queue = s().resources[logicalId(s(), delivery().queue)]!.Properties;
    const fn = s().resources[logicalId(s(), delivery().deliverer.function)]!.Properties;
    expect(queue.VisibilityTimeout).toBe(VISIBILITY_TIMEOUT_FACTOR * fn.Timeout);
    expect(fn.ReservedConcurrentExecutions).toBe(DELIVERY_CONCURRENCY);
    s().template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: logicalId(s(), delivery().deliverer.function) },
      EventSourceArn: { 'Fn::GetAtt': [logicalId(s(), delivery().queue), 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: DELIVERY_CONCURRENCY },
    });
    expect(fn.Handler).toBe('index.handler');
  });

  it('alarms on the delivery DLQ and on delivery Lambda errors, to the alarm topic', () => {
    const alarms = ofType(s(), 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    const topic = { Ref: logicalId(s(), s().stack.monitoring.topic) };
    const dlq = alarms.find((a) => a.MetricName === 'ApproximateNumberOfMessagesVisible' && refersTo(a.Dimensions, logicalId(s(), delivery().deadLetterQueue)));
    expect(dlq).toMatchObject({ Threshold: 1, AlarmActions: [topic] });
    const errors = alarms.find((a) => a.MetricName === 'Errors' && refersTo(a.Dimensions, logicalId(s(), delivery().deliverer.function)));
    expect(errors).toMatchObject({ Threshold: 1, AlarmActions: [topic] });
  });

  it('shows a dashboard row: studies delivered and failed, DLQ depth, duration', () => {
    const [, dashboard] = ofType(s(), 'AWS::CloudWatch::Dashboard')[0]!;
    const parts = dashboard.Properties.DashboardBody['Fn::Join'][1] as unknown[];
    const body = JSON.parse(parts.map((part) => (typeof part === 'string' ? part : 'ref')).join('')) as { widgets: any[] };
    const titles = body.widgets.map((w) => w.properties.title);
    expect(titles).toEqual(expect.arrayContaining(['Studies delivered / failed', 'Delivery DLQ depth', 'Delivery duration (ms)']));
    const lines: any[][] = body.widgets.flatMap((w) => w.properties.metrics ?? []);
    for (const metric of ['StudiesDelivered', 'StudiesDeliveryFailed']) {
      expect(lines.find((l) => l[0] === METRICS_NAMESPACE && l[1] === metric)?.slice(2, 4), metric).toEqual(['institutionId', s().institution.id]);
    }
    expect(lines.some((l) => l[0] === 'AWS/Lambda' && l[1] === 'Duration')).toBe(true);
    // Only a HealthImaging stack submits imports.
    expect(lines.some((l) => l[0] === METRICS_NAMESPACE && l[1] === 'StudiesSubmittedForImport')).toBe(variant === 'healthimaging');
  });

  it('lets the delivery Lambda read only accepted files (by their tag) of its own bucket', () => {
    const bucketId = logicalId(s(), s().stack.storage.bucket);
    const reads = statementsOf(s(), delivery().deliverer.role).filter((st) => asArray(st.Action).includes('s3:GetObject') && refersTo(st.Resource, bucketId));
    const files = reads.find((st) => JSON.stringify(st.Resource).includes('/sessions/*/files/*'));
    expect(files).toEqual({
      Effect: 'Allow',
      Action: 's3:GetObject',
      Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/sessions/*/files/*']] },
      Condition: { StringEquals: { [`s3:ExistingObjectTag/${RETENTION_TAG.key}`]: RETENTION_TAG.accepted } },
    });
    const others = reads.filter((st) => st !== files).map((st) => st.Resource['Fn::Join'][1][1]);
    expect(others.sort()).toEqual(variant === 'healthimaging' ? ['/deliveries/*/output/*'] : []);
    // Nothing else of the bucket: no listing, no deletes, no tagging (aborting its own staged multipart uploads only).
    const onBucket = statementsOf(s(), delivery().deliverer.role).filter((st) => refersTo(st.Resource, bucketId));
    const actions = onBucket.flatMap((st) => asArray(st.Action)).sort();
    expect(actions).toEqual(variant === 'healthimaging' ? ['s3:AbortMultipartUpload', 's3:GetObject', 's3:GetObject', 's3:PutObject'] : ['s3:GetObject']);
  });

  it('uses Resource * only for X-Ray', () => {
    for (const st of statementsOf(s(), delivery().deliverer.role)) {
      if (asArray(st.Resource).includes('*')) expect(asArray(st.Action).sort()).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
    }
  });

  it('has zero unacknowledged cdk-nag findings (AwsSolutions + HIPAA.Security)', () => {
    for (const pack of [new AwsSolutionsChecks(), new HIPAASecurityChecks()]) {
      const report = pack.validateScope(s().stack);
      expect(report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
    }
  });
});

describe('DICOMweb delivery with a secret and VPC placement', () => {
  const s = () => get('dicomweb');
  const config = () => s().institution.delivery as Extract<NonNullable<InstitutionConfig['delivery']>, { type: 'dicomweb' }>;

  it('may read exactly the one configured secret', () => {
    const secretReads = ofType(s(), 'AWS::IAM::Policy')
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as any[])
      .filter((st) => asArray(st.Action).some((a: string) => a.startsWith('secretsmanager:')))
      // The audit trail's client address key is the API's (test/cdk/stack.test.ts checks who reads it).
      .filter((st) => !JSON.stringify(st.Resource).includes('ClientAddressKey'));
    expect(secretReads).toEqual([{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: config().auth!.secretArn }]);
    expect(statementsOf(s(), s().stack.delivery!.deliverer.role)).toContainEqual(secretReads[0]);
  });

  it('runs the delivery Lambda in the configured subnets and security groups, and only that Lambda', () => {
    const fn = s().resources[logicalId(s(), s().stack.delivery!.deliverer.function)]!.Properties;
    expect(fn.VpcConfig).toEqual({ SubnetIds: config().vpc!.subnetIds, SecurityGroupIds: config().vpc!.securityGroupIds });
    const inVpc = ofType(s(), 'AWS::Lambda::Function').filter(([, f]) => f.Properties.VpcConfig);
    expect(inVpc.map(([fid]) => fid)).toEqual([logicalId(s(), s().stack.delivery!.deliverer.function)]);
    const role = s().resources[logicalId(s(), s().stack.delivery!.deliverer.role)]!.Properties;
    expect(JSON.stringify(role.ManagedPolicyArns)).toContain('service-role/AWSLambdaVPCAccessExecutionRole');
  });
});

describe('HealthImaging delivery', () => {
  const s = () => get('healthimaging');
  const datastoreId = () => (s().institution.delivery as { datastoreId: string }).datastoreId;
  const importRoleId = () => logicalId(s(), s().stack.delivery!.importRole!);

  it('has an import role only HealthImaging (this account, this data store) may assume', () => {
    const role = s().resources[importRoleId()]!.Properties;
    const [statement] = role.AssumeRolePolicyDocument.Statement as any[];
    expect(statement.Principal).toEqual({ Service: 'medical-imaging.amazonaws.com' });
    expect(statement.Condition.StringEquals['aws:SourceAccount']).toEqual({ Ref: 'AWS::AccountId' });
    expect(JSON.stringify(statement.Condition.ArnEquals['aws:SourceArn'])).toContain(`:datastore/${datastoreId()}`);
  });

  it('lets the import role read the staged inputs, write the results, and use the bucket key, nothing more', () => {
    const bucketId = logicalId(s(), s().stack.storage.bucket);
    const keyId = logicalId(s(), s().stack.storage.key);
    const statements = statementsOf(s(), s().stack.delivery!.importRole!);
    const summary = statements.map((st) => `${asArray(st.Action).join(',')} ${refersTo(st.Resource, keyId) ? 'key' : JSON.stringify(st.Resource).includes(bucketId) ? (st.Resource['Fn::Join']?.[1][1] ?? 'bucket') : 'other'}`);
    expect(summary.sort()).toEqual(['kms:Decrypt,kms:GenerateDataKey key', 's3:GetObject /deliveries/*/input/*', 's3:ListBucket bucket', 's3:PutObject /deliveries/*/output/*']);
    const list = statements.find((st) => st.Action === 's3:ListBucket');
    expect(list.Condition).toEqual({ StringLike: { 's3:prefix': ['deliveries/*'] } });
  });

  it('lets the delivery Lambda write and abort multipart uploads of staged inputs only, with the bucket key a multipart upload needs', () => {
    const bucketId = logicalId(s(), s().stack.storage.bucket);
    const keyId = logicalId(s(), s().stack.storage.key);
    const statements = statementsOf(s(), s().stack.delivery!.deliverer.role);
    const writes = statements.filter((st) => asArray(st.Action).some((a: string) => ['s3:PutObject', 's3:AbortMultipartUpload'].includes(a)));
    expect(writes).toHaveLength(1);
    expect(asArray(writes[0].Action).sort()).toEqual(['s3:AbortMultipartUpload', 's3:PutObject']);
    expect(JSON.stringify(writes[0].Resource)).toContain(bucketId);
    expect(writes[0].Resource['Fn::Join'][1][1]).toBe('/deliveries/*/input/*');
    // SSE-KMS multipart: GenerateDataKey for each part, Decrypt to complete.
    const keyUse = statements.filter((st) => refersTo(st.Resource, keyId)).flatMap((st) => asArray(st.Action));
    expect(keyUse).toEqual(expect.arrayContaining(['kms:GenerateDataKey', 'kms:Decrypt']));
  });

  it('lets the delivery Lambda start and read import jobs on that data store only, and pass that one role only to HealthImaging', () => {
    const statements = statementsOf(s(), s().stack.delivery!.deliverer.role);
    const imaging = statements.filter((st) => asArray(st.Action).some((a: string) => a.startsWith('medical-imaging:')));
    expect(imaging).toHaveLength(1);
    expect(asArray(imaging[0].Action).sort()).toEqual(['medical-imaging:GetDICOMImportJob', 'medical-imaging:StartDICOMImportJob']);
    expect(JSON.stringify(imaging[0].Resource)).toContain(`:datastore/${datastoreId()}`);
    const passRole = statements.filter((st) => asArray(st.Action).includes('iam:PassRole'));
    expect(passRole).toEqual([
      { Effect: 'Allow', Action: 'iam:PassRole', Resource: { 'Fn::GetAtt': [importRoleId(), 'Arn'] }, Condition: { StringEquals: { 'iam:PassedToService': 'medical-imaging.amazonaws.com' } } },
    ]);
    const fn = s().resources[logicalId(s(), s().stack.delivery!.deliverer.function)]!.Properties;
    expect(fn.Environment.Variables.HEALTHIMAGING_IMPORT_ROLE_ARN).toEqual({ 'Fn::GetAtt': [importRoleId(), 'Arn'] });
  });

  it('lets a failed import ask for another run through its own delivery queue only (SendMessage, the queue key), named in DELIVERY_QUEUE_URL', () => {
    const queueId = logicalId(s(), s().stack.delivery!.queue);
    const keyId = logicalId(s(), s().stack.delivery!.key);
    const statements = statementsOf(s(), s().stack.delivery!.deliverer.role);
    const sends = statements.filter((st) => asArray(st.Action).some((a: string) => a.startsWith('sqs:Send')));
    expect(sends).toEqual([{ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': [queueId, 'Arn'] } }]);
    const keyUse = statements.filter((st) => refersTo(st.Resource, keyId)).flatMap((st) => asArray(st.Action));
    expect(keyUse).toContain('kms:GenerateDataKey');
    expect(keyUse.filter((a: string) => a.includes('*'))).toEqual([]);
    const fn = s().resources[logicalId(s(), s().stack.delivery!.deliverer.function)]!.Properties;
    expect(fn.Environment.Variables.DELIVERY_QUEUE_URL).toEqual({ Ref: queueId });
  });

  it('reads job results back from HealthImaging\'s job-end events for this data store, through the same queue', () => {
    s().template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['aws.medical-imaging'], 'detail-type': [...IMPORT_JOB_ENDED], detail: { datastoreId: [datastoreId()] } },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalId(s(), s().stack.delivery!.queue), 'Arn'] } })],
    });
  });

  it('expires staged copies and job results with their own lifecycle rule', () => {
    const bucket = s().resources[logicalId(s(), s().stack.storage.bucket)]!.Properties;
    expect(bucket.LifecycleConfiguration.Rules).toContainEqual(expect.objectContaining({ Prefix: 'deliveries/', ExpirationInDays: DELIVERY_STAGING_DAYS, Status: 'Enabled' }));
  });
});

describe('without delivery', () => {
  it('creates no delivery stage, and cdk-nag stays clean', () => {
    const s = get('none');
    expect(s.stack.delivery).toBeUndefined();
    expect(ofType(s, 'AWS::Events::Rule').some(([, r]) => JSON.stringify(r.Properties.EventPattern ?? {}).includes('aws.medical-imaging'))).toBe(false);
    expect(Object.keys(s.stack.functions)).not.toContain('Delivery');
    for (const pack of [new AwsSolutionsChecks(), new HIPAASecurityChecks()]) {
      expect(pack.validateScope(s.stack).violations.map((v) => v.ruleName)).toEqual([]);
    }
  });
});

it('refuses DICOMweb auth without a secret on AWS, naming the field', () => {
  const dicomweb = variants.dicomweb.delivery as Extract<NonNullable<InstitutionConfig['delivery']>, { type: 'dicomweb' }>;
  const institution = { ...variants.dicomweb, delivery: { ...dicomweb, auth: { type: 'bearer' as const } } };
  const stack = new Stack(new App(), 'NoSecret');
  const accessLogs = new AccessLogBucket(stack, 'AccessLogs');
  const storage = new UploadStorage(stack, 'UploadStorage', { institution, accessLogs: accessLogs.bucket });
  const events = new PortalEvents(stack, 'Events', { institution });
  const table = new SessionTable(stack, 'SessionTable');
  expect(() => new Delivery(stack, 'Delivery', { institution, storage, table, events, logsKey: logsKey(stack, 'LogsKey') })).toThrow(
    'delivery.auth: on AWS the bearer credentials come from Secrets Manager; set delivery.auth.secretArn',
  );
});
