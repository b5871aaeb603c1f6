/**
 * A study's delivery as everyone sees it: GET /sessions/{id}, the portal ("Delivered to <hospital>"),
 * `npm run codes -- list`, and the events to the hospital's systems.
 */
import { hex, sha256 } from './sha256';

export type DeliveryState = 'PENDING' | 'SUBMITTED' | 'DELIVERED' | 'FAILED';

export interface StudyDelivery {
  state: DeliveryState;
  target: 'dicomweb' | 'healthimaging';
  updatedAt: string;
  /** How many deliveries of this study were started (a retry adds one). */
  attempts: number;
  instances?: number;
  /** Asynchronous targets: the job whose result is read back later. */
  jobId?: string;
  /** FAILED: why, in words without patient data; retryable when a later attempt may succeed. */
  reason?: string;
  retryable?: boolean;
}

/** Says which study an event is about without its Study Instance UID (header data): SHA-256 of the UID, 16 hex digits, recomputable from the manifest. */
export async function studyRef(studyInstanceUid: string): Promise<string> {
  return hex(await sha256(studyInstanceUid)).slice(0, 16);
}

interface StudyDeliveryEventBase {
  sessionId: string;
  institutionId: string;
  manifestKey?: string;
  studyRef: string;
  target: StudyDelivery['target'];
  at: string;
}

export interface UploadStudyDeliveredEvent extends StudyDeliveryEventBase {
  type: 'UploadStudyDelivered';
  instances?: number;
  jobId?: string;
}

export interface UploadStudyDeliveryFailedEvent extends StudyDeliveryEventBase {
  type: 'UploadStudyDeliveryFailed';
  reason: string;
  retryable: boolean;
}

export type StudyDeliveryEvent = UploadStudyDeliveredEvent | UploadStudyDeliveryFailedEvent;
