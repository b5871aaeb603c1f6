/**
 * Runs a throwaway Orthanc (Debian's `orthanc` with the `orthanc-dicomweb` plugin) on a free port with
 * its own storage folder and a generated JSON config, never the system service. The delivery tests'
 * globalSetup and bench:delivery use it; the README shows a hospital the same config.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './emulators';

export const ORTHANC_BINARY = '/usr/sbin/Orthanc';
export const ORTHANC_DICOMWEB_PLUGIN = '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';

export class OrthancMissingError extends Error {
  constructor(missing: string) {
    super(`Orthanc with its DICOMweb plugin is needed and ${missing} was not found. Install both: \`sudo apt-get install -y orthanc orthanc-dicomweb\`.`);
  }
}

export interface RunningOrthanc {
  /** http://127.0.0.1:<port>: Orthanc's REST API. */
  url: string;
  /** <url>/dicom-web: the DICOMweb root (STOW-RS at /studies). */
  dicomwebUrl: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/** The config a hospital would write; `storageDir` holds the database and the stored files. */
export function orthancConfig(options: { storageDir: string; httpPort: number; dicomPort: number }): Record<string, unknown> {
  return {
    Name: 'upload-portal-pacs',
    StorageDirectory: options.storageDir,
    IndexDirectory: options.storageDir,
    HttpPort: options.httpPort,
    DicomPort: options.dicomPort,
    RemoteAccessAllowed: false,
    AuthenticationEnabled: false,
    HttpServerEnabled: true,
    // Keeps the stored file as it arrived (no transcoding), so tests can compare its bytes.
    StorageCompression: false,
    Plugins: [ORTHANC_DICOMWEB_PLUGIN],
    DicomWeb: { Enable: true, Root: '/dicom-web/', EnableWado: false },
  };
}

/** Starts Orthanc and waits until its REST API answers; fails loudly when it is not installed. */
export async function startOrthanc(options: { dataDir: string; port?: number; users?: Record<string, string> }): Promise<RunningOrthanc> {
  if (!existsSync(ORTHANC_BINARY)) throw new OrthancMissingError(ORTHANC_BINARY);
  if (!existsSync(ORTHANC_DICOMWEB_PLUGIN)) throw new OrthancMissingError(ORTHANC_DICOMWEB_PLUGIN);
  mkdirSync(options.dataDir, { recursive: true });
  const port = options.port ?? (await freePort());
  const config = orthancConfig({ storageDir: join(options.dataDir, 'storage'), httpPort: port, dicomPort: await freePort() });
  if (options.users) {
    // HTTP basic authentication, as a hospital's PACS asks of a gateway.
    config.AuthenticationEnabled = true;
    config.RegisteredUsers = options.users;
  }
  const configFile = join(options.dataDir, 'orthanc.json');
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const child = spawn(ORTHANC_BINARY, [configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Orthanc exited at start (code ${child.exitCode}): ${stderr}`);
    try {
      const response = await fetch(`${url}/system`);
      // 401: it answers, and asks for the credentials it was given.
      if (response.ok || response.status === 401) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Orthanc did not answer on ${url} within 30 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, dicomwebUrl: `${url}/dicom-web`, port, pid: child.pid!, stop };
}
