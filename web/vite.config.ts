/**
 * The portal's build. Local mode (local/start.ts) and the stack's site deployment both build with
 * this file: root web/, output web/dist. The API URL is not baked in; the portal reads /config.json.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  publicDir: false,
  build: {
    outDir: fileURLToPath(new URL('./dist', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
  },
  worker: { format: 'es' },
  server: {
    // The portal imports the shared rule and DICOM modules from lambdas/core.
    fs: { allow: [fileURLToPath(new URL('..', import.meta.url))] },
  },
});
