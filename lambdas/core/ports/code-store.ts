/** Upload codes, stored by their hash. */
import type { UploadCodeRecord } from '../model';

export interface CodeStore {
  /** Stores a new code; a hash collision (never expected with ≥80 bits) throws. */
  create(code: UploadCodeRecord, ttlEpochSeconds: number): Promise<void>;
  get(codeHash: string): Promise<UploadCodeRecord | undefined>;
  /**
   * Marks the code revoked and, when its session is still OPEN, ends that session (EXPIRED, with
   * revokedAt), so a code sent to the wrong person stops working everywhere. Undefined when no
   * such code exists; `endedSessionId` names the session it ended.
   */
  revoke(codeHash: string, now: Date): Promise<{ endedSessionId?: string } | undefined>;
}
