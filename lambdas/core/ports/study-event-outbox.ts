/**
 * Publishing each study's final delivery event (UploadStudyDelivered or UploadStudyDeliveryFailed)
 * exactly once per recorded final state, even when callers race or crash. The DeliveryStore records
 * a final state with its event pending; a final state is named by its `updatedAt`.
 */
export interface StudyEventOutbox {
  /**
   * Claims the right to publish the event of the study's final state recorded at `stateAt`:
   * 'claimed' for exactly one caller while that event is pending, until it is released or its claim
   * is older than `staleBefore`; 'busy' while another caller's claim on it is newer; 'done' when it
   * went out already or the study holds another state now.
   */
  claimStudyEvent(sessionId: string, studyInstanceUid: string, stateAt: string, at: string, staleBefore: string): Promise<StudyEventClaim>;
  releaseStudyEventClaim(sessionId: string, studyInstanceUid: string, stateAt: string): Promise<void>;
  markStudyEventPublished(sessionId: string, studyInstanceUid: string, stateAt: string): Promise<void>;
}

export type StudyEventClaim = 'claimed' | 'busy' | 'done';
