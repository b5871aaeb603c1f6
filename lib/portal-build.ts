/** Builds the browser portal (web/) with Vite into web/dist, for PortalSite to deploy. */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { PROJECT_ROOT } from './app-function';

export const WEB_ROOT = path.join(PROJECT_ROOT, 'web');
export const WEB_DIST = path.join(WEB_ROOT, 'dist');

export async function buildPortal(): Promise<string> {
  const { build } = await import('vite');
  try {
    // The portal's own config (root web/, output web/dist), as `npm run build:web` and local mode use it.
    await build({ configFile: path.join(WEB_ROOT, 'vite.config.ts'), logLevel: 'error' });
  } catch (error) {
    throw new Error(`Building the portal (web/ with Vite) failed, so there is nothing to deploy: ${(error as Error).message}`);
  }
  if (!existsSync(path.join(WEB_DIST, 'index.html'))) throw new Error(`Building the portal produced no ${path.relative(PROJECT_ROOT, WEB_DIST)}/index.html`);
  return WEB_DIST;
}
