/**
 * Serves benchmark pages to headless Chromium on a given origin (local mode's portal origin, which
 * the API and the bucket's CORS accept): each script is bundled by esbuild from the portal's own
 * modules, unchanged, and fulfilled by Playwright's router. A page starts a worker from a script it
 * fetched (a Blob URL), since a worker's own script request does not pass the page's router.
 */
import type { BrowserContext } from 'playwright-core';
import { build } from 'esbuild';

/** `scripts`: path under `origin` → entry file; `html`: path → document. */
export async function routeBenchPages(context: BrowserContext, origin: string, files: { scripts: Record<string, string>; html: Record<string, string> }): Promise<void> {
  const bundles = new Map<string, string>();
  for (const [path, entry] of Object.entries(files.scripts)) {
    const out = await build({ entryPoints: [entry], bundle: true, format: 'esm', target: 'es2022', write: false, minify: true, logLevel: 'error' });
    bundles.set(path, out.outputFiles[0]!.text);
  }
  for (const [path, body] of bundles) await context.route(`${origin}${path}`, (route) => route.fulfill({ status: 200, contentType: 'text/javascript', body }));
  for (const [path, body] of Object.entries(files.html)) await context.route(`${origin}${path}`, (route) => route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body }));
}

/** A page that loads one module script and says when it is ready. */
export function benchDocument(script: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>bench</title></head><body><input type="file" id="files" multiple><script type="module" src="${script}"></script></body></html>`;
}
