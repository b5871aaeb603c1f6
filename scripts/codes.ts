/**
 * Hospital-side CLI: issues, lists and revokes upload codes, and reads a session's audit trail.
 *
 *   npm run codes -- create --institution <id> [--max-gb N] [--days N] [--reference R]
 *                           [--local [--data-dir DIR]] | [--api-url URL | --stack NAME] [--region R] [--json]
 *   npm run codes -- list --institution <id> [target options]
 *   npm run codes -- revoke <code | reference | code id> --institution <id> [target options]
 *   npm run codes -- audit <code | reference | code id | YYYY-MM-DD> --institution <id> [target options]
 *
 * Against local mode it reads `<DATA_DIR>/local.json` (written by `npm start`) and uses its admin
 * token. Against a deployed stack it signs the request with SigV4 (the route is IAM-authorized),
 * with credentials from the default chain (env, profile, SSO, instance role), and finds the API
 * URL in the stack's outputs unless `--api-url` is given. The code is printed once; only its hash
 * is stored.
 */
import { parseArgs } from 'node:util';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runAdminCommand } from './codes-admin';
import { runAuditCommand } from './codes-audit';

export const STACK_PREFIX = 'UploadPortal-';
const GB = 1_000_000_000;

export class UsageError extends Error {}

export interface CreateCodeRequest {
  maxSessionBytes?: number;
  validDays?: number;
  reference?: string;
}

export type Target =
  | { kind: 'local'; dataDir: string }
  | { kind: 'aws'; apiUrl?: string; stackName: string; region?: string };

export type Action = 'create' | 'list' | 'revoke' | 'audit';

export interface CreateCommand {
  action: Action;
  /** revoke: the code, reference or code id. */
  subject?: string;
  institution: string;
  body: CreateCodeRequest;
  target: Target;
  json: boolean;
}

const USAGE = `Usage: npm run codes -- create --institution <id> [--max-gb N] [--days N] [--reference R]
         [--local [--data-dir DIR]] | [--api-url URL | --stack NAME] [--region R] [--json]
       npm run codes -- list --institution <id> [same target options]
       npm run codes -- revoke <code | reference | code id> --institution <id> [same target options]
       npm run codes -- audit <code | reference | code id | YYYY-MM-DD> --institution <id> [same target options]

  list           every code: code id, reference, created, expiry, status, its session's state and delivery
  revoke         ends the code (all codes with that reference), ends its open session and deletes
                 what it uploaded; the uploader is told the hospital withdrew the code
  audit          the audit trail of a code and its session (all codes with that reference),
                 or a day's failed code redemptions (YYYY-MM-DD, UTC)

  --institution  the institution id (institutions/<id>.json; the stack is ${STACK_PREFIX}<id>)
  --max-gb       the session limit for this code in GB (0–10; default: the institution's)
  --days         days the code stays valid (1–365; default: the institution's)
  --reference    your own reference (e.g. a referral number; no patient names)
  --local        issue against local mode (\`npm start\`); the default when <data-dir>/local.json exists
  --data-dir     local mode's data folder (default: $DATA_DIR or .data)
  --api-url      the deployed API's URL (default: from the stack's outputs)
  --stack        the CloudFormation stack (default: ${STACK_PREFIX}<institution>)
  --region       the AWS region (default: from your AWS config)
  --json         print the API's JSON answer instead of text`;

/** Parses the command line; throws UsageError with a message fit for the terminal. */
export function parseCodesArgs(argv: string[], env: Record<string, string | undefined>, cwd = process.cwd()): CreateCommand {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      institution: { type: 'string' },
      'max-gb': { type: 'string' },
      days: { type: 'string' },
      reference: { type: 'string' },
      local: { type: 'boolean' },
      'data-dir': { type: 'string' },
      'api-url': { type: 'string' },
      stack: { type: 'string' },
      region: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) throw new UsageError(USAGE);
  const action = positionals[0] as Action | undefined;
  const arity = { create: 1, list: 1, revoke: 2, audit: 2 } as const;
  if (!action || !(action in arity) || positionals.length !== arity[action]) throw new UsageError(`Unknown or missing command.\n\n${USAGE}`);
  const institution = values.institution;
  if (!institution || !/^[a-z0-9][a-z0-9-]{0,31}$/.test(institution)) {
    throw new UsageError(`--institution must be an institution id (lowercase letters, digits, dashes).\n\n${USAGE}`);
  }
  const body: CreateCodeRequest = {};
  if (values['max-gb'] !== undefined) {
    const gb = Number(values['max-gb']);
    if (!Number.isFinite(gb) || gb < 0 || gb > 10) throw new UsageError('--max-gb must be a number from 0 to 10.');
    body.maxSessionBytes = Math.round(gb * GB);
  }
  if (values.days !== undefined) {
    const days = Number(values.days);
    if (!Number.isInteger(days) || days < 1 || days > 365) throw new UsageError('--days must be a whole number from 1 to 365.');
    body.validDays = days;
  }
  if (values.reference !== undefined) {
    if (values.reference.length === 0 || values.reference.length > 100) throw new UsageError('--reference must be 1–100 characters.');
    body.reference = values.reference;
  }
  const remote = values['api-url'] !== undefined || values.stack !== undefined;
  if (values.local && remote) throw new UsageError('--local cannot be combined with --api-url or --stack.');
  const dataDir = resolve(cwd, values['data-dir'] ?? env.DATA_DIR ?? '.data');
  if (values['api-url'] !== undefined) {
    let url: URL;
    try {
      url = new URL(values['api-url']);
    } catch {
      throw new UsageError('--api-url must be a URL like https://abc123.execute-api.eu-west-1.amazonaws.com');
    }
    if (url.protocol !== 'https:') throw new UsageError('--api-url must use https (a deployed API); use --local for local mode.');
  }
  const useLocal = values.local === true || (!remote && existsSync(join(dataDir, 'local.json')));
  const target: Target = useLocal
    ? { kind: 'local', dataDir }
    : {
        kind: 'aws',
        stackName: values.stack ?? `${STACK_PREFIX}${institution}`,
        ...(values['api-url'] ? { apiUrl: values['api-url'] } : {}),
        ...(values.region ? { region: values.region } : {}),
      };
  return { action, ...(positionals[1] !== undefined ? { subject: positionals[1] } : {}), institution, body, target, json: values.json === true };
}

interface LocalInfo {
  apiUrl: string;
  adminToken: string;
  institutionId?: string;
  pid?: number;
}

function readLocalInfo(dataDir: string, institution: string): LocalInfo {
  const file = join(dataDir, 'local.json');
  if (!existsSync(file)) throw new UsageError(`Local mode has not run in ${dataDir} (no local.json). Start it with \`npm start\`.`);
  const info = JSON.parse(readFileSync(file, 'utf8')) as LocalInfo;
  if (typeof info.apiUrl !== 'string' || typeof info.adminToken !== 'string') throw new UsageError(`${file} is incomplete; restart local mode.`);
  if (info.institutionId && info.institutionId !== institution) {
    throw new UsageError(`Local mode in ${dataDir} runs institution "${info.institutionId}", not "${institution}".`);
  }
  if (info.pid !== undefined) {
    try {
      process.kill(info.pid, 0);
    } catch {
      throw new UsageError(`Local mode is not running (it wrote ${file}, but process ${info.pid} is gone). Start it with \`npm start\`.`);
    }
  }
  return info;
}

async function apiUrlFromStack(stackName: string, region?: string): Promise<string> {
  const { CloudFormationClient, DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
  const cfn = new CloudFormationClient(region ? { region } : {});
  try {
    const { Stacks } = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    const outputs = Stacks?.[0]?.Outputs ?? [];
    const output = outputs.find((o) => /^(Http)?ApiUrl/i.test(o.OutputKey ?? '') || o.ExportName?.endsWith('ApiUrl'));
    if (!output?.OutputValue) {
      throw new UsageError(`Stack ${stackName} has no ApiUrl output (outputs: ${outputs.map((o) => o.OutputKey).join(', ') || 'none'}). Pass --api-url.`);
    }
    return output.OutputValue;
  } finally {
    cfn.destroy();
  }
}

/** POSTs the request signed with SigV4 for execute-api, as the IAM authorizer requires. */
export async function postSigned(apiUrl: string, path: string, body: string, region?: string): Promise<Response> {
  return sendSigned('POST', apiUrl, path, body, region);
}

/** Sends a request signed with SigV4 for execute-api (a GET has no body). */
export async function sendSigned(method: 'GET' | 'POST', apiUrl: string, path: string, body: string | undefined, region?: string): Promise<Response> {
  const [{ SignatureV4 }, { Sha256 }, { fromNodeProviderChain }] = await Promise.all([
    import('@smithy/signature-v4'),
    import('@aws-crypto/sha256-js'),
    import('@aws-sdk/credential-providers'),
  ]);
  const url = new URL(path.replace(/^\//, ''), apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/`);
  const resolvedRegion = region ?? /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/.exec(url.hostname)?.[1];
  if (!resolvedRegion) throw new UsageError('Cannot tell the API region from its URL; pass --region.');
  const signer = new SignatureV4({ service: 'execute-api', region: resolvedRegion, credentials: fromNodeProviderChain(), sha256: Sha256 });
  const signed = await signer.sign({
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    path: url.pathname,
    query: {},
    headers: { host: url.host, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body } : {}),
  });
  return fetch(url, { method, headers: signed.headers as Record<string, string>, ...(body !== undefined ? { body } : {}) });
}

export interface IssuedCode {
  code: string;
  expiresAt?: string;
  maxSessionBytes?: number;
  reference?: string;
  [k: string]: unknown;
}

/** Calls an admin route: with local mode's admin token, or signed with SigV4 against a stack. */
export async function callAdmin(command: CreateCommand, method: 'GET' | 'POST', path: string, body?: string): Promise<Response> {
  if (command.target.kind === 'local') {
    const info = readLocalInfo(command.target.dataDir, command.institution);
    return fetch(`${info.apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${info.adminToken}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body } : {}),
    });
  }
  let region = command.target.region;
  const apiUrl = command.target.apiUrl ?? (await apiUrlFromStack(command.target.stackName, region));
  region ??= /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com/.exec(apiUrl)?.[1];
  return sendSigned(method, apiUrl, path, body, region);
}

/** The JSON answer of an admin route, or an error naming the route's refusal. */
export async function adminAnswer(response: Response, doing: string): Promise<unknown> {
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    const error = (json as { error?: { code?: string; message?: string }; message?: string } | undefined) ?? {};
    const detail = error.error ? `${error.error.code}: ${error.error.message}` : (error.message ?? text.slice(0, 300));
    const hint = response.status === 403 ? ' (is your IAM identity allowed execute-api:Invoke on the admin routes?)' : '';
    throw new Error(`The API refused to ${doing}: HTTP ${response.status} ${detail}${hint}`);
  }
  return json;
}

export async function createCode(command: CreateCommand): Promise<IssuedCode> {
  const response = await callAdmin(command, 'POST', '/admin/upload-codes', JSON.stringify(command.body));
  const issued = (await adminAnswer(response, 'issue a code')) as IssuedCode | undefined;
  if (!issued || typeof issued.code !== 'string') throw new Error(`The API answered without a code: ${JSON.stringify(issued).slice(0, 300)}`);
  return issued;
}

export function formatIssued(issued: IssuedCode): string {
  const lines = [`Upload code: ${issued.code}`];
  if (issued.expiresAt) lines.push(`Valid until: ${issued.expiresAt}`);
  if (typeof issued.maxSessionBytes === 'number') lines.push(`Session limit: ${(issued.maxSessionBytes / GB).toFixed(2).replace(/\.?0+$/, '')} GB`);
  if (issued.reference) lines.push(`Reference: ${issued.reference}`);
  lines.push('The code is shown only this once; the portal stores only its hash.');
  return lines.join('\n');
}

async function main(): Promise<void> {
  let command: CreateCommand;
  try {
    command = parseCodesArgs(process.argv.slice(2), process.env);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(2);
  }
  try {
    if (command.action === 'create') {
      const issued = await createCode(command);
      console.log(command.json ? JSON.stringify(issued) : formatIssued(issued));
    } else if (command.action === 'audit') {
      console.log(await runAuditCommand(command));
    } else {
      console.log(await runAdminCommand(command));
    }
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name === 'CredentialsProviderError') console.error('No AWS credentials found (env, profile, SSO or role). Configure them, e.g. `aws sso login`.');
    else console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('scripts/codes.ts')) await main();
