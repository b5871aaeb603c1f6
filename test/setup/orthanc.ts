/**
 * Starts one throwaway Orthanc with its DICOMweb plugin per test run (a free port, a temporary storage
 * folder, a generated config; never the system service). A missing Orthanc fails the run loudly.
 * Its URLs reach tests through `inject('orthanc')`.
 */
import type { TestProject } from 'vitest/node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOrthanc } from '../../local/orthanc';

declare module 'vitest' {
  export interface ProvidedContext {
    orthanc: { url: string; dicomwebUrl: string };
  }
}

export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), 'upload-portal-orthanc-'));
  const orthanc = await startOrthanc({ dataDir: dir });
  project.provide('orthanc', { url: orthanc.url, dicomwebUrl: orthanc.dicomwebUrl });
  return async () => {
    await orthanc.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
