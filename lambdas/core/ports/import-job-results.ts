import type { StudyDeliveryOutcome } from './delivery-target';

/** An asynchronous import (HealthImaging) as it stands: its study and the outcome so far. */
export interface ImportJobResult {
  jobId: string;
  /** The study the job imported, from its staging prefix; undefined for a job this portal did not start. */
  study?: { sessionId: string; studyRef: string };
  /** SUBMITTED while the job runs; DELIVERED or FAILED once it ended. */
  outcome: StudyDeliveryOutcome;
}

/** Reads an import job's result back (GetDICOMImportJob and the job's output files in AWS). */
export interface ImportJobResults {
  read(jobId: string): Promise<ImportJobResult>;
}
