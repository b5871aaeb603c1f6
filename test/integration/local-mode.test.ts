/**
 * Local mode end to end: started as a child process exactly as `npm start` does
 * (`npx tsx local/start.ts`, PORT=0, a temp DATA_DIR), then driven over HTTP only: redeem the
 * printed code, upload a multi-study session of real corpus files plus attachments to the
 * presigned URLs, complete it, read the manifest from the S3 emulator, issue a code with
 * `npm run codes -- create`, restart and read the same session back, stop, and check that no
 * process (the JVM included) is left behind.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request } from 'node:http';
import { join, resolve } from 'node:path';
import { GetObjectCommand, GetObjectTaggingCommand, S3Client } from '@aws-sdk/client-s3';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/emulators';
import type { Manifest } from '../../lambdas/core/manifest';
import { manifestKeyFor } from '../../lambdas/core/model';
import { CORPUS_ROOT } from '../corpus';

const ROOT = resolve(import.meta.dirname, '../..');
const CORPUS = join(CORPUS_ROOT, 'pydicom');

interface OracleEntry {
  file: string;
  kind: string;
  attributes: { StudyInstanceUID: string | null; SOPInstanceUID: string | null };
}
const oracle = JSON.parse(readFileSync(resolve(CORPUS, '../pydicom-oracle.json'), 'utf8')) as OracleEntry[];

/** Real files in three studies; two share a study. UIDs come from the corpus's ground truth. */
function corpusFile(name: string) {
  const entry = oracle.find((e) => e.file === `test_files/${name}`);
  if (!entry?.attributes.StudyInstanceUID || !entry.attributes.SOPInstanceUID) throw new Error(`corpus file ${name} missing from the oracle`);
  const bytes = readFileSync(join(CORPUS, 'test_files', name));
  return { name, bytes, studyInstanceUid: entry.attributes.StudyInstanceUID, sopInstanceUid: entry.attributes.SOPInstanceUID };
}
const dicom = ['CT_small.dcm', 'MR_small.dcm', 'SC_rgb_small_odd.dcm', 'SC_rgb_dcmtk_+eb+cr.dcm'].map(corpusFile);

// A tiny but well-formed PDF: header, one empty page, xref, trailer.
const pdf = Buffer.from(
  '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n' +
    '3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 3 3]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
);
// A 1×1 PNG: signature, IHDR, IDAT, IEND.
const png = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360f8cfc0f01f0005000201e2213bc70000000049454e44ae426082',
  'hex',
);

interface Started {
  child: ChildProcess;
  portalUrl: string;
  apiUrl: string;
  uploadCode: string;
  output: () => string;
}

const TSX_CLI = join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');

/**
 * Starts local mode as `npm start` does (node with tsx's loader, in one process: npm itself always
 * ends by a signal it receives, and tsx's own launcher kills local mode when a relayed Ctrl-C is not
 * acknowledged within 30 ms); resolves once it printed its three lines.
 */
function startLocal(dataDir: string, extraEnv: Record<string, string> = {}): Promise<Started> {
  const [command, args] = [process.execPath, ['--import', 'tsx', 'local/start.ts']];
  const child = spawn(command as string, args as string[], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', DATA_DIR: dataDir, LOG_FORMAT: 'pretty', ...extraEnv },
    // Its own process group: a signal to the group is what a terminal's Ctrl-C does.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`local mode did not start within 150 s:\n${out}`)), 150_000);
    const check = () => {
      const portal = /^Portal: (\S+)$/m.exec(out)?.[1];
      const api = /^API: (\S+)$/m.exec(out)?.[1];
      const code = /^Upload code: (\S+)$/m.exec(out)?.[1];
      if (portal && api && code) {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        resolvePromise({ child, portalUrl: portal, apiUrl: api, uploadCode: code, output: () => out });
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`local mode exited early with ${code}:\n${out}`));
    });
  });
}

/**
 * Signals local mode and waits for it to exit. `group` signals the whole process group, as a
 * terminal's Ctrl-C does (npm then ends by the signal itself, whatever its child did); `process`
 * signals only the launcher, which relays it.
 */
async function stopLocal(started: Started, signal: NodeJS.Signals, target: 'group' | 'process'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const { child } = started;
  if (child.exitCode !== null || child.signalCode !== null) return { code: child.exitCode, signal: child.signalCode };
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, sig) => r({ code, signal: sig })));
  process.kill(target === 'group' ? -child.pid! : child.pid!, signal);
  return exited;
}

/** Processes whose command line mentions the data folder: the JVM has `-dbPath <dataDir>/dynamodb`. */
function processesUsing(dataDir: string): string[] {
  const result = spawnSync('pgrep', ['-af', dataDir], { encoding: 'utf8' });
  return result.stdout
    .split('\n')
    .filter(Boolean)
    .filter((line) => !line.includes('pgrep'));
}

async function api(base: string, method: string, path: string, body?: unknown, token?: string) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as Record<string, any>) : {} };
}

/**
 * `npm run codes -- …`, without blocking the event loop: a blocked loop keeps fetch's idle
 * keep-alive socket past the server's timeout, and the next request dies on the closed socket.
 */
function runCli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('npm', ['run', '--silent', 'codes', '--', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolvePromise({ status, stdout, stderr }));
  });
}

/** A POST on a connection of its own: the server closes it after a 413, which must not cut a pooled one. */
function postOnOwnConnection(url: string, body: Buffer): Promise<{ status: number; headers: Record<string, string> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, headers: res.headers as Record<string, string> });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * After a blocking spawnSync, lets the event loop see the server closing idle keep-alive sockets
 * (5 s), so fetch does not reuse one the server already closed ("other side closed").
 */
const letPooledSocketsClose = () => new Promise((r) => setTimeout(r, 100));

let dataDir: string;
let running: Started | undefined;

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'local-mode-'));
});

afterAll(async () => {
  if (running && running.child.exitCode === null && running.child.signalCode === null) await stopLocal(running, 'SIGKILL', 'group').catch(() => undefined);
  rmSync(dataDir, { recursive: true, force: true });
});

describe('local mode, end to end over HTTP', () => {
  let sessionId: string;
  let token: string;
  let cliCode: string;
  let cliSessionId: string;
  let cliToken: string;

  it('starts, serves the portal and config.json, and redeems the printed code', async () => {
    running = await startLocal(dataDir);
    expect(running.apiUrl).toBe(`${running.portalUrl}/api`);
    expect(running.uploadCode).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{4})+$/);

    const config = await fetch(`${running.portalUrl}/config.json`);
    expect(config.status).toBe(200);
    expect(await config.json()).toEqual({ apiUrl: running.apiUrl });
    const page = await fetch(`${running.portalUrl}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);

    const info = JSON.parse(readFileSync(join(dataDir, 'local.json'), 'utf8')) as Record<string, string>;
    expect(info.portalUrl).toBe(running.portalUrl);
    expect(info.apiUrl).toBe(running.apiUrl);
    expect(info.adminToken).toMatch(/^[A-Za-z0-9_-]{32,}$/);
    expect(statSync(join(dataDir, 'local.json')).mode & 0o777).toBe(0o600);

    const redeemed = await api(running.apiUrl, 'POST', '/sessions', { uploadCode: running.uploadCode });
    expect(redeemed.status, JSON.stringify(redeemed.json)).toBeLessThan(300);
    expect(redeemed.json.status).toBe('OPEN');
    sessionId = redeemed.json.sessionId;
    token = redeemed.json.token;
    expect(sessionId).toBeTruthy();
    expect(token).toBeTruthy();
  });

  it('sends nosniff and Referrer-Policy on every response, and the portal a strict CSP its built page keeps to', async () => {
    const info = JSON.parse(readFileSync(join(dataDir, 'local.json'), 'utf8')) as Record<string, string>;
    const page = await fetch(`${running!.portalUrl}/`);
    const html = await page.text();
    const asset = /<script[^>]+src="([^"]+)"/.exec(html)?.[1];
    expect(asset, 'the built page loads its script from a file').toBeTruthy();
    // No inline script or style in the built page: the CSP below would block them.
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=/);
    const portal = [page, await fetch(`${running!.portalUrl}${asset}`), await fetch(`${running!.portalUrl}/config.json`), await fetch(`${running!.portalUrl}/missing.js`), await fetch(`${running!.portalUrl}/`, { method: 'POST' })];
    expect(portal.map((r) => r.status)).toEqual([200, 200, 200, 404, 405]);
    for (const response of portal) {
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp, response.url).toContain("frame-ancestors 'none'");
      expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval';");
      expect(csp).toContain("style-src 'self';");
      expect(csp).toContain(`connect-src 'self' ${info.s3Endpoint};`);
      expect(csp).not.toMatch(/'unsafe-(inline|eval|hashes)'/);
      expect(response.headers.get('x-frame-options')).toBe('DENY');
    }

    const apiCalls = [
      await fetch(`${running!.apiUrl}/sessions/${sessionId}`, { headers: { authorization: `bearer ${token}` } }),
      await fetch(`${running!.apiUrl}/no-such-route`),
      await fetch(`${running!.apiUrl}/sessions`, { method: 'POST', body: JSON.stringify({ uploadCode: 'ZZZZ-ZZZZ-ZZZZ-ZZZZ' }), headers: { 'content-type': 'text/plain' } }),
    ];
    expect(apiCalls.map((r) => r.status)).toEqual([200, 404, 415]);
    expect(((await apiCalls[2]!.json()) as { error: { code: string } }).error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const tooLarge = await postOnOwnConnection(`${running!.apiUrl}/sessions`, Buffer.alloc(10 * 1024 * 1024 + 1, 0x20));
    expect(tooLarge.status).toBe(413);
    for (const headers of [...[...portal, ...apiCalls].map((r) => Object.fromEntries(r.headers)), tooLarge.headers]) {
      expect(headers['x-content-type-options'], JSON.stringify(headers)).toBe('nosniff');
      expect(headers['referrer-policy'], JSON.stringify(headers)).toBe('no-referrer');
    }
  });

  it('uploads three studies of real DICOM files plus a PDF and a PNG, and completes ACCEPTED with a correct manifest', async () => {
    const base = running!.apiUrl;
    const [ctFile, mrFile] = dicom;
    const declared = [
      ...dicom.map((f, i) => ({ clientId: `d${i}`, name: f.name, size: f.bytes.length, kind: 'dicom', studyInstanceUid: f.studyInstanceUid, sopInstanceUid: f.sopInstanceUid, bytes: f.bytes })),
      { clientId: 'a0', name: 'report.pdf', size: pdf.length, kind: 'attachment', studyInstanceUid: ctFile!.studyInstanceUid, contentType: 'application/pdf', bytes: pdf },
      { clientId: 'a1', name: 'photo.png', size: png.length, kind: 'attachment', studyInstanceUid: mrFile!.studyInstanceUid, contentType: 'image/png', bytes: png },
    ];
    const request = await api(base, 'POST', `/sessions/${sessionId}/uploads`, { files: declared.map(({ bytes, ...f }) => ({ ...f, sha256: createHash('sha256').update(bytes).digest('base64') })) }, token);
    expect(request.status, JSON.stringify(request.json)).toBe(201);
    const uploads = request.json.uploads as { clientId: string; fileId: string; url: string; method: string; headers: Record<string, string> }[];
    expect(uploads).toHaveLength(declared.length);

    // Straight to the S3 emulator, as the browser does; never through our API.
    await Promise.all(
      uploads.map(async (u) => {
        const file = declared.find((d) => d.clientId === u.clientId)!;
        expect(u.method).toBe('PUT');
        expect(new URL(u.url).origin).not.toBe(new URL(base).origin);
        const put = await fetch(u.url, { method: 'PUT', headers: u.headers, body: file.bytes });
        expect(put.status, await put.text()).toBe(200);
      }),
    );

    // The inspector runs from S3 events; wait until every file has a verdict.
    let state: Record<string, any> = {};
    for (let i = 0; i < 150; i++) {
      state = (await api(base, 'GET', `/sessions/${sessionId}`, undefined, token)).json;
      const files = (state.files ?? []) as { status: string }[];
      if (files.length === declared.length && files.every((f) => f.status === 'VERIFIED' || f.status === 'REJECTED')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect((state.files as { status: string }[]).map((f) => f.status)).toEqual(declared.map(() => 'VERIFIED'));
    // Each study names itself with the header fields the inspector read (a reloaded portal shows them).
    const ctView = (state.studies as Record<string, unknown>[]).find((s) => s.studyInstanceUid === ctFile!.studyInstanceUid);
    expect(ctView).toMatchObject({ patientName: 'CompressedSamples^CT1', patientId: '1CT1', studyDate: '20040119', studyDescription: 'e+1', modalities: ['CT'], dicomFiles: 1, attachments: 1 });
    expect(ctView).not.toHaveProperty('patientBirthDate');

    const studies = [...new Set(dicom.map((f) => f.studyInstanceUid))];
    expect(studies).toHaveLength(3);
    const completion = {
      studies: studies.map((uid, i) => ({ studyInstanceUid: uid, ...(i === 0 ? { comment: 'Second opinion, please' } : {}) })),
      contact: { email: 'uploader@example.org' },
      consent: { privacyPolicy: true, dataSharing: true },
    };
    // 202 COMPLETING while local mode's completer works; asking again answers the outcome once decided.
    let completed = await api(base, 'POST', `/sessions/${sessionId}/complete`, completion, token);
    expect(completed.status, JSON.stringify(completed.json)).toBe(202);
    expect(completed.json.status).toBe('COMPLETING');
    for (let tries = 0; completed.status === 202 && tries < 300; tries++) {
      await new Promise((r) => setTimeout(r, 200));
      completed = await api(base, 'POST', `/sessions/${sessionId}/complete`, completion, token);
    }
    expect(completed.status, JSON.stringify(completed.json)).toBe(200);
    expect(completed.json.status).toBe('ACCEPTED');

    const info = JSON.parse(readFileSync(join(dataDir, 'local.json'), 'utf8')) as { s3Endpoint: string; bucketName: string };
    const s3 = new S3Client({ endpoint: info.s3Endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
    try {
      const object = await s3.send(new GetObjectCommand({ Bucket: info.bucketName, Key: manifestKeyFor(sessionId) }));
      const manifest = JSON.parse(await object.Body!.transformToString()) as Manifest;
      expect(manifest.sessionId).toBe(sessionId);
      expect(manifest.institutionId).toBe('demo');
      expect(manifest.totals).toMatchObject({
        studies: 3,
        instances: dicom.length,
        attachments: 2,
        bytes: declared.reduce((sum, f) => sum + f.size, 0),
      });
      expect(manifest.studies.map((s) => s.studyInstanceUid).sort()).toEqual([...studies].sort());
      const instances = manifest.studies.flatMap((s) => s.series.flatMap((series) => series.instances));
      expect(instances.map((i) => i.sopInstanceUid).sort()).toEqual(dicom.map((f) => f.sopInstanceUid).sort());
      for (const f of dicom) {
        const instance = instances.find((i) => i.sopInstanceUid === f.sopInstanceUid)!;
        expect(instance.size).toBe(f.bytes.length);
        expect(instance.header.studyInstanceUid).toBe(f.studyInstanceUid);
      }
      const ctStudy = manifest.studies.find((s) => s.studyInstanceUid === ctFile!.studyInstanceUid)!;
      expect(ctStudy.comment).toBe('Second opinion, please');
      expect(ctStudy.attachments.map((a) => a.type)).toEqual(['pdf']);
      const mrStudy = manifest.studies.find((s) => s.studyInstanceUid === mrFile!.studyInstanceUid)!;
      expect(mrStudy.attachments.map((a) => a.type)).toEqual(['png']);
      // Every object in the manifest is really there, byte for byte.
      for (const instance of instances) {
        const stored = await s3.send(new GetObjectCommand({ Bucket: info.bucketName, Key: instance.objectKey }));
        const bytes = Buffer.from(await stored.Body!.transformToByteArray());
        expect(bytes.equals(dicom.find((f) => f.sopInstanceUid === instance.sopInstanceUid)!.bytes)).toBe(true);
      }
      // The acceptance event invokes the sweeper, which tags every file (attachments too) as accepted data.
      const fileKeys = manifest.studies.flatMap((s) => [...s.series.flatMap((series) => series.instances.map((i) => i.objectKey)), ...s.attachments.map((a) => a.objectKey)]);
      expect(fileKeys).toHaveLength(dicom.length + 2);
      const untagged = async () => {
        const left: string[] = [];
        for (const key of fileKeys) {
          const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: info.bucketName, Key: key }));
          if (!tags.TagSet?.some((t) => t.Key === 'upload-state' && t.Value === 'accepted')) left.push(key);
        }
        return left;
      };
      const deadline = Date.now() + 10_000;
      let left = await untagged();
      while (left.length > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        left = await untagged();
      }
      expect(left).toEqual([]);
    } finally {
      s3.destroy();
    }

    // The acceptance event went to local mode's event log (EventBridge's stand-in).
    const events = readFileSync(join(dataDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { detailType: string; detail: { sessionId: string } });
    expect(events.some((e) => e.detailType === 'UploadSessionAccepted' && e.detail.sessionId === sessionId)).toBe(true);
  });

  it('issues a usable code with `npm run codes -- create` against local mode', async () => {
    const cli = await runCli(['create', '--institution', 'demo', '--days', '3', '--max-gb', '1', '--reference', 'REF-42', '--data-dir', dataDir]);
    expect(cli.status, cli.stderr).toBe(0);
    await letPooledSocketsClose();
    cliCode = /^Upload code: (\S+)$/m.exec(cli.stdout)?.[1] ?? '';
    expect(cliCode).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{4})+$/);
    expect(cliCode).not.toBe(running!.uploadCode);

    const redeemed = await api(running!.apiUrl, 'POST', '/sessions', { uploadCode: cliCode });
    expect(redeemed.status, JSON.stringify(redeemed.json)).toBeLessThan(300);
    expect(redeemed.json.limits.maxSessionBytes).toBe(1_000_000_000);
    cliSessionId = redeemed.json.sessionId;
    cliToken = redeemed.json.token;

    const wrongInstitution = await runCli(['create', '--institution', 'other', '--data-dir', dataDir]);
    expect(wrongInstitution.status).not.toBe(0);
    expect(wrongInstitution.stderr).toMatch(/institution "demo"/);
  });

  it('lists codes and revokes one with `npm run codes -- list | revoke`; the uploader is told plainly', async () => {
    const codes = (...args: string[]) => spawnSync('npm', ['run', '--silent', 'codes', '--', ...args, '--institution', 'demo', '--data-dir', dataDir], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    const issued = codes('create', '--reference', 'REF-REVOKE-CLI');
    expect(issued.status, issued.stderr).toBe(0);
    await letPooledSocketsClose();
    const code = /^Upload code: (\S+)$/m.exec(issued.stdout)![1]!;
    const opened = await api(running!.apiUrl, 'POST', '/sessions', { uploadCode: code });
    expect(opened.status).toBe(201);

    const listed = codes('list', '--json');
    expect(listed.status, listed.stderr).toBe(0);
    const byReference = new Map((JSON.parse(listed.stdout).codes as { reference?: string; status: string; sessionStatus?: string }[]).map((c) => [c.reference, c]));
    expect(byReference.get('npm start')).toMatchObject({ status: 'REDEEMED', sessionStatus: 'ACCEPTED' });
    expect(byReference.get('REF-REVOKE-CLI')).toMatchObject({ status: 'REDEEMED', sessionStatus: 'OPEN' });
    const table = codes('list');
    expect(table.stdout).toMatch(/^code id\s+reference\s+created\s+expires\s+status\s+session\s+delivery$/m);
    // No delivery for an open session (nor here for an accepted one: this local mode has no PACS).
    expect(table.stdout).toMatch(/REF-REVOKE-CLI .* REDEEMED\s+OPEN\s+-$/m);

    const revoked = codes('revoke', 'REF-REVOKE-CLI');
    expect(revoked.status, revoked.stderr).toBe(0);
    expect(revoked.stdout).toMatch(/Revoked 1 code\(s\); ended 1 open session\(s\)/);
    await letPooledSocketsClose();
    const refused = await api(running!.apiUrl, 'POST', `/sessions/${opened.json.sessionId}/uploads`, { files: [{ clientId: 'c1', name: 'a.dcm', size: 10, kind: 'dicom', studyInstanceUid: '1.2.3', sopInstanceUid: '1.2.3.4', sha256: 'A'.repeat(43) + '=' }] }, opened.json.token);
    expect(refused.status).toBe(409);
    expect(refused.json.error.code).toBe('SESSION_REVOKED');
    expect(codes('revoke', 'REF-REVOKE-CLI').stderr).toMatch(/HTTP 404/);
  }, 240_000);

  it('refuses a second local mode on the same data folder (one DynamoDB Local per database file)', () => {
    const second = spawnSync(process.execPath, [TSX_CLI, 'local/start.ts'], {
      cwd: ROOT,
      env: { ...process.env, PORT: '0', DATA_DIR: dataDir },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(second.status).toBe(1);
    expect(second.stderr).toMatch(/already running from/);
    expect(second.stdout).not.toMatch(/^Portal:/m);
  });

  it('stops on Ctrl-C with exit code 0 and leaves no process behind (the JVM included)', async () => {
    expect(processesUsing(dataDir).some((p) => p.includes('DynamoDBLocal.jar'))).toBe(true); // the check can see a JVM
    const exit = await stopLocal(running!, 'SIGINT', 'group');
    expect(exit.code === 0 || exit.signal === 'SIGINT', running!.output()).toBe(true);
    // Local mode's own process finished its shutdown (drain, emulators stopped) rather than being killed.
    expect(running!.output()).toMatch(/Inspection stopped[\s\S]*Stopped/);
    await new Promise((r) => setTimeout(r, 300));
    expect(processesUsing(dataDir)).toEqual([]);
  });

  it('after a restart, reads the same session back and resumes an open session with the same code and token', async () => {
    // The sweeper runs every second here, against the restored data.
    running = await startLocal(dataDir, { SWEEP_INTERVAL_SECONDS: '1', POWERTOOLS_LOG_LEVEL: 'DEBUG' });
    const accepted = await api(running.apiUrl, 'GET', `/sessions/${sessionId}`, undefined, token);
    expect(accepted.status, JSON.stringify(accepted.json)).toBe(200);
    expect(accepted.json.status).toBe('ACCEPTED');
    expect((accepted.json.files as unknown[]).length).toBe(dicom.length + 2);

    const open = await api(running.apiUrl, 'GET', `/sessions/${cliSessionId}`, undefined, cliToken);
    expect(open.status).toBe(200);
    expect(open.json.status).toBe('OPEN');
    const resumed = await api(running.apiUrl, 'POST', '/sessions', { uploadCode: cliCode });
    expect(resumed.status).toBeLessThan(300);
    expect(resumed.json.sessionId).toBe(cliSessionId);

    await new Promise((r) => setTimeout(r, 2500));
    expect(running.output()).toMatch(/Sweep found nothing to do|Swept sessions/);
    expect(running.output()).not.toMatch(/Sweep failed|ERROR/);
    const exit = await stopLocal(running, 'SIGTERM', 'process');
    expect(exit, running.output()).toEqual({ code: 0, signal: null });
    expect(running.output()).toMatch(/Stopped/);
    await new Promise((r) => setTimeout(r, 300));
    expect(processesUsing(dataDir)).toEqual([]);
  }, 150_000);

  it('says clearly that Java is missing, and exits 1', () => {
    const result = spawnSync(process.execPath, [TSX_CLI, 'local/start.ts'], {
      cwd: ROOT,
      env: { ...process.env, PATH: '/nonexistent', PORT: '0', DATA_DIR: join(dataDir, 'no-java') },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/needs a Java runtime/);
    expect(result.stdout).not.toMatch(/^Portal:/m);
  });
});
