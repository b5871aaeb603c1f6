/**
 * The CDK app: one UploadPortal-<id> stack per institutions/*.json, checked by the cdk-nag
 * AwsSolutions and HIPAA.Security packs on every synth (a finding fails the synth unless it is
 * acknowledged on its construct with a reason).
 *
 * The portal build (web/dist) is deployed with each stack, so the app builds it with Vite first,
 * from source, every time: a deployment never ships a stale portal. `-c portalAssetDir=<dir>`
 * deploys an existing build instead (used when the build was already made in the same pipeline).
 */
import { App, Validations } from 'aws-cdk-lib';
import * as path from 'node:path';
import { InstitutionConfigError } from '../lambdas/core/institution';
import { loadInstitutions } from '../lib/institutions';

const PROJECT_ROOT = path.resolve(import.meta.dirname, '..');

async function main(): Promise<void> {
  const app = new App();
  // `-c institutionsDir=<dir>`: configs kept outside the repository (default: institutions/).
  const institutionsDir = path.resolve(PROJECT_ROOT, (app.node.tryGetContext('institutionsDir') as string | undefined) ?? 'institutions');
  const institutions = loadInstitutions(institutionsDir, PROJECT_ROOT);
  // The constructs, cdk-nag and Vite load only once every config is valid: a bad file fails fast.
  const [{ stackNameFor, UploadPortalStack }, { AwsSolutionsChecks, HIPAASecurityChecks }, { buildPortal }] = await Promise.all([
    import('../lib/upload-portal-stack'),
    import('cdk-nag'),
    import('../lib/portal-build'),
  ]);
  const prebuilt = app.node.tryGetContext('portalAssetDir') as string | undefined;
  const portalAssetDir = prebuilt ? path.resolve(PROJECT_ROOT, prebuilt) : await buildPortal();

  for (const institution of institutions) {
    new UploadPortalStack(app, stackNameFor(institution.id), { institution, portalAssetDir });
  }
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new HIPAASecurityChecks(app));
  app.synth();
}

main().catch((error: unknown) => {
  // A bad institution file: say which file and field, without a stack trace in the way.
  if (error instanceof InstitutionConfigError) console.error(`Invalid institution config: ${error.message}`);
  else console.error(error);
  process.exit(1);
});
