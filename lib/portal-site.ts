/**
 * PortalSite: the browser portal (web/dist) in a private bucket behind CloudFront with Origin
 * Access Control, HTTPS only, security headers (CSP limited to the API and the uploads bucket,
 * HSTS), standard logs, and a generated config.json telling the portal where the API is.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { InstitutionConfig } from '../lambdas/core/institution';
import { HSTS_MAX_AGE_SECONDS, PERMISSIONS_POLICY, portalContentSecurityPolicy } from '../lambdas/core/security-headers';
import { acknowledge, privateBucketProps } from './defaults';

export interface PortalSiteProps {
  institution: InstitutionConfig;
  /** The built portal (web/dist): must contain index.html. */
  assetDir: string;
  /** The HTTP API base URL the portal calls (config.json's apiUrl, and CSP connect-src). */
  apiUrl: string;
  /** The uploads bucket: presigned PUTs go to its regional endpoint (CSP connect-src). */
  uploadsBucket: s3.IBucket;
  accessLogs: s3.IBucket;
}

export class PortalSite extends Construct {
  readonly bucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  readonly responseHeaders: cloudfront.ResponseHeadersPolicy;

  constructor(scope: Construct, id: string, props: PortalSiteProps) {
    super(scope, id);
    if (!existsSync(path.join(props.assetDir, 'index.html'))) {
      throw new Error(`PortalSite: ${path.join(props.assetDir, 'index.html')} not found. Build the portal first (npm run synth does; or run \`npx vite build web\`).`);
    }
    const { institution } = props;

    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...privateBucketProps(),
      encryption: s3.BucketEncryption.S3_MANAGED,
      versioned: true,
      serverAccessLogsBucket: props.accessLogs,
      serverAccessLogsPrefix: `portal-${institution.id}/`,
      lifecycleRules: [{ id: 'purge-old-portal-builds', noncurrentVersionExpiration: Duration.days(30) }],
    });
    acknowledge(this.bucket, [
      ['HIPAA.Security-S3DefaultEncryptionKMS', 'Holds only the public portal build (HTML, JS, CSS, config.json with the API URL), never PHI; SSE-S3 encrypts it at rest and CloudFront reads it through Origin Access Control.'],
      ['HIPAA.Security-S3BucketReplicationEnabled', 'Holds only the portal build, which is reproduced from source by every deployment.'],
    ]);

    // The SDK presigns virtual-hosted URLs on the regional endpoint; CloudFormation's RegionalDomainName
    // may name us-east-1 buckets without the region, so both spellings are allowed (same bucket).
    const { region, urlSuffix } = Stack.of(this);
    const uploadsEndpoint = `https://${props.uploadsBucket.bucketRegionalDomainName} https://${props.uploadsBucket.bucketName}.s3.${region}.${urlSuffix}`;
    const csp = portalContentSecurityPolicy([props.apiUrl, uploadsEndpoint], { upgradeInsecureRequests: true });
    this.responseHeaders = new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: `Upload Portal ${institution.id}: CSP, HSTS and friends`,
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: csp, override: true },
        strictTransportSecurity: { accessControlMaxAge: Duration.seconds(HSTS_MAX_AGE_SECONDS), includeSubdomains: true, preload: true, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
        xssProtection: { protection: true, modeBlock: true, override: true },
      },
      customHeadersBehavior: {
        customHeaders: [{ header: 'Permissions-Policy', value: PERMISSIONS_POLICY, override: true }],
      },
    });

    const portalHost = new URL(institution.portalOrigin).hostname;
    // With the hospital's certificate, viewers must speak TLS 1.2+; the default certificate's policy is fixed by CloudFront.
    const customDomain = institution.portalCertificateArn
      ? {
          domainNames: [portalHost],
          certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', institution.portalCertificateArn),
          minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
        }
      : {};
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: `Upload Portal ${institution.id}`,
      defaultRootObject: 'index.html',
      ...customDomain,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      enableLogging: true,
      logBucket: props.accessLogs,
      logFilePrefix: `cloudfront-${institution.id}/`,
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: this.responseHeaders,
        compress: true,
      },
    });
    acknowledge(this.distribution, [
      ['AwsSolutions-CFR1', 'Patients and referring physicians may upload from anywhere (travel, referrals from abroad); access is controlled by upload codes, not geography.'],
      ['AwsSolutions-CFR2', 'The distribution serves only static files from a private bucket; it has no dynamic origin for a WAF to protect, and the API (the dynamic surface) is throttled and rate-limited separately.'],
    ]);
    if (!institution.portalCertificateArn) {
      acknowledge(this.distribution, [
        ['AwsSolutions-CFR4', 'Without portalCertificateArn the portal is served on its *.cloudfront.net name, whose default certificate has a TLS policy CloudFront fixes (it still accepts TLS 1.0 clients). The page carries no PHI and uploads go to S3, which requires TLS 1.2 (bucket policy). Production configs set portalCertificateArn, which enforces TLSv1.2_2021.'],
      ]);
    }

    new s3deploy.BucketDeployment(this, 'Deploy', {
      destinationBucket: this.bucket,
      sources: [s3deploy.Source.asset(props.assetDir), s3deploy.Source.jsonData('config.json', { apiUrl: props.apiUrl })],
      prune: true,
      distribution: this.distribution,
      distributionPaths: ['/*'],
      memoryLimit: 512,
    });
  }

  /** The distribution's CloudFront URL (with portalCertificateArn, portalOrigin's DNS points here). */
  get url(): string {
    return `https://${this.distribution.distributionDomainName}`;
  }
}
