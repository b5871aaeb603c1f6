/** The events a session's outcome sends to the hospital's systems. Reason codes only: no file names, no header data. */
import type { MessageCode } from './messages';
import type { StudyDelivery } from './model';

export interface UploadSessionAcceptedEvent {
  type: 'UploadSessionAccepted';
  sessionId: string;
  institutionId: string;
  manifestKey: string;
  studies: number;
  dicomFiles: number;
  attachments: number;
  bytes: number;
  completedAt: string;
}

export interface UploadSessionRejectedEvent {
  type: 'UploadSessionRejected';
  sessionId: string;
  institutionId: string;
  reasonCodes: MessageCode[];
  rejectedAt: string;
}

interface StudyDeliveryEventBase {
  sessionId: string;
  institutionId: string;
  manifestKey?: string;
  /** Which study, without its Study Instance UID (header data): core/delivery/study-ref.ts. */
  studyRef: string;
  target: StudyDelivery['target'];
  at: string;
}

export interface UploadStudyDeliveredEvent extends StudyDeliveryEventBase {
  type: 'UploadStudyDelivered';
  instances: number;
  /** HealthImaging: the import job whose end completed the study. */
  jobId?: string;
}

export interface UploadStudyDeliveryFailedEvent extends StudyDeliveryEventBase {
  type: 'UploadStudyDeliveryFailed';
  reason: string;
  retryable: boolean;
}

export type StudyDeliveryEvent = UploadStudyDeliveredEvent | UploadStudyDeliveryFailedEvent;

export type PortalEvent = UploadSessionAcceptedEvent | UploadSessionRejectedEvent | StudyDeliveryEvent;

/** The events' source: one per institution, so a shared bus and IAM conditions can tell them apart. */
export function eventSourceFor(institutionId: string): string {
  return `upload-portal.${institutionId}`;
}
