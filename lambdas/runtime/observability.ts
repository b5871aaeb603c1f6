/**
 * Logger and metrics, configured once for every Lambda (Powertools). JSON logs with a correlation id
 * (the API request id, or the SQS message id) on AWS; LOG_FORMAT=pretty prints one readable line per
 * event for local mode's terminal. EMF metrics in namespace "UploadPortal", whose only dimension is
 * the institution id. Never log or dimension PHI: no names, file names, UIDs or header values.
 */
import { LogFormatter, LogItem, Logger } from '@aws-lambda-powertools/logger';
import type { LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MessageCode } from '../core/messages';
import type { Log, MetricName, Metrics as MetricsPort } from '../core/ports';
import type { LogFormat } from './config';

export const METRICS_NAMESPACE = 'UploadPortal';

export type { MetricName };

/** The use cases' Metrics port plus the logger, for one Lambda (or local mode). */
export interface Observability extends MetricsPort {
  logger: Logger;
  /** The logger as the use cases' Log port. */
  log: Log;
  /** Sets the institution dimension (once, from config). */
  setInstitution(institutionId: string): void;
  /** Publishes the invocation's metrics, if any were recorded. */
  flush(): void;
}

/** Renders a log event as `12:00:01.234 INFO  [correlation] message key=value …`. */
export class PrettyLogFormatter extends LogFormatter {
  override formatAttributes(attributes: UnformattedAttributes, additional: LogAttributes): LogItem {
    return new LogItem({
      attributes: {
        time: attributes.timestamp.toISOString().slice(11, 23),
        level: attributes.logLevel,
        correlation_id: additional.correlation_id,
        message: attributes.message,
      },
    }).addAttributes(Object.fromEntries(Object.entries(additional).filter(([k]) => k !== 'correlation_id')));
  }
}

function renderValue(value: unknown): string {
  if (value instanceof Error) return `${value.name}`;
  if (typeof value === 'string') return /\s/.test(value) ? JSON.stringify(value) : value;
  return JSON.stringify(value) ?? String(value);
}

/** A Powertools Logger that prints the pretty formatter's attributes as one text line. */
class TerminalLogger extends Logger {
  protected override printLog(logLevel: number, log: LogItem): void {
    log.prepareForPrint();
    const { time, level, correlation_id, message, ...rest } = log.getAttributes() as Record<string, unknown>;
    const extra = Object.entries(rest).map(([k, v]) => `${k}=${renderValue(v)}`).join(' ');
    const id = correlation_id ? ` [${String(correlation_id).slice(0, 12)}]` : '';
    const line = `${String(time)} ${String(level).padEnd(5)}${id} ${String(message)}${extra ? ` ${extra}` : ''}`;
    (logLevel >= 16 ? process.stderr : process.stdout).write(`${line}\n`);
  }
}

export interface ObservabilityOptions {
  serviceName?: string;
  logFormat?: LogFormat;
  /** e.g. 'SILENT' in tests; otherwise POWERTOOLS_LOG_LEVEL (read by Powertools) or INFO. */
  logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';
  /** false: no EMF output (tests, benches); local mode keeps them off unless asked. */
  metrics?: boolean;
}

export function createObservability(options: ObservabilityOptions = {}): Observability {
  const serviceName = options.serviceName ?? 'upload-portal';
  const format = options.logFormat ?? 'json';
  const loggerOptions = { serviceName, ...(options.logLevel ? { logLevel: options.logLevel } : {}) };
  const logger = format === 'pretty' ? new TerminalLogger({ ...loggerOptions, logFormatter: new PrettyLogFormatter() }) : new Logger(loggerOptions);

  const metrics = options.metrics === false ? undefined : new Metrics({ namespace: METRICS_NAMESPACE, serviceName });
  // Powertools adds a "service" dimension by default; the institution id is our only dimension.
  metrics?.clearDefaultDimensions();
  let pending = false;
  let institution: string | undefined;
  const log: Log = {
    info: (message, extra) => logger.info(message, extra ?? {}),
    warn: (message, extra) => logger.warn(message, extra ?? {}),
    error: (message, extra) => logger.error(message, extra ?? {}),
  };
  return {
    logger,
    log,
    count(name, value = 1) {
      if (!metrics) return;
      metrics.addMetric(name, name.includes('Bytes') ? MetricUnit.Bytes : MetricUnit.Count, value);
      pending = true;
    },
    countWithReason(name, reason: MessageCode, value = 1) {
      if (!metrics) return;
      // A single-metric EMF line: its own dimension set (institutionId + reason), published at once.
      const single = metrics.singleMetric();
      // singleMetric() brings back Powertools' "service" dimension; keep ours only.
      single.clearDefaultDimensions();
      single.setDefaultDimensions({ ...(institution ? { institutionId: institution } : {}), reason });
      single.addMetric(name, MetricUnit.Count, value);
    },
    setInstitution(institutionId) {
      institution = institutionId;
      metrics?.clearDefaultDimensions();
      metrics?.setDefaultDimensions({ institutionId });
    },
    flush() {
      if (metrics && pending) metrics.publishStoredMetrics();
      pending = false;
    },
  };
}
