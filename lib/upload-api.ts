/**
 * UploadApi: the HTTP API of DESIGN.md, built from the route table in lambdas/runtime/routes.ts
 * (one Lambda per route). Session routes check the bearer token in the function; the admin route
 * is IAM-authorized (SigV4, used by `npm run codes`). Stage throttling, a tighter limit on code
 * redemption, CORS for the portal origin only, and JSON access logs without client IPs.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { InstitutionConfig } from '../lambdas/core/institution';
import { apiRoutes, type ApiRoute } from '../lambdas/runtime/routes';
import { AppFunction } from './app-function';
import { ClientAddressKey } from './client-address-key';
import { acknowledge, API_THROTTLE, encryptedLogGroup } from './defaults';
import type { PortalEvents } from './events';
import type { SessionTable } from './session-table';
import type { UploadStorage } from './upload-storage';

/** Code redemption is the unauthenticated route: throttled harder than the stage (guessing defence in depth). */
export const CREATE_SESSION_THROTTLE = { rateLimit: 5, burstLimit: 20 } as const;

interface RouteSettings {
  serviceName: string;
  description: string;
  timeout?: Duration;
  reservedConcurrentExecutions?: number;
  bind: (fn: AppFunction) => void;
}

export interface UploadApiProps {
  institution: InstitutionConfig;
  storage: UploadStorage;
  table: SessionTable;
  events: PortalEvents;
  logsKey: kms.IKey;
}

export class UploadApi extends Construct {
  readonly httpApi: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
  readonly accessLogs: logs.LogGroup;
  /** One function per route, keyed by the route id of routes.ts. */
  readonly functions: Record<string, AppFunction> = {};
  /** Attach to the hospital staff's role or group: may call the admin routes (issue upload codes), nothing else. */
  readonly issueCodesPolicy: iam.ManagedPolicy;
  /** Keys the audit trail's client address hashes; read only by the routes that see a client. */
  readonly addressKey: ClientAddressKey;

  constructor(scope: Construct, id: string, props: UploadApiProps) {
    super(scope, id);
    const { institution, storage, table, events } = props;
    this.httpApi = new apigwv2.HttpApi(this, 'HttpApi', {
      apiName: `upload-portal-${institution.id}`,
      description: `Upload Portal API for ${institution.name}`,
      createDefaultStage: false,
      corsPreflight: {
        allowOrigins: [institution.portalOrigin],
        allowMethods: [apigwv2.CorsHttpMethod.GET, apigwv2.CorsHttpMethod.POST, apigwv2.CorsHttpMethod.DELETE, apigwv2.CorsHttpMethod.OPTIONS],
        allowHeaders: ['authorization', 'content-type'],
        maxAge: Duration.hours(1),
      },
    });

    this.accessLogs = encryptedLogGroup(this, 'AccessLogs', props.logsKey);
    this.stage = new apigwv2.HttpStage(this, 'Stage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: API_THROTTLE,
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogs),
        // No source IP or user agent: an IP can identify a patient (HIPAA identifier).
        format: apigateway.AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            requestTime: '$context.requestTimeEpoch',
            routeKey: '$context.routeKey',
            status: '$context.status',
            latencyMs: '$context.responseLatency',
            integrationLatencyMs: '$context.integrationLatency',
            integrationError: '$context.integrationErrorMessage',
            responseLength: '$context.responseLength',
            iamUser: '$context.identity.userArn',
          }),
        ),
      },
    });
    const createSession = apiRoutes.find((route) => route.id === 'CreateSession');
    if (createSession) {
      (this.stage.node.defaultChild as apigwv2.CfnStage).routeSettings = {
        [`${createSession.method} ${createSession.path}`]: {
          ThrottlingRateLimit: CREATE_SESSION_THROTTLE.rateLimit,
          ThrottlingBurstLimit: CREATE_SESSION_THROTTLE.burstLimit,
        },
      };
    }

    // The API functions that see a client hash its address into the audit trail with this key.
    const addressKey = (this.addressKey = new ClientAddressKey(this, 'ClientAddressKey'));
    const audited = new Set(['CreateSession', 'RequestUploads', 'RemoveFile', 'CompleteSession']);
    // Grants per route: what each use case touches, nothing more.
    const settings: Record<string, RouteSettings> = {
      CreateSession: {
        serviceName: 'create-session',
        description: 'redeems an upload code and opens (or resumes) a session',
        // Bounds how fast codes can be tried even if the in-app rate limit were bypassed.
        reservedConcurrentExecutions: 10,
        bind: (fn) => table.bindReadWrite(fn),
      },
      GetSession: { serviceName: 'get-session', description: 'returns a session\'s state', bind: (fn) => table.bindRead(fn) },
      RequestUploads: {
        serviceName: 'request-uploads',
        description: 'checks the rules, reserves quota and presigns PUT URLs',
        bind: (fn) => {
          table.bindReadWrite(fn);
          storage.bindUploadSigner(fn, 'declare');
        },
      },
      RemoveFile: {
        serviceName: 'remove-file',
        description: 'removes a declared file and releases its reservation',
        bind: (fn) => {
          table.bindReadWrite(fn);
          storage.bindFileRemover(fn);
        },
      },
      ...Object.fromEntries(
        (
          [
            ['RenewUploadUrl', 'renew-upload-url', 'signs a fresh upload URL for a declared file that has not arrived', 'declare'],
            ['SignParts', 'sign-parts', 'presigns the parts of a multipart upload', 'sign-parts'],
            ['ListParts', 'list-parts', 'lists the parts S3 holds of a multipart upload', 'list-parts'],
            ['FinishUpload', 'finish-upload', 'completes a multipart upload', 'finish'],
          ] as const
        ).map(([id, serviceName, description, use]): [string, RouteSettings] => [
          id,
          {
            serviceName,
            description,
            bind: (fn) => {
              table.bindReadWrite(fn);
              storage.bindUploadSigner(fn, use);
            },
          },
        ]),
      ),
      CompleteSession: {
        serviceName: 'complete-session',
        description: 're-checks every rule and accepts or rejects the session',
        timeout: Duration.seconds(29),
        bind: (fn) => {
          table.bindReadWrite(fn);
          storage.bindCompleter(fn);
          events.bindPublisher(fn);
        },
      },
      IssueUploadCode: {
        serviceName: 'issue-upload-code',
        description: 'issues an upload code (hospital side, IAM-authorized)',
        reservedConcurrentExecutions: 2,
        bind: (fn) => table.bindReadWrite(fn),
      },
      ListUploadCodes: {
        serviceName: 'list-upload-codes',
        description: 'lists the institution\'s upload codes and their sessions (hospital side, IAM-authorized)',
        reservedConcurrentExecutions: 2,
        bind: (fn) => table.bindRead(fn),
      },
      RevokeUploadCode: {
        serviceName: 'revoke-upload-code',
        description: 'revokes upload codes, ends their open session and deletes its objects (hospital side, IAM-authorized)',
        reservedConcurrentExecutions: 2,
        timeout: Duration.seconds(29),
        bind: (fn) => {
          table.bindReadWrite(fn);
          storage.bindCodeRevoker(fn);
        },
      },
      ReadAuditTrail: {
        serviceName: 'read-audit-trail',
        description: 'reads the audit trail of a code or a day\'s security events (hospital side, IAM-authorized)',
        reservedConcurrentExecutions: 2,
        bind: (fn) => table.bindRead(fn),
      },
    };

    const iamAuthorizer = new HttpIamAuthorizer();
    const adminRoutes: string[] = [];
    for (const route of apiRoutes) {
      const setting = settings[route.id];
      if (!setting) throw new Error(`lib/upload-api.ts: route ${route.id} (${route.method} ${route.path}) has no grants defined; add it to the route settings`);
      const fn = new AppFunction(this, route.id, {
        entry: route.entry,
        serviceName: setting.serviceName,
        description: `Upload Portal ${institution.id}: ${setting.description}`,
        institution,
        logsKey: props.logsKey,
        timeout: setting.timeout,
        reservedConcurrentExecutions: setting.reservedConcurrentExecutions,
        });
      setting.bind(fn);
      if (audited.has(route.id)) addressKey.bindReader(fn);
      this.functions[route.id] = fn;
      const [httpRoute] = this.httpApi.addRoutes({
        path: route.path,
        methods: [apigwv2.HttpMethod[route.method]],
        integration: new HttpLambdaIntegration(`${route.id}Integration`, fn.function, {
          payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0,
        }),
        authorizer: route.auth === 'admin' ? iamAuthorizer : undefined,
      });
      if (httpRoute) this.acknowledgeAuthorization(httpRoute, route);
      // Any stage: the API has only $default, and this form is the one IAM documents for HTTP APIs.
      if (route.auth === 'admin') adminRoutes.push(this.httpApi.arnForExecuteApi(route.method, route.path));
      this.acknowledgeSynchronousInvocation(fn, route, setting.reservedConcurrentExecutions !== undefined);
    }

    this.issueCodesPolicy = new iam.ManagedPolicy(this, 'IssueCodesPolicy', {
      description: `Upload Portal ${institution.id}: issue upload codes (npm run codes) through the IAM-authorized admin route`,
      statements: [new iam.PolicyStatement({ actions: ['execute-api:Invoke'], resources: adminRoutes })],
    });
    const apiId = Stack.of(this).resolve((this.httpApi.node.defaultChild as apigwv2.CfnApi).logicalId) as string;
    acknowledge(
      this.issueCodesPolicy,
      apiRoutes
        .filter((route) => route.auth === 'admin')
        .map((route): [string, string] => [
          `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${apiId}>/*/${route.method}${route.path}]`,
          'The stage segment is a wildcard because the API has exactly one stage ($default); the grant names this API, one method and one admin path.',
        ]),
    );
  }

  /** The API's base URL (`https://{id}.execute-api.{region}.amazonaws.com`), what config.json's apiUrl holds. */
  get url(): string {
    return `https://${this.httpApi.apiId}.execute-api.${Stack.of(this).region}.${Stack.of(this).urlSuffix}`;
  }

  private acknowledgeAuthorization(httpRoute: apigwv2.HttpRoute, route: ApiRoute): void {
    if (route.auth === 'session-token') {
      acknowledge(httpRoute, [
        ['AwsSolutions-APIG4', 'Authorized in the function: it requires the session\'s bearer token (only its hash is stored) and answers 401 otherwise; a Lambda authorizer would add latency without adding a check.'],
      ]);
    } else if (route.auth === 'none') {
      acknowledge(httpRoute, [
        ['AwsSolutions-APIG4', 'Code redemption is the entry point: the upload code in the body is the credential. Failed redemptions are rate-limited in the function and the route has its own stage throttle.'],
      ]);
    }
  }

  private acknowledgeSynchronousInvocation(fn: AppFunction, route: ApiRoute, reserved: boolean): void {
    acknowledge(fn.function, [
      ['HIPAA.Security-LambdaDLQ', `Invoked synchronously by API Gateway (${route.method} ${route.path}); errors return to the caller and are alarmed on, so there is no asynchronous event to dead-letter.`],
    ]);
    if (!reserved) {
      acknowledge(fn.function, [
        ['HIPAA.Security-LambdaConcurrency', 'Bounded by the API stage throttle; a reservation per route would fail deployment in accounts with the default concurrency quota without limiting anything the throttle does not.'],
      ]);
    }
  }
}
