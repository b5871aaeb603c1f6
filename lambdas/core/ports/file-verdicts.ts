/** Recording the inspector's verdicts. */
import type { FileRecord, Verdict } from '../model';

/** The declared file a verdict is about: its study's counters grow with it. */
export type VerdictTarget = Pick<FileRecord, 'sessionId' | 'fileId' | 'studyInstanceUid'>;

export interface FileVerdicts {
  /**
   * Records a verdict once: the file moves from RESERVED/RECEIVED to VERIFIED/REJECTED, and the
   * counters of its session and of its declared study (received bytes, verified, rejected) grow, in
   * one transaction. 'already' when the file was inspected (or removed) before: nothing changed.
   */
  recordVerdict(file: VerdictTarget, verdict: Verdict): Promise<'recorded' | 'already'>;
}
