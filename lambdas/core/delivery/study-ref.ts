import { hex, sha256 } from './sha256';

/**
 * Says which study a delivery event is about without its Study Instance UID (header data): the first
 * 16 hex digits of the UID's SHA-256, which the hospital can recompute from the manifest.
 */
export async function studyRef(studyInstanceUid: string): Promise<string> {
  return hex(await sha256(studyInstanceUid)).slice(0, 16);
}
