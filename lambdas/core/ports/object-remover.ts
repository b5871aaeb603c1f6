/** Deletes uploaded objects: one removed or stray object, or every object of a session. */
export interface ObjectRemover {
  /** Deletes the object if it exists; a missing object is not an error. */
  deleteObject(key: string): Promise<void>;
  /** Deletes every object under sessions/{sessionId}/ (files and manifest); returns how many. */
  deleteSessionObjects(sessionId: string): Promise<number>;
}
