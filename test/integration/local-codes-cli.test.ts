/**
 * The hospital CLI `npm run codes -- create`: its arguments, and the SigV4 signature it puts on a
 * request for a deployed stack's IAM-authorized admin route, re-derived here from the request a
 * real HTTP server received (the local run against `npm start` is in local-mode.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';
import { parseCodesArgs, postSigned, UsageError } from '../../scripts/codes';

describe('codes CLI arguments', () => {
  const empty = mkdtempSync(join(tmpdir(), 'codes-args-'));
  afterAll(() => rmSync(empty, { recursive: true, force: true }));

  it('turns GB and days into the admin route body, and targets the institution stack by default', () => {
    const command = parseCodesArgs(['create', '--institution', 'demo', '--max-gb', '2.5', '--days', '7', '--reference', 'REF-1'], {}, empty);
    expect(command.body).toEqual({ maxSessionBytes: 2_500_000_000, validDays: 7, reference: 'REF-1' });
    expect(command.target).toEqual({ kind: 'aws', stackName: 'UploadPortal-demo' });
  });

  it('targets local mode when its local.json exists or --local is given, and a URL when --api-url is given', () => {
    const withLocal = mkdtempSync(join(tmpdir(), 'codes-local-'));
    try {
      writeFileSync(join(withLocal, 'local.json'), '{}');
      expect(parseCodesArgs(['create', '--institution', 'demo', '--data-dir', withLocal], {}, empty).target).toEqual({ kind: 'local', dataDir: withLocal });
      expect(parseCodesArgs(['create', '--institution', 'demo'], { DATA_DIR: withLocal }, empty).target.kind).toBe('local');
      expect(parseCodesArgs(['create', '--institution', 'demo', '--local'], {}, empty).target).toEqual({ kind: 'local', dataDir: join(empty, '.data') });
      const remote = parseCodesArgs(['create', '--institution', 'demo', '--data-dir', withLocal, '--api-url', 'https://a1.execute-api.eu-west-1.amazonaws.com'], {}, empty);
      expect(remote.target).toEqual({ kind: 'aws', stackName: 'UploadPortal-demo', apiUrl: 'https://a1.execute-api.eu-west-1.amazonaws.com' });
    } finally {
      rmSync(withLocal, { recursive: true, force: true });
    }
  });

  it.each([
    [['create'], /--institution/],
    [['create', '--institution', 'Demo Hospital'], /--institution/],
    [['create', '--institution', 'demo', '--max-gb', '11'], /--max-gb/],
    [['create', '--institution', 'demo', '--max-gb', 'lots'], /--max-gb/],
    [['create', '--institution', 'demo', '--days', '0'], /--days/],
    [['create', '--institution', 'demo', '--days', '1.5'], /--days/],
    [['create', '--institution', 'demo', '--api-url', 'http://plain.example'], /https/],
    [['create', '--institution', 'demo', '--local', '--stack', 'X'], /--local cannot/],
    [['revoke', '--institution', 'demo'], /Unknown or missing command/],
  ])('refuses %j with a clear message', (argv, message) => {
    expect(() => parseCodesArgs(argv as string[], {}, empty)).toThrow(UsageError);
    expect(() => parseCodesArgs(argv as string[], {}, empty)).toThrow(message);
  });
});

describe('SigV4 signing for the deployed admin route', () => {
  let server: Server;
  let port: number;
  const received: { method: string; url: string; headers: IncomingHttpHeaders; body: string }[] = [];
  const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'session-token-example' };
  const saved: Record<string, string | undefined> = {};

  beforeAll(async () => {
    // The CLI uses the default credential chain; the environment comes first in it.
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE']) saved[name] = process.env[name];
    process.env.AWS_ACCESS_KEY_ID = credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = credentials.secretAccessKey;
    process.env.AWS_SESSION_TOKEN = credentials.sessionToken;
    delete process.env.AWS_PROFILE;
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        received.push({ method: req.method!, url: req.url!, headers: req.headers, body });
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ code: 'ABCD-EFGH-JKMN-PQRS', expiresAt: '2030-01-01T00:00:00.000Z' }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const address = server.address();
    port = typeof address === 'object' && address ? address.port : 0;
  });

  afterAll(async () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await new Promise<void>((r) => server.close(() => r()));
  });

  /** Signs what the server received again, with the given secret, at the time the request claims. */
  async function resign(request: (typeof received)[number], secretAccessKey: string): Promise<string> {
    const amzDate = String(request.headers['x-amz-date']);
    const signingDate = new Date(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
    const signer = new SignatureV4({ service: 'execute-api', region: 'eu-west-1', credentials: { ...credentials, secretAccessKey }, sha256: Sha256 });
    const signed = await signer.sign(
      {
        method: request.method,
        protocol: 'http:',
        hostname: '127.0.0.1',
        port,
        path: request.url,
        query: {},
        headers: { host: String(request.headers.host), 'content-type': String(request.headers['content-type']) },
        body: request.body,
      },
      { signingDate },
    );
    return String(signed.headers.authorization);
  }

  it('signs POST /admin/upload-codes for execute-api with the chain credentials, body included', async () => {
    const response = await postSigned(`http://127.0.0.1:${port}/prod`, '/admin/upload-codes', '{"validDays":3}', 'eu-west-1');
    expect(response.status).toBe(201);
    const request = received.at(-1)!;
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/prod/admin/upload-codes');
    expect(request.body).toBe('{"validDays":3}');
    const authorization = String(request.headers.authorization);
    expect(authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[^,]*host[^,]*x-amz-date/);
    expect(request.headers['x-amz-security-token']).toBe(credentials.sessionToken);
    expect(authorization).toBe(await resign(request, credentials.secretAccessKey));
    // The comparison can fail: another secret gives another signature, and so does another body.
    expect(authorization).not.toBe(await resign(request, 'another-secret'));
    expect(authorization).not.toBe(await resign({ ...request, body: '{"validDays":300}' }, credentials.secretAccessKey));
  });
});
