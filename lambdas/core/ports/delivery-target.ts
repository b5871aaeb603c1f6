import type { ImportJobState } from '../model';

/** Where accepted studies go: the hospital's PACS over DICOMweb STOW-RS, or AWS HealthImaging. */
export interface DeliveryObject {
  /** The accepted object's key: sessions/{sessionId}/files/{fileId}. */
  key: string;
  fileId: string;
  size: number;
  kind: 'dicom' | 'attachment';
  /** DICOM: the SOP Instance UID the inspector verified. */
  sopInstanceUid?: string;
  /** Attachments: the verified type. */
  attachmentType?: 'pdf' | 'jpeg' | 'png';
}

export interface StudyDeliveryRequest {
  sessionId: string;
  studyInstanceUid: string;
  objects: readonly DeliveryObject[];
  /** The upload code's reference (e.g. a hospital MRN), used when delivery.patientId is "reference". */
  reference?: string;
  /** Which delivery of this study this is (1 the first): an asynchronous target starts a new job for each. */
  attempt?: number;
  /** Asynchronous targets: the study's import jobs so far; only those that failed are started again. */
  imports?: readonly ImportJobState[];
}

export type StudyDeliveryOutcome =
  | { state: 'DELIVERED'; instances: number }
  /** Asynchronous targets (HealthImaging): the job's result is read back later. */
  | { state: 'SUBMITTED'; jobId: string; jobs?: ImportJobState[] }
  | { state: 'FAILED'; reason: string; retryable: boolean; jobs?: ImportJobState[] };

export interface DeliveryTarget {
  readonly type: 'dicomweb' | 'healthimaging';
  deliverStudy(request: StudyDeliveryRequest): Promise<StudyDeliveryOutcome>;
}
