/** Atomic quota reservations for upload requests, and their release when a file is removed. */
import type { FileRecord, Limits } from '../model';

/** What one upload request adds to a study. */
export interface StudyIncrement {
  studyInstanceUid: string;
  bytes: number;
  dicomFiles: number;
  attachments: number;
}

export interface Reservation {
  sessionId: string;
  /** The new file items (status RESERVED). */
  files: FileRecord[];
  studies: StudyIncrement[];
  bytes: number;
  dicomFiles: number;
  attachments: number;
  /** The limits the store enforces atomically (the session's stored limits). */
  limits: Pick<Limits, 'maxSessionBytes' | 'maxStudyBytes' | 'maxAttachmentsPerStudy'>;
  now: Date;
  ttlEpochSeconds: number;
}

/**
 * Why a reservation was refused by the store's atomic guard. 'session' covers a session that is no
 * longer OPEN or would exceed its byte limit; 'conflict' is a concurrent write (worth retrying).
 */
export type ReservationRefusal = 'session' | 'study' | 'duplicate-sop' | 'file-exists' | 'conflict';

export interface ReservationStore {
  /**
   * Reserves bytes, counts, file items and SOP Instance UIDs all at once or not at all; the store
   * guarantees no limit is ever overshot, whatever runs concurrently.
   */
  reserve(reservation: Reservation): Promise<{ ok: true } | { ok: false; refusal: ReservationRefusal }>;
  /**
   * Marks the file REMOVED and gives back its bytes and counts, exactly once: the file must still be
   * in `file.status` and the session OPEN. 'stale' when either changed meanwhile (re-read and retry).
   */
  release(file: FileRecord, now: Date): Promise<'released' | 'stale'>;
}
