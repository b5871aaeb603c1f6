/**
 * The per-institution stack, synthesized once per institution file (bundling is the slow part;
 * CDK reuses identical bundles across stacks in one process). Asserts the properties that matter
 * (DESIGN.md, the README's decisions), not resource counts.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, HIPAASecurityChecks } from 'cdk-nag';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE } from '../../lambdas/adapters/table';
import { LOCK_TIMEOUT_MS } from '../../lambdas/core/complete-session';
import type { InstitutionConfig } from '../../lambdas/core/institution';
import { RETENTION_TAG } from '../../lambdas/core/retention';
import { parseConfig } from '../../lambdas/runtime/config';
import { METRICS_NAMESPACE } from '../../lambdas/runtime/observability';
import { apiRoutes } from '../../lambdas/runtime/routes';
import { PROJECT_ROOT, type AppFunction } from '../../lib/app-function';
import { API_THROTTLE, MAX_RECEIVE_COUNT, VISIBILITY_TIMEOUT_FACTOR } from '../../lib/defaults';
import { loadInstitutions } from '../../lib/institutions';
import { UploadPortalStack } from '../../lib/upload-portal-stack';

type Resource = { Type: string; Properties: Record<string, any>; Metadata?: Record<string, any> };

interface Synthesized {
  institution: InstitutionConfig;
  app: App;
  stack: UploadPortalStack;
  template: Template;
  resources: Record<string, Resource>;
  outdir: string;
}

const institutions = loadInstitutions(path.join(PROJECT_ROOT, 'institutions'), PROJECT_ROOT);
const synthesized: Synthesized[] = [];
let outdir = '';

beforeAll(() => {
  outdir = mkdtempSync(path.join(tmpdir(), 'upload-portal-cdk-'));
  // One app for every institution, as `cdk synth --all` does: identical bundles are built once.
  // Asset metadata gives each function's bundle directory (aws:asset:path), for the export check.
  const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
  const stacks = institutions.map(
    (institution) =>
      new UploadPortalStack(app, `UploadPortal-${institution.id}`, {
        institution,
        portalAssetDir: path.join(PROJECT_ROOT, 'test/cdk/fixtures/portal'),
      }),
  );
  for (const stack of stacks) {
    const template = Template.fromStack(stack);
    synthesized.push({ institution: stack.institution, app, stack, template, resources: template.toJSON().Resources, outdir });
  }
}, 300_000);

afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

/** Bundles already checked (stacks share identical bundles): asset dir → export found. */
const checkedBundles = new Map<string, string>();

function ofType(s: Synthesized, type: string): [string, Resource][] {
  return Object.entries(s.resources).filter(([, r]) => r.Type === type);
}

function logicalId(s: Synthesized, construct: { node: { defaultChild?: unknown } }): string {
  return s.stack.resolve((construct.node.defaultChild as { logicalId: string }).logicalId) as string;
}

/** Our Lambdas (not CDK's deployment helpers): the ones carrying the institution config. */
function appFunctions(s: Synthesized): [string, Resource][] {
  return ofType(s, 'AWS::Lambda::Function').filter(([, r]) => r.Properties.Environment?.Variables?.INSTITUTION_CONFIG);
}

function refersTo(value: unknown, id: string): boolean {
  return JSON.stringify(value).includes(`"${id}"`);
}

function asArray<T>(value: T | T[]): T[] {
  return Array.isArray(value) ? value : [value];
}

describe.each(institutions.map((i) => [i.id]))('UploadPortal-%s', (id) => {
  const s = () => synthesized.find((x) => x.institution.id === id)!;

  it('was synthesized from its institution file', () => {
    expect(s().stack.stackName).toBe(`UploadPortal-${id}`);
  });

  describe('uploads bucket', () => {
    const bucket = () => s().resources[logicalId(s(), s().stack.storage.bucket)]!;

    it('is encrypted with a rotating customer-managed KMS key', () => {
      const keyId = logicalId(s(), s().stack.storage.key);
      const rule = bucket().Properties.BucketEncryption.ServerSideEncryptionConfiguration[0];
      expect(rule.ServerSideEncryptionByDefault.SSEAlgorithm).toBe('aws:kms');
      expect(refersTo(rule.ServerSideEncryptionByDefault.KMSMasterKeyID, keyId)).toBe(true);
      expect(s().resources[keyId]!.Properties.EnableKeyRotation).toBe(true);
    });

    it('blocks all public access and keeps versions', () => {
      expect(bucket().Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(bucket().Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    });

    it('denies every request that is not TLS (1.2+)', () => {
      const bucketId = logicalId(s(), s().stack.storage.bucket);
      const [, policy] = ofType(s(), 'AWS::S3::BucketPolicy').find(([, p]) => refersTo(p.Properties.Bucket, bucketId))!;
      const denies = policy.Properties.PolicyDocument.Statement.filter((st: any) => st.Effect === 'Deny' && st.Principal?.AWS === '*');
      expect(denies).toContainEqual(expect.objectContaining({ Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
      expect(denies).toContainEqual(expect.objectContaining({ Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }));
    });

    it('allows CORS only from the portal origin, for PUT/GET/HEAD, exposing ETag', () => {
      const rules = bucket().Properties.CorsConfiguration.CorsRules;
      expect(rules).toHaveLength(1);
      expect(rules[0].AllowedOrigins).toEqual([s().institution.portalOrigin]);
      expect([...rules[0].AllowedMethods].sort()).toEqual(['GET', 'HEAD', 'PUT']);
      expect(rules[0].ExposedHeaders).toContain('ETag');
    });

    it('writes server access logs to the access-log bucket', () => {
      const logBucketId = s().stack.resolve((s().stack.node.findChild('AccessLogs').node.findChild('Bucket').node.defaultChild as any).logicalId);
      expect(refersTo(bucket().Properties.LoggingConfiguration.DestinationBucketName, logBucketId)).toBe(true);
    });

    it('aborts multipart uploads after a day, expires pending data and keeps accepted data for the retention period', () => {
      const rules: any[] = bucket().Properties.LifecycleConfiguration.Rules;
      const { pendingDays, acceptedDays } = s().institution.retention;
      expect(rules).toContainEqual(expect.objectContaining({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' }));
      expect(rules).toContainEqual(
        expect.objectContaining({
          Prefix: 'sessions/',
          TagFilters: [{ Key: RETENTION_TAG.key, Value: RETENTION_TAG.pending }],
          ExpirationInDays: pendingDays,
          Status: 'Enabled',
        }),
      );
      // The ceiling for all session data: accepted objects (re-tagged) live exactly acceptedDays.
      const ceiling = rules.filter((r) => r.Prefix === 'sessions/' && !r.TagFilters && r.ExpirationInDays !== undefined);
      expect(ceiling.map((r) => r.ExpirationInDays)).toEqual([acceptedDays]);
      // No rule may expire accepted-tagged data earlier.
      expect(rules.filter((r) => r.TagFilters?.some((t: any) => t.Value === RETENTION_TAG.accepted))).toEqual([]);
      expect(rules).toContainEqual(expect.objectContaining({ NoncurrentVersionExpiration: { NoncurrentDays: 1 } }));
    });

    it('sends ObjectCreated under sessions/ to the inspection queue', () => {
      const [, notifications] = ofType(s(), 'Custom::S3BucketNotifications')[0]!;
      const queueId = logicalId(s(), s().stack.inspection.queue);
      const config = notifications.Properties.NotificationConfiguration.QueueConfigurations;
      expect(config).toContainEqual({
        Events: ['s3:ObjectCreated:*'],
        Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'sessions/' }] } },
        QueueArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      });
    });
  });

  describe('table', () => {
    it('is on-demand with PITR, a customer-managed key, TTL and the pk/sk layout of table.ts', () => {
      const table = s().resources[logicalId(s(), s().stack.table.table)]!.Properties;
      const keyId = logicalId(s(), s().stack.table.key);
      expect(table.BillingMode).toBe('PAY_PER_REQUEST');
      expect(table.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      expect(table.SSESpecification.SSEEnabled).toBe(true);
      expect(table.SSESpecification.SSEType).toBe('KMS');
      expect(refersTo(table.SSESpecification.KMSMasterKeyId, keyId)).toBe(true);
      expect(table.TimeToLiveSpecification).toEqual({ AttributeName: TTL_ATTRIBUTE, Enabled: true });
      expect(table.KeySchema).toEqual([
        { AttributeName: PARTITION_KEY, KeyType: 'HASH' },
        { AttributeName: SORT_KEY, KeyType: 'RANGE' },
      ]);
      expect(table.AttributeDefinitions).toEqual(
        expect.arrayContaining([
          { AttributeName: PARTITION_KEY, AttributeType: 'S' },
          { AttributeName: SORT_KEY, AttributeType: 'S' },
        ]),
      );
    });
  });

  describe('inspection', () => {
    it('queues with KMS, TLS-only access and a DLQ after MAX_RECEIVE_COUNT tries', () => {
      const queue = s().resources[logicalId(s(), s().stack.inspection.queue)]!.Properties;
      const dlqId = logicalId(s(), s().stack.inspection.deadLetterQueue);
      expect(refersTo(queue.KmsMasterKeyId, logicalId(s(), s().stack.inspection.key))).toBe(true);
      expect(queue.RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: MAX_RECEIVE_COUNT });
      expect(MAX_RECEIVE_COUNT).toBeGreaterThan(1);
      for (const q of [s().stack.inspection.queue, s().stack.inspection.deadLetterQueue]) {
        const qid = logicalId(s(), q);
        const [, policy] = ofType(s(), 'AWS::SQS::QueuePolicy').find(([, p]) => refersTo(p.Properties.Queues, qid))!;
        expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
          expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        );
      }
    });

    it('has a visibility timeout of at least 6× the inspector timeout', () => {
      const queue = s().resources[logicalId(s(), s().stack.inspection.queue)]!.Properties;
      const inspector = s().resources[logicalId(s(), s().stack.inspection.inspector.function)]!.Properties;
      expect(VISIBILITY_TIMEOUT_FACTOR).toBeGreaterThanOrEqual(6);
      expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * inspector.Timeout);
    });

    it('feeds the inspector in batches that report item failures', () => {
      s().template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: logicalId(s(), s().stack.inspection.inspector.function) },
        EventSourceArn: { 'Fn::GetAtt': [logicalId(s(), s().stack.inspection.queue), 'Arn'] },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    });

    it('runs the sweeper on a schedule', () => {
      s().template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: Match.stringLikeRegexp('^rate\\('),
        Targets: Match.arrayWith([Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalId(s(), s().stack.sweeper.sweeper.function), 'Arn'] } })]),
      });
    });

    it('runs the sweeper on every UploadSessionAccepted event of this institution, which alone may tag accepted files', () => {
      const sweeperArn = { 'Fn::GetAtt': [logicalId(s(), s().stack.sweeper.sweeper.function), 'Arn'] };
      s().template.hasResourceProperties('AWS::Events::Rule', {
        EventBusName: { Ref: logicalId(s(), s().stack.events.bus) },
        EventPattern: { source: [`upload-portal.${s().institution.id}`], 'detail-type': ['UploadSessionAccepted'] },
        Targets: [Match.objectLike({ Arn: sweeperArn, RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 } })],
      });
      const bucketId = logicalId(s(), s().stack.storage.bucket);
      const taggers = Object.entries(s().stack.functions).filter(([, fn]) => {
        const [, policy] = ofType(s(), 'AWS::IAM::Policy').find(([, p]) => refersTo(p.Properties.Roles, logicalId(s(), fn.role)))!;
        return (policy.Properties.PolicyDocument.Statement as any[]).some((st) => asArray(st.Action).includes('s3:PutObjectTagging') && refersTo(st.Resource, bucketId));
      });
      // The signers of a PUT or a multipart upload's start (declared or renewed) carry the pending tag;
      // parts and the finish carry none; only the sweeper re-tags afterwards.
      expect(taggers.map(([name]) => name).sort()).toEqual(['RenewUploadUrl', 'RequestUploads', 'Sweeper']);
    });

    it('lets the sweeper put a final event a dead run left unpublished: on the institution\'s bus, with its source only', () => {
      const sweeper = s().stack.sweeper.sweeper;
      const [, policy] = ofType(s(), 'AWS::IAM::Policy').find(([, p]) => refersTo(p.Properties.Roles, logicalId(s(), sweeper.role)))!;
      const puts = (policy.Properties.PolicyDocument.Statement as any[]).filter((st) => asArray(st.Action).includes('events:PutEvents'));
      expect(puts).toEqual([expect.objectContaining({ Resource: { 'Fn::GetAtt': [logicalId(s(), s().stack.events.bus), 'Arn'] }, Condition: { StringEquals: { 'events:source': `upload-portal.${s().institution.id}` } } })]);
      const { Variables } = s().resources[logicalId(s(), sweeper.function)]!.Properties.Environment;
      expect(Variables.EVENT_BUS_NAME).toEqual({ Ref: logicalId(s(), s().stack.events.bus) });
    });
  });

  describe('completion', () => {
    it('hands a locked completion to the completer by an asynchronous invocation: retried twice, then dead-lettered', () => {
      const completerId = logicalId(s(), s().stack.completer.completer.function);
      const completer = s().resources[completerId]!.Properties;
      expect(completer.DeadLetterConfig.TargetArn).toEqual({ 'Fn::GetAtt': [logicalId(s(), s().stack.completer.deadLetterQueue), 'Arn'] });
      // Under the completion lock's timeout, so a lock held past it is a crashed run the uploader may take over.
      expect(completer.Timeout * 1000).toBeLessThan(LOCK_TIMEOUT_MS);
      s().template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: completerId },
        MaximumRetryAttempts: 2,
        MaximumEventAgeInSeconds: 3600,
      });
      // Only the complete-session function may invoke it, and it knows its name.
      const completeSession = s().stack.api.functions.CompleteSession!;
      const env = s().resources[logicalId(s(), completeSession.function)]!.Properties.Environment.Variables;
      expect(env.COMPLETER_FUNCTION_NAME).toEqual({ Ref: completerId });
      const invokers = Object.entries(s().stack.functions).filter(([, fn]) => {
        const [, policy] = ofType(s(), 'AWS::IAM::Policy').find(([, p]) => refersTo(p.Properties.Roles, logicalId(s(), fn.role)))!;
        return (policy.Properties.PolicyDocument.Statement as any[]).some((st) => asArray(st.Action).includes('lambda:InvokeFunction') && refersTo(st.Resource, completerId));
      });
      expect(invokers.map(([name]) => name)).toEqual(['CompleteSession']);
    });
  });

  describe('Lambdas', () => {
    it('run Node.js 22 on arm64 with source maps, X-Ray tracing and an encrypted log group with retention', () => {
      const fns = appFunctions(s());
      expect(fns.map(([fid]) => fid).sort()).toEqual(Object.values(s().stack.functions).map((f) => logicalId(s(), f.function)).sort());
      for (const [, fn] of fns) {
        expect(fn.Properties.Runtime).toBe('nodejs22.x');
        expect(fn.Properties.Architectures).toEqual(['arm64']);
        expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
        expect(fn.Properties.Environment.Variables.NODE_OPTIONS).toBe('--enable-source-maps');
        expect(fn.Properties.Environment.Variables.POWERTOOLS_METRICS_NAMESPACE).toBe(METRICS_NAMESPACE);
        const logGroupId = fn.Properties.LoggingConfig.LogGroup.Ref as string;
        const logGroup = s().resources[logGroupId]!.Properties;
        expect(logGroup.RetentionInDays).toBeGreaterThanOrEqual(365);
        expect(logGroup.KmsKeyId).toBeDefined();
      }
    });

    it('reserve concurrency where it bounds risk: code redemption, code issuing, the inspector and the sweeper', () => {
      const reserved = (fn: AppFunction) => s().resources[logicalId(s(), fn.function)]!.Properties.ReservedConcurrentExecutions;
      for (const name of ['CreateSession', 'IssueUploadCode']) expect(reserved(s().stack.api.functions[name]!), name).toBeGreaterThan(0);
      expect(reserved(s().stack.sweeper.sweeper)).toBe(1);
      const inspectorReserved = reserved(s().stack.inspection.inspector);
      const [, mapping] = ofType(s(), 'AWS::Lambda::EventSourceMapping')[0]!;
      // The queue never drives the inspector past its reservation (which would only throttle and retry).
      expect(mapping.Properties.ScalingConfig.MaximumConcurrency).toBeLessThanOrEqual(inspectorReserved);
    });

    it('get an environment config.ts accepts, with the institution config and no emulator settings', () => {
      for (const [, fn] of appFunctions(s())) {
        const variables = fn.Properties.Environment.Variables as Record<string, unknown>;
        for (const localOnly of ['DYNAMODB_ENDPOINT', 'S3_ENDPOINT', 'S3_FORCE_PATH_STYLE', 'LOCAL_ADMIN_TOKEN_HASH', 'LOG_FORMAT']) {
          expect(variables).not.toHaveProperty(localOnly);
        }
        // Lambda refuses environments over 4 KB in total.
        expect(JSON.stringify(variables).length).toBeLessThan(4096);
        const env = Object.fromEntries(
          Object.entries(fn.Properties.Environment.Variables as Record<string, unknown>).map(([k, v]) => [k, typeof v === 'string' ? v : `resolved-${k}`]),
        );
        const config = parseConfig({ ...env, AWS_REGION: 'eu-west-1' });
        expect(config.institution).toEqual(s().institution);
      }
    });

    it('point their handler setting at an exported function of a bundle within 1.5 MB', () => {
      for (const [fid, fn] of appFunctions(s())) {
        const assetDir = path.join(s().outdir, fn.Metadata!['aws:asset:path']);
        const [file, exportName] = (fn.Properties.Handler as string).split('.');
        const bundle = path.join(assetDir, `${file}.mjs`);
        expect(existsSync(bundle), `${fid}: ${bundle}`).toBe(true);
        // At most 1.5 MB, for a quick cold start: minified, SDK clients included (bench:bundles reports the figures).
        // The delivery Lambda carries the DICOM encoder (dcmjs) and answers no request anyone waits for: 2 MB.
        const delivery = s().stack.delivery;
        const isDelivery = delivery !== undefined && fid === logicalId(s(), delivery.deliverer.function);
        expect(statSync(bundle).size, fid).toBeLessThanOrEqual((isDelivery ? 2 : 1.5) * 1024 * 1024);
        const env = Object.fromEntries(
          Object.entries(fn.Properties.Environment.Variables as Record<string, unknown>).map(([k, v]) => [k, typeof v === 'string' ? v : `resolved-${k}`]),
        );
        // A fresh Node process, as Lambda starts one: imports the bundle with the function's environment.
        const type =
          checkedBundles.get(`${assetDir}#${exportName}`) ??
          execFileSync(
            process.execPath,
            ['--input-type=module', '-e', `const m = await import(${JSON.stringify(pathToFileURL(bundle).href)}); process.stdout.write(typeof m[${JSON.stringify(exportName)}]);`],
            { env: { PATH: process.env.PATH, ...env, AWS_REGION: 'eu-west-1' }, encoding: 'utf8' },
          );
        checkedBundles.set(`${assetDir}#${exportName}`, type);
        expect(type, fid).toBe('function');
      }
    }, 120_000);
  });

  describe('least privilege', () => {
    const statements = () =>
      ofType(s(), 'AWS::IAM::Policy').flatMap(([pid, p]) => (p.Properties.PolicyDocument.Statement as any[]).map((st) => ({ pid, ...st })));
    const dataIds = () => [
      logicalId(s(), s().stack.storage.bucket),
      logicalId(s(), s().stack.storage.key),
      logicalId(s(), s().stack.table.table),
      logicalId(s(), s().stack.table.key),
    ];

    it('grants no wildcard actions on data (bucket, table, their keys) and never s3:* / dynamodb:* / kms:*', () => {
      for (const st of statements()) {
        const actions = asArray(st.Action as string | string[]);
        for (const action of actions) expect(['*', 's3:*', 'dynamodb:*', 'kms:*']).not.toContain(action);
        if (dataIds().some((d) => refersTo(st.Resource, d))) {
          expect(actions.filter((a) => a.includes('*')), `${st.pid}`).toEqual([]);
        }
      }
    });

    it("uses Resource '*' in the Lambdas' policies only for X-Ray (which has no resource-level permissions)", () => {
      const roleIds = Object.values(s().stack.functions).map((f) => logicalId(s(), f.role));
      const ours = ofType(s(), 'AWS::IAM::Policy').filter(([, p]) => roleIds.some((r) => refersTo(p.Properties.Roles, r)));
      expect(ours).toHaveLength(roleIds.length);
      for (const [pid, policy] of ours) {
        for (const st of policy.Properties.PolicyDocument.Statement as any[]) {
          if (asArray(st.Resource).includes('*')) expect(asArray(st.Action).sort(), pid).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
        }
      }
    });

    const filesPattern = (bucketId: string) => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/sessions/*/files/*']] });
    const grantsOf = (fn: { role: unknown }) => {
      const [, policy] = ofType(s(), 'AWS::IAM::Policy').find(([, p]) => refersTo(p.Properties.Roles, logicalId(s(), fn.role as any)))!;
      return policy.Properties.PolicyDocument.Statement as any[];
    };

    it.each([
      ['RequestUploads', ['s3:PutObject', 's3:PutObjectTagging', 's3:AbortMultipartUpload'], true],
      ['RenewUploadUrl', ['s3:PutObject', 's3:PutObjectTagging', 's3:AbortMultipartUpload'], true],
      ['SignParts', ['s3:PutObject'], true],
      ['ListParts', ['s3:ListMultipartUploadParts'], false],
      ['FinishUpload', ['s3:PutObject', 's3:ListMultipartUploadParts'], true],
    ] as const)('gives %s only what its route does with declared files under sessions/*/files/', (route, actions, usesKey) => {
      const bucketId = logicalId(s(), s().stack.storage.bucket);
      const keyId = logicalId(s(), s().stack.storage.key);
      const statements = grantsOf(s().stack.api.functions[route]!);
      const onBucket = statements.filter((st) => refersTo(st.Resource, bucketId)).map((st) => ({ ...st, Action: asArray(st.Action) }));
      expect(onBucket).toEqual([{ Effect: 'Allow', Action: [...actions], Resource: filesPattern(bucketId) }]);
      const onKey = statements.filter((st) => refersTo(st.Resource, keyId));
      expect(onKey).toEqual(usesKey ? [{ Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: { 'Fn::GetAtt': [keyId, 'Arn'] } }] : []);
    });

    it('denies every function that writes the table any update or delete of an audit item (append-only)', () => {
      const tableId = logicalId(s(), s().stack.table.table);
      const writers = ofType(s(), 'AWS::IAM::Policy').filter(([, p]) =>
        (p.Properties.PolicyDocument.Statement as any[]).some((st) => st.Effect === 'Allow' && asArray(st.Action).includes('dynamodb:PutItem') && refersTo(st.Resource, tableId)),
      );
      expect(writers.length).toBeGreaterThanOrEqual(10);
      for (const [pid, policy] of writers) {
        expect(policy.Properties.PolicyDocument.Statement, pid).toContainEqual({
          Effect: 'Deny',
          Action: ['dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'],
          Resource: { 'Fn::GetAtt': [tableId, 'Arn'] },
          Condition: { 'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': ['AUDIT#*'] } },
        });
      }
    });

    it('lets only the API functions that see a client read the client address key', () => {
      const secretId = logicalId(s(), s().stack.api.addressKey.secret);
      const readers = Object.entries(s().stack.api.functions)
        .filter(([, fn]) => {
          const [, policy] = ofType(s(), 'AWS::IAM::Policy').find(([, p]) => refersTo(p.Properties.Roles, logicalId(s(), fn.role)))!;
          return refersTo(policy.Properties.PolicyDocument, secretId);
        })
        .map(([name]) => name);
      expect(readers.sort()).toEqual(['CompleteSession', 'CreateSession', 'RemoveFile', 'RequestUploads']);
      const others = ofType(s(), 'AWS::IAM::Policy').filter(([, p]) => refersTo(p.Properties.PolicyDocument, secretId));
      expect(others).toHaveLength(4);
    });

    it('gives functions that never touch objects no bucket or bucket-key permission', () => {
      for (const name of ['GetSession', 'CreateSession', 'IssueUploadCode']) {
        const roleId = logicalId(s(), s().stack.api.functions[name]!.role);
        const [, policy] = ofType(s(), 'AWS::IAM::Policy').find(([, p]) => refersTo(p.Properties.Roles, roleId))!;
        const text = JSON.stringify(policy.Properties.PolicyDocument);
        expect(text, name).not.toContain(logicalId(s(), s().stack.storage.bucket));
        expect(text, name).not.toContain(logicalId(s(), s().stack.storage.key));
      }
    });
  });

  describe('HTTP API', () => {
    it('has every route of routes.ts, the admin route IAM-authorized and the others not', () => {
      const routes = ofType(s(), 'AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties);
      expect(routes.map((r) => r.RouteKey).sort()).toEqual(apiRoutes.map((r) => `${r.method} ${r.path}`).sort());
      for (const route of apiRoutes) {
        const props = routes.find((r) => r.RouteKey === `${route.method} ${route.path}`)!;
        expect(props.AuthorizationType ?? 'NONE').toBe(route.auth === 'admin' ? 'AWS_IAM' : 'NONE');
      }
    });

    it('throttles the stage (and code redemption harder) and writes access logs', () => {
      const [, stage] = ofType(s(), 'AWS::ApiGatewayV2::Stage')[0]!;
      expect(stage.Properties.DefaultRouteSettings).toMatchObject({ ThrottlingRateLimit: API_THROTTLE.rateLimit, ThrottlingBurstLimit: API_THROTTLE.burstLimit });
      const redemption = stage.Properties.RouteSettings['POST /sessions'];
      expect(redemption.ThrottlingRateLimit).toBeLessThan(API_THROTTLE.rateLimit);
      expect(stage.Properties.AccessLogSettings.DestinationArn).toBeDefined();
      expect(stage.Properties.AccessLogSettings.Format).toContain('$context.requestId');
      expect(stage.Properties.AccessLogSettings.Format).not.toContain('sourceIp');
    });

    it('offers staff a managed policy that may invoke the admin route and nothing else', () => {
      const [, policy] = ofType(s(), 'AWS::IAM::ManagedPolicy')[0]!;
      const admin = apiRoutes.filter((r) => r.auth === 'admin');
      expect(policy.Properties.PolicyDocument.Statement).toEqual([
        {
          Effect: 'Allow',
          Action: 'execute-api:Invoke',
          Resource: admin.length === 1 ? expect.anything() : expect.any(Array),
        },
      ]);
      const resource = JSON.stringify(policy.Properties.PolicyDocument.Statement[0].Resource);
      for (const route of admin) expect(resource).toContain(`/*/${route.method}${route.path}`);
      expect(resource).toContain(logicalId(s(), s().stack.api.httpApi));
    });

    it('allows CORS from the portal origin only', () => {
      const [, api] = ofType(s(), 'AWS::ApiGatewayV2::Api')[0]!;
      expect(api.Properties.CorsConfiguration.AllowOrigins).toEqual([s().institution.portalOrigin]);
      expect(api.Properties.CorsConfiguration.AllowHeaders).toEqual(expect.arrayContaining(['authorization', 'content-type']));
    });
  });

  describe('portal site', () => {
    it('serves a private bucket through CloudFront with OAC, HTTPS only, TLS 1.2+ and logs', () => {
      const [, dist] = ofType(s(), 'AWS::CloudFront::Distribution')[0]!;
      const config = dist.Properties.DistributionConfig;
      expect(config.Origins[0].OriginAccessControlId).toBeDefined();
      expect(config.DefaultCacheBehavior.ViewerProtocolPolicy).toBe('redirect-to-https');
      expect(config.Logging.Bucket).toBeDefined();
      const certificate = s().institution.portalCertificateArn;
      if (certificate) {
        // The hospital's own domain: its certificate, TLS 1.2+ only.
        expect(config.Aliases).toEqual([new URL(s().institution.portalOrigin).hostname]);
        expect(config.ViewerCertificate).toMatchObject({ AcmCertificateArn: certificate, MinimumProtocolVersion: 'TLSv1.2_2021', SslSupportMethod: 'sni-only' });
      } else {
        expect(config.Aliases).toBeUndefined();
      }
      const site = s().resources[logicalId(s(), s().stack.site.bucket)]!.Properties;
      expect(site.PublicAccessBlockConfiguration.RestrictPublicBuckets).toBe(true);
    });

    it('sends a CSP allowing only the API and the uploads bucket endpoint, and HSTS', () => {
      const [, policy] = ofType(s(), 'AWS::CloudFront::ResponseHeadersPolicy')[0]!;
      const headers = policy.Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig;
      const csp = JSON.stringify(headers.ContentSecurityPolicy.ContentSecurityPolicy);
      expect(csp).toContain("connect-src 'self' https://");
      expect(csp).toContain(`"${logicalId(s(), s().stack.api.httpApi)}"`);
      expect(csp).toContain(`["${logicalId(s(), s().stack.storage.bucket)}","RegionalDomainName"]`);
      expect(csp).toContain("frame-ancestors 'none'");
      // No inline script or style, nothing evaluated from strings.
      expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval';");
      expect(csp).toContain("style-src 'self';");
      expect(csp).not.toMatch(/'unsafe-(inline|eval|hashes)'/);
      expect(headers.StrictTransportSecurity).toMatchObject({ IncludeSubdomains: true, Override: true });
      expect(headers.StrictTransportSecurity.AccessControlMaxAgeSec).toBeGreaterThanOrEqual(31_536_000);
      expect(headers.ContentTypeOptions).toEqual({ Override: true });
      expect(headers.ReferrerPolicy).toEqual({ ReferrerPolicy: 'no-referrer', Override: true });
      expect(headers.FrameOptions).toEqual({ FrameOption: 'DENY', Override: true });
      // The policy is the distribution's, for every path.
      const [, distribution] = ofType(s(), 'AWS::CloudFront::Distribution')[0]!;
      expect(distribution.Properties.DistributionConfig.DefaultCacheBehavior.ResponseHeadersPolicyId).toEqual({ Ref: logicalId(s(), s().stack.site.responseHeaders) });
      expect(distribution.Properties.DistributionConfig.CacheBehaviors).toBeUndefined();
    });

    it('deploys the portal build plus a config.json with the API URL', () => {
      const [, deployment] = ofType(s(), 'Custom::CDKBucketDeployment')[0]!;
      expect(deployment.Properties.SourceObjectKeys).toHaveLength(2);
      expect(JSON.stringify(deployment.Properties.SourceMarkers)).toContain(logicalId(s(), s().stack.api.httpApi));
    });
  });

  describe('monitoring', () => {
    const alarms = () => ofType(s(), 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    const topicId = () => logicalId(s(), s().stack.monitoring.topic);

    it('sends every alarm to the encrypted topic that e-mails alarmEmail', () => {
      expect(alarms().length).toBeGreaterThan(0);
      for (const alarm of alarms()) expect(alarm.AlarmActions).toEqual([{ Ref: topicId() }]);
      const topic = s().resources[topicId()]!.Properties;
      expect(topic.KmsMasterKeyId).toBeDefined();
      s().template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: s().institution.alarmEmail, TopicArn: { Ref: topicId() } });
    });

    it('alarms on errors and throttles of every Lambda', () => {
      for (const fn of Object.values(s().stack.functions)) {
        const fid = logicalId(s(), fn.function);
        for (const metric of ['Errors', 'Throttles']) {
          const match = alarms().filter((a) => a.MetricName === metric && refersTo(a.Dimensions, fid));
          expect(match, `${metric} ${fid}`).toHaveLength(1);
          expect(match[0]?.Threshold).toBe(1);
        }
      }
    });

    it('alarms when any dead-letter queue holds a message', () => {
      for (const dlq of [s().stack.inspection.deadLetterQueue, s().stack.sweeper.deadLetterQueue, s().stack.completer.deadLetterQueue]) {
        const qid = logicalId(s(), dlq);
        const match = alarms().find((a) => a.MetricName === 'ApproximateNumberOfMessagesVisible' && refersTo(a.Dimensions, qid));
        expect(match).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
      }
    });

    it('shows the dashboard DESIGN.md asks for', () => {
      const [, dashboard] = ofType(s(), 'AWS::CloudWatch::Dashboard')[0]!;
      // The body is a Fn::Join of JSON text around references: join it with placeholders and parse it.
      const parts = dashboard.Properties.DashboardBody['Fn::Join'][1] as unknown[];
      const body = JSON.parse(parts.map((part) => (typeof part === 'string' ? part : 'ref')).join('')) as { widgets: any[] };
      const lines: any[][] = body.widgets.flatMap((w) => w.properties.metrics ?? []);
      const plotted = lines.map((line) => (typeof line[0] === 'string' ? `${line[0]}/${line[1]}` : line[0].expression));
      for (const metric of ['AWS/ApiGateway/Count', 'AWS/ApiGateway/4xx', 'AWS/ApiGateway/5xx', 'AWS/ApiGateway/Latency', 'AWS/Lambda/Errors', 'AWS/Lambda/Throttles', 'AWS/SQS/ApproximateNumberOfMessagesVisible']) {
        expect(plotted, metric).toContain(metric);
      }
      for (const metric of ['SessionsOpened', 'SessionsAccepted', 'BytesAccepted', 'InspectionBytesRead', 'FilesInspected', 'CodeRedemptionFailures', 'UnknownObjects']) {
        expect(plotted, metric).toContain(`${METRICS_NAMESPACE}/${metric}`);
        const line = lines.find((l) => l[1] === metric)!;
        expect(line.slice(2, 4), metric).toEqual(['institutionId', s().institution.id]);
      }
      expect(lines.find((l) => l[1] === 'Latency')?.[4]).toMatchObject({ stat: 'p99' });
      // Rejections by reason: every reason the Lambdas publish, for this institution only.
      expect(plotted).toContain(`SEARCH('{${METRICS_NAMESPACE},institutionId,reason} MetricName="SessionsRejected" institutionId="${s().institution.id}"', 'Sum', 300)`);
    });

    it('alarms on API 5xx and on spikes of code-redemption failures and rejections', () => {
      expect(alarms().find((a) => a.MetricName === '5xx' && a.Namespace === 'AWS/ApiGateway')).toMatchObject({ Threshold: 1 });
      const redemption = alarms().find((a) => a.MetricName === 'CodeRedemptionFailures');
      expect(redemption).toMatchObject({ Namespace: METRICS_NAMESPACE, Dimensions: [{ Name: 'institutionId', Value: s().institution.id }] });
      const rejection = alarms().find((a) => JSON.stringify(a.Metrics ?? []).includes('SessionsRejected'));
      expect(JSON.stringify(rejection?.Metrics)).toContain(`institutionId = '${s().institution.id}'`);
    });

    it('alarms on the first audit record that could not be written, on the metric the Lambdas emit', () => {
      const match = alarms().filter((a) => a.MetricName === 'AuditWriteFailures');
      expect(match).toHaveLength(1);
      expect(match[0]).toMatchObject({
        Namespace: METRICS_NAMESPACE,
        Dimensions: [{ Name: 'institutionId', Value: s().institution.id }],
        Statistic: 'Sum',
        Period: 300,
        Threshold: 1,
        EvaluationPeriods: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmName: `UploadPortal-${s().institution.id}-AuditWriteFailures`,
        AlarmActions: [{ Ref: topicId() }],
        OKActions: [{ Ref: topicId() }],
      });
    });
  });

  it('publishes session events on its own bus, with PutEvents limited to its source', () => {
    const busId = logicalId(s(), s().stack.events.bus);
    expect(s().resources[busId]!.Properties.Name).toBe(`upload-portal-${id}`);
    const puts = ofType(s(), 'AWS::IAM::Policy').flatMap(([, p]) => p.Properties.PolicyDocument.Statement as any[]).filter((st) => asArray(st.Action).includes('events:PutEvents'));
    expect(puts.length).toBeGreaterThan(0);
    for (const st of puts) {
      expect(st.Resource).toEqual({ 'Fn::GetAtt': [busId, 'Arn'] });
      expect(st.Condition).toEqual({ StringEquals: { 'events:source': `upload-portal.${id}` } });
    }
  });

  it('has zero unacknowledged cdk-nag findings (AwsSolutions + HIPAA.Security)', () => {
    for (const pack of [new AwsSolutionsChecks(), new HIPAASecurityChecks()]) {
      const report = pack.validateScope(s().stack);
      const findings = report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
      expect(findings).toEqual([]);
    }
  });
});

it('synthesizes one stack per institution file', () => {
  expect(synthesized.map((x) => Stack.of(x.stack).stackName).sort()).toEqual(institutions.map((i) => `UploadPortal-${i.id}`).sort());
  expect(institutions.length).toBeGreaterThanOrEqual(2);
  // Both portal set-ups are exercised: the hospital's own domain and the CloudFront name.
  expect(institutions.some((i) => i.portalCertificateArn)).toBe(true);
  expect(institutions.some((i) => !i.portalCertificateArn)).toBe(true);
});
