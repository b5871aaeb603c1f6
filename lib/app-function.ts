/**
 * AppFunction: every Lambda of the portal is one of these. Runtime, architecture, bundling,
 * source maps, logging, tracing and the shared environment are fixed here once; the constructs
 * that own a resource add grants and their environment variable together (bindTable-style).
 */
import { Duration } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import * as path from 'node:path';
import type { InstitutionConfig } from '../lambdas/core/institution';
import { acknowledge, encryptedLogGroup, LAMBDA_ARCHITECTURE, LAMBDA_RUNTIME } from './defaults';

/** Project root: bundling resolves entries, tsconfig and the lock file from here. */
export const PROJECT_ROOT = path.resolve(import.meta.dirname, '..');
export const ENTRIES_DIR = path.join(PROJECT_ROOT, 'lambdas', 'runtime', 'entries');
export const METRICS_NAMESPACE = 'UploadPortal';

/**
 * ESM output needs a `require` for the few CommonJS dependencies that call it at run time
 * (esbuild cannot rewrite a dynamic require into an import).
 */
const ESM_REQUIRE_SHIM = "import { createRequire as __portalCreateRequire } from 'node:module'; const require = __portalCreateRequire(import.meta.url);";

/** The esbuild settings of every Lambda bundle (bench/bundles.ts measures with the same ones). */
export const BUNDLE_SETTINGS = {
  format: 'esm',
  target: 'node22',
  mainFields: ['module', 'main'],
  banner: ESM_REQUIRE_SHIM,
  minify: true,
  sourceMap: true,
} as const;

export interface AppFunctionProps {
  /** Entry file, relative to lambdas/runtime/entries (the `entry` column of routes.ts). */
  entry: string;
  /** Powertools service name: the function's role in logs, traces and metrics. */
  serviceName: string;
  institution: InstitutionConfig;
  logsKey: kms.IKey;
  description: string;
  timeout?: Duration;
  memorySize?: number;
  reservedConcurrentExecutions?: number;
  /** For asynchronously invoked functions: where failed invocations go. */
  deadLetterQueue?: sqs.IQueue;
  /** Runs the function in these subnets (to reach a private network); otherwise it reaches only AWS APIs. */
  vpcPlacement?: { vpc: ec2.IVpc; subnets: ec2.ISubnet[]; securityGroups: ec2.ISecurityGroup[] };
  /** Without vpcPlacement: why the function needs no VPC (the reviewer's answer to HIPAA.Security-LambdaInsideVPC). */
  outsideVpcReason?: string;
}

export class AppFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  /** Environment variables bound by constructs (next to their grants). */
  readonly boundEnvironment = new Set<string>();

  constructor(scope: Construct, id: string, props: AppFunctionProps) {
    super(scope, id);
    this.logGroup = encryptedLogGroup(this, 'Logs', props.logsKey);
    // An explicit role without AWS managed policies: each function gets only what is bound to it.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Upload Portal ${props.institution.id}: ${props.serviceName}`,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: path.join(ENTRIES_DIR, props.entry),
      handler: 'handler',
      description: props.description,
      runtime: LAMBDA_RUNTIME,
      architecture: LAMBDA_ARCHITECTURE,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      tracing: lambda.Tracing.ACTIVE,
      timeout: props.timeout ?? Duration.seconds(10),
      memorySize: props.memorySize ?? 512,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      deadLetterQueue: props.deadLetterQueue,
      ...(props.vpcPlacement
        ? { vpc: props.vpcPlacement.vpc, vpcSubnets: { subnets: props.vpcPlacement.subnets }, securityGroups: props.vpcPlacement.securityGroups }
        : {}),
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      awsSdkConnectionReuse: false,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        INSTITUTION_CONFIG: JSON.stringify(props.institution),
      },
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: BUNDLE_SETTINGS.target,
        mainFields: [...BUNDLE_SETTINGS.mainFields],
        banner: BUNDLE_SETTINGS.banner,
        minify: BUNDLE_SETTINGS.minify,
        sourceMap: BUNDLE_SETTINGS.sourceMap,
        sourcesContent: false,
        // Bundle the SDK clients: pinned versions from our lock file, and tree-shaken smaller than the runtime's copy.
        bundleAwsSDK: true,
        forceDockerBundling: false,
        tsconfig: path.join(PROJECT_ROOT, 'tsconfig.json'),
      },
    });

    acknowledge(this.role, [
      ['HIPAA.Security-IAMNoInlinePolicy', 'The policy is a separate AWS::IAM::Policy attached to this one role only, created and reviewed with the function; a managed policy would only make it attachable to other principals.'],
      ['AwsSolutions-IAM5[Resource::*]', 'X-Ray PutTraceSegments/PutTelemetryRecords do not support resource-level permissions; no data is reachable through them.'],
    ]);
    acknowledge(this.function, [
      ['AwsSolutions-L1', 'Node.js 22 is a supported LTS runtime (AWS support into 2027); bundles target node22 and the tests run on it, so the runtime moves with the project, not silently.'],
    ]);
    if (props.vpcPlacement) {
      // A role passed to the function does not get Lambda's network-interface policy by itself.
      this.role.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole'));
      acknowledge(this.role, [
        ['AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]', 'Lambda needs to create and delete the network interfaces of its VPC placement; this AWS managed policy grants exactly those EC2 network-interface actions (they take no narrower resource for Lambda\'s use).'],
      ]);
    } else {
      acknowledge(this.function, [
        [
          'HIPAA.Security-LambdaInsideVPC',
          props.outsideVpcReason ??
            'The function reaches only AWS APIs (DynamoDB, S3, SQS, EventBridge) over TLS with IAM-scoped credentials; it opens no network listener and needs no private network resources.',
        ],
      ]);
    }
  }

  /** Adds an environment variable; constructs call this together with the matching grant. */
  addEnvironment(name: string, value: string): this {
    this.function.addEnvironment(name, value);
    this.boundEnvironment.add(name);
    return this;
  }

  addToRolePolicy(statement: iam.PolicyStatement): this {
    this.role.addToPrincipalPolicy(statement);
    return this;
  }
}
