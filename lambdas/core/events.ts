/** The events a session's outcome sends to the hospital's systems. Reason codes only: no file names, no header data. */
import type { MessageCode } from './messages';

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

export type PortalEvent = UploadSessionAcceptedEvent | UploadSessionRejectedEvent;

/** The events' source: one per institution, so a shared bus and IAM conditions can tell them apart. */
export function eventSourceFor(institutionId: string): string {
  return `upload-portal.${institutionId}`;
}
