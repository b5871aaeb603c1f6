/** InspectionMetrics and InspectionLog on the shared Powertools observability module (EMF and JSON logs in AWS). */
import type { InspectionLog, InspectionMetrics } from '../core/inspection-ports';
import type { Observability } from '../handlers/observability';

export function inspectionMetricsFrom(observability: Observability): InspectionMetrics {
  return {
    add(name, value, _unit, reason) {
      if (reason) observability.countWithReason(name, reason, value);
      else observability.count(name, value);
    },
  };
}

export function inspectionLogFrom(observability: Observability): InspectionLog {
  const { logger } = observability;
  return {
    info: (message, extra) => logger.info(message, extra ?? {}),
    warn: (message, extra) => logger.warn(message, extra ?? {}),
    error: (message, extra) => logger.error(message, extra ?? {}),
  };
}
