/** Writes the manifest of an accepted session to sessions/{id}/manifest.json. */
export interface ManifestWriter {
  write(sessionId: string, manifest: unknown): Promise<{ key: string }>;
}
