/** Recording the inspector's verdicts. */
import type { Verdict } from '../model';

export interface FileVerdicts {
  /**
   * Records a verdict once: the file moves from RESERVED/RECEIVED to VERIFIED/REJECTED and the
   * session's receivedBytes grows by the real size, in one transaction. 'already' when the file
   * was inspected (or removed) before: nothing changed.
   */
  recordVerdict(sessionId: string, fileId: string, verdict: Verdict): Promise<'recorded' | 'already'>;
}
