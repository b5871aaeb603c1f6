/**
 * Publishing each study's final delivery event (UploadStudyDelivered or UploadStudyDeliveryFailed)
 * exactly once per recorded final state, even when callers race or crash. The DeliveryStore records
 * a final state with its event pending; a final state is named by its `updatedAt`.
 */
export interface StudyEventOutbox {
  /**
   * Claims the right to publish the event of the study's final state recorded at `stateAt`: true for
   * exactly one caller while that event is pending, until it is released or its claim is older than
   * `staleBefore`. False when the event went out already or the study holds another state now.
   */
  claimStudyEvent(sessionId: string, studyInstanceUid: string, stateAt: string, at: string, staleBefore: string): Promise<boolean>;
  releaseStudyEventClaim(sessionId: string, studyInstanceUid: string, stateAt: string): Promise<void>;
  markStudyEventPublished(sessionId: string, studyInstanceUid: string, stateAt: string): Promise<void>;
}
