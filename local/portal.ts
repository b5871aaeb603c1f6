/**
 * The portal half of local mode's one HTTP server: builds web/ with Vite when its output is missing
 * or older than its sources, serves web/dist, and serves `/config.json` telling the portal where
 * the API is (CloudFront serves the same file beside the portal on AWS).
 */
import { createReadStream, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { FRAME_OPTIONS, PERMISSIONS_POLICY, portalContentSecurityPolicy, SECURITY_HEADERS } from '../lambdas/core/security-headers';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

function newestMtime(path: string, skip: (name: string) => boolean): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const name of readdirSync(path)) {
    if (skip(name)) continue;
    newest = Math.max(newest, newestMtime(join(path, name), skip));
  }
  return newest;
}

/** What the portal's sources are: web/ itself, and the shared core it imports (rules, messages, DICOM reading). */
function sourcesNewerThan(root: string, builtAt: number): boolean {
  const skip = (name: string) => name === 'dist' || name === 'node_modules' || name.startsWith('.');
  return newestMtime(join(root, 'web'), skip) > builtAt || newestMtime(join(root, 'lambdas', 'core'), skip) > builtAt;
}

export type PortalBuild = { status: 'fresh' | 'built' } | { status: 'absent'; reason: string };

/**
 * Builds the portal with Vite's JS API when web/dist is missing or stale. The build goes to a
 * temporary folder that replaces web/dist in one rename, so a server (or a second `npm start`)
 * never serves a half-written build.
 */
export async function ensurePortalBuilt(root: string, log: (line: string) => void): Promise<PortalBuild> {
  const web = join(root, 'web');
  const configFile = ['vite.config.ts', 'vite.config.mts', 'vite.config.js'].map((f) => join(web, f)).find(existsSync);
  if (!configFile) return { status: 'absent', reason: 'web/ has no Vite config yet' };
  const dist = join(web, 'dist');
  const index = join(dist, 'index.html');
  if (existsSync(index) && !sourcesNewerThan(root, statSync(index).mtimeMs)) return { status: 'fresh' };
  log('Building the portal (web/ → web/dist) …');
  const temp = join(web, `.dist-${process.pid}-${Date.now()}`);
  mkdirSync(temp, { recursive: true });
  try {
    const { build } = await import('vite');
    await build({ configFile, root: web, logLevel: 'warn', build: { outDir: temp, emptyOutDir: true } });
    const old = join(web, `.dist-old-${process.pid}-${Date.now()}`);
    // Another local mode (e.g. a parallel test) may swap its build in at the same moment; either build is good.
    try {
      renameSync(dist, old);
    } catch {
      // no previous build, or another process moved it first
    }
    try {
      renameSync(temp, dist);
    } catch (error) {
      if (!existsSync(index)) throw error;
    }
    rmSync(old, { recursive: true, force: true });
    return { status: 'built' };
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

const NOT_BUILT_PAGE = (reason: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Upload Portal: not built</title></head>
<body><h1>The portal is not built</h1><p>${reason.replace(/[<>&]/g, '')}. The API is running under <code>/api</code>.</p></body></html>`;

export interface PortalServerOptions {
  root: string;
  build: PortalBuild;
  /** The API base for a request's origin (the portal must call the API on the origin it was loaded from). */
  apiUrlFor: (req: IncomingMessage) => string;
  /** Origins the portal talks to besides its own (the S3 emulator): the CSP's connect-src. */
  connectSources: readonly string[];
}

/** Serves `/config.json` and the built portal; unknown paths without an extension get index.html (client-side routes). */
export function createPortalServer(opts: PortalServerOptions) {
  const dist = join(opts.root, 'web', 'dist');
  // What CloudFront's response headers policy sends, but HSTS (meaningless over plain HTTP).
  const security = {
    ...SECURITY_HEADERS,
    'content-security-policy': portalContentSecurityPolicy(opts.connectSources),
    'x-frame-options': FRAME_OPTIONS,
    'permissions-policy': PERMISSIONS_POLICY,
  };
  return (req: IncomingMessage, res: ServerResponse, path: string): void => {
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') {
      res.writeHead(405, { ...security, allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
      res.end('Method not allowed');
      return;
    }
    if (path === '/config.json') {
      const body = JSON.stringify({ apiUrl: opts.apiUrlFor(req) });
      res.writeHead(200, { ...security, 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
      res.end(method === 'HEAD' ? undefined : body);
      return;
    }
    if (opts.build.status === 'absent') {
      res.writeHead(path === '/' ? 200 : 404, { ...security, 'content-type': 'text/html; charset=utf-8' });
      res.end(method === 'HEAD' ? undefined : NOT_BUILT_PAGE(opts.build.reason));
      return;
    }
    let relative: string;
    try {
      relative = decodeURIComponent(path);
    } catch {
      res.writeHead(400, security);
      res.end();
      return;
    }
    let file = normalize(join(dist, relative));
    if (file !== dist && !file.startsWith(dist + sep)) {
      res.writeHead(404, security);
      res.end();
      return;
    }
    let stat = existsSync(file) ? statSync(file) : undefined;
    if (stat?.isDirectory()) {
      file = join(file, 'index.html');
      stat = existsSync(file) ? statSync(file) : undefined;
    }
    if (!stat && extname(relative) === '') {
      file = join(dist, 'index.html');
      stat = existsSync(file) ? statSync(file) : undefined;
    }
    if (!stat || !stat.isFile()) {
      res.writeHead(404, { ...security, 'content-type': 'text/plain; charset=utf-8' });
      res.end('Not found');
      return;
    }
    const isHtml = extname(file) === '.html';
    res.writeHead(200, {
      ...security,
      'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': String(stat.size),
      // Vite fingerprints assets; the page itself must be re-read after every build.
      'cache-control': isHtml ? 'no-cache' : relative.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
    if (method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(file).pipe(res);
  };
}
