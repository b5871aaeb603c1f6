/**
 * A bad institution file stops `cdk synth` (bin/app.ts) with a message naming the file and the
 * field. Runs the real CDK app entry in a child process against a scratch institutions directory;
 * the app fails while loading configs, before any bundling.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InstitutionConfigError } from '../../lambdas/core/institution';
import { PROJECT_ROOT } from '../../lib/app-function';
import { loadInstitutionFile } from '../../lib/institutions';

const demo = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'institutions/demo.json'), 'utf8')) as Record<string, any>;
const dirs: string[] = [];

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Writes `<id>.json` into a fresh directory and runs bin/app.ts on it. */
function synthWith(fileName: string, config: unknown): { status: number | null; stderr: string; file: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'upload-portal-institutions-'));
  dirs.push(dir);
  const file = path.join(dir, fileName);
  writeFileSync(file, typeof config === 'string' ? config : JSON.stringify(config));
  const result = spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'node_modules/tsx/dist/cli.mjs'), 'bin/app.ts'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify({ institutionsDir: dir, portalAssetDir: 'test/cdk/fixtures/portal' }), CDK_OUTDIR: path.join(dir, 'cdk.out') },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: result.status, stderr: result.stderr, file: path.relative(PROJECT_ROOT, file) };
}

describe('cdk synth with a bad institution file', () => {
  it('refuses maxSessionBytes over 10 GB, naming the file and limits.maxSessionBytes', () => {
    const result = synthWith('demo.json', { ...demo, limits: { ...demo.limits, maxSessionBytes: 10_000_000_001 } });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`${result.file}: limits.maxSessionBytes: must be at most 10 GB`);
  });

  it('refuses maxDicomFilesAtOnce the API cannot honour (over the files one request carries), naming the file and field', () => {
    const result = synthWith('demo.json', { ...demo, limits: { ...demo.limits, maxDicomFilesAtOnce: 33 } });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`${result.file}: limits.maxDicomFilesAtOnce: must be at most 32 (the files one upload request may carry)`);
  });

  it('refuses a config without a contact, naming the file and contact', () => {
    const { contact: _omitted, ...withoutContact } = demo;
    const result = synthWith('demo.json', withoutContact);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`${escape(result.file)}: contact: `));
  });

  it('refuses a malformed portal origin, naming the file and portalOrigin', () => {
    const result = synthWith('demo.json', { ...demo, portalOrigin: 'https://upload.hospital.example/portal/' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`${result.file}: portalOrigin: must be an origin like https://`);
  });

});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('loadInstitutionFile', () => {
  function write(fileName: string, content: string): string {
    const dir = mkdtempSync(path.join(tmpdir(), 'upload-portal-institutions-'));
    dirs.push(dir);
    const file = path.join(dir, fileName);
    writeFileSync(file, content);
    return file;
  }

  it('refuses an id that differs from the file name (the stack is named after it)', () => {
    const file = write('other-hospital.json', JSON.stringify(demo));
    expect(() => loadInstitutionFile(file, 'institutions/other-hospital.json')).toThrow(
      'institutions/other-hospital.json: id: must equal the file name "other-hospital"',
    );
  });

  it('refuses a file that is not JSON, naming it', () => {
    const file = write('demo.json', '{ "id": "demo", ');
    expect(() => loadInstitutionFile(file, 'institutions/demo.json')).toThrow(InstitutionConfigError);
    expect(() => loadInstitutionFile(file, 'institutions/demo.json')).toThrow('institutions/demo.json: (file): is not readable JSON');
  });

  it('accepts the example institutions', () => {
    for (const name of ['demo', 'st-elsewhere']) {
      expect(loadInstitutionFile(path.join(PROJECT_ROOT, 'institutions', `${name}.json`)).id).toBe(name);
    }
  });
});
