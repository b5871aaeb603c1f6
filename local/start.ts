/**
 * `npm start`: runs the whole portal on this machine and prints three lines scripts can read:
 * `Portal: <url>`, `API: <url>`, `Upload code: <code>`. Ctrl-C (or SIGTERM) stops it cleanly.
 */
import { InstitutionConfigError } from '../lambdas/core/institution';
import { createObservability } from '../lambdas/runtime/observability';
import { JavaMissingError } from './emulators';
import { LocalModeError, startLocalMode } from './local-mode';
import { LocalSettingsError, readLocalSettings } from './settings';

async function main(): Promise<void> {
  let settings;
  try {
    settings = readLocalSettings(process.env);
  } catch (error) {
    if (!(error instanceof LocalSettingsError) && !(error instanceof InstitutionConfigError)) throw error;
    console.error(`Cannot start local mode: ${error.message}`);
    process.exit(1);
  }
  // Local mode's terminal wants readable lines (settings.logFormat); the same Powertools logger prints JSON on AWS.
  // Metrics stay off locally: EMF lines are for CloudWatch, not a terminal.
  const observability = createObservability({ serviceName: 'upload-portal', logFormat: settings.logFormat, metrics: false });
  // Its own logger, so local mode's lines don't carry the last request's correlation id.
  const { logger } = createObservability({ serviceName: 'local-mode', logFormat: settings.logFormat, metrics: false });

  let mode;
  try {
    mode = await startLocalMode(settings, { app: observability, logger });
  } catch (error) {
    if (error instanceof JavaMissingError || error instanceof LocalModeError) {
      console.error(`Cannot start local mode: ${error.message}`);
    } else {
      console.error('Cannot start local mode:', error);
    }
    process.exit(1);
  }

  let firstSignalAt: number | undefined;
  const shutdown = (signal: NodeJS.Signals) => {
    if (firstSignalAt !== undefined) {
      // npm and tsx relay the terminal's Ctrl-C, so copies arrive within milliseconds: not a second press.
      if (Date.now() - firstSignalAt < 1000) return;
      // A second Ctrl-C means "now": the DynamoDB Local watchdog still takes the JVM down with us.
      console.error(`${signal} again: exiting without draining.`);
      process.exit(1);
    }
    firstSignalAt = Date.now();
    logger.info('Stopping local mode', { signal });
    mode.stop().then(
      () => {
        logger.info('Stopped');
        process.exit(0);
      },
      (error: unknown) => {
        console.error('Stopping local mode failed:', error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);

  console.log(`Portal: ${mode.portalUrl}`);
  console.log(`API: ${mode.apiUrl}`);
  console.log(`Upload code: ${mode.uploadCode}`);
  logger.info('Local mode is running; Ctrl-C stops it', {
    institution: settings.institution.id,
    dataDir: settings.dataDir,
    moreCodes: 'npm run codes -- create --institution ' + settings.institution.id,
  });
}

await main();
