/** InspectionMetrics on the shared Powertools observability module (EMF in AWS). */
import type { InspectionMetrics } from '../core/inspection-ports';
import type { Observability } from '../handlers/observability';

export function inspectionMetricsFrom(observability: Observability): InspectionMetrics {
  return {
    add(name, value, _unit, reason) {
      if (reason) observability.countWithReason(name, reason, value);
      else observability.count(name, value);
    },
  };
}
