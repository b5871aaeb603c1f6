/** Business metrics and the structured log, as the use cases see them. Never pass PHI or file names. */
import type { MessageCode } from '../messages';

/** The metric names (DESIGN.md "Observability"), so dashboards and alarms match the code. */
export type MetricName =
  | 'SessionsOpened'
  | 'SessionsResumed'
  | 'SessionsAccepted'
  | 'SessionsRejected'
  | 'CodeRedemptionFailures'
  | 'CodesIssued'
  | 'CodesRevoked'
  | 'FilesReserved'
  | 'BytesReserved'
  | 'BytesAccepted'
  | 'FilesInspected'
  | 'InspectionBytesRead'
  | 'UnknownObjects'
  | 'SessionsExpired'
  | 'StudiesDelivered'
  | 'StudiesSubmittedForImport'
  | 'StudiesDeliveryFailed'
  | 'RuleViolations'
  | 'AuthFailures'
  | 'BadRequests'
  | 'AuditWriteFailures';

/** Counters flushed per invocation. The only extra dimension ever used is a reason code: no PHI, no ids. */
export interface Metrics {
  /** Adds to a counter (unit Count) or, for *Bytes metrics, a byte total. */
  count(name: MetricName, value?: number): void;
  /** The same with one more dimension, `reason` (SessionsRejected by reason). */
  countWithReason(name: MetricName, reason: MessageCode, value?: number): void;
}

/** The structured logger's shape (Powertools' Logger fits). */
export interface Log {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}
