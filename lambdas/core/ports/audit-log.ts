/** The append-only audit trail: records are added, never changed or deleted (DynamoDB TTL ends them). */
import type { AuditEntry } from '../audit';

export interface AuditLog {
  /**
   * Adds the record unless one with the same `dedupeKey` exists (a retried request or batch): false
   * then, and the stored record stays as it was. Without a key every call adds a record.
   */
  append(entry: AuditEntry, dedupeKey?: string): Promise<boolean>;
  /** Lets the hospital find a code's records by its own reference. */
  indexReference(reference: string, codeId: string, at: string): Promise<void>;
  /** The code ids issued with this reference. */
  codeIdsFor(reference: string): Promise<string[]>;
  /** Every record of one code (and its session), in no particular order. */
  readCode(codeId: string): Promise<AuditEntry[]>;
  /** Security events without a code (failed redemptions) of one UTC day (YYYY-MM-DD). */
  readSecurityDay(day: string): Promise<AuditEntry[]>;
}

/** A keyed one-way hash of a client address: the same address gives the same hash, nobody can reverse it. */
export interface ClientAddressHasher {
  hash(address: string): Promise<string>;
}
