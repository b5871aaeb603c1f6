/** Reading what a real PACS holds, through Orthanc's own REST API (never through our logs). */
import { createHash } from 'node:crypto';
import { inject } from 'vitest';

/** The Orthanc the globalSetup started; fails loudly without it. */
export function orthanc(): { url: string; dicomwebUrl: string } {
  const provided = inject('orthanc');
  if (!provided?.url) throw new Error('Orthanc missing: run through vitest with test/setup/orthanc.ts as globalSetup.');
  return provided;
}

export async function orthancJson<T>(path: string, base = orthanc().url): Promise<T> {
  const response = await fetch(`${base}${path}`);
  if (!response.ok) throw new Error(`Orthanc ${path}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

/** Orthanc's ids of the instances it holds for a study (by Study Instance UID). */
export async function instancesOfStudy(studyInstanceUid: string, base = orthanc().url): Promise<{ id: string; sopInstanceUid: string }[]> {
  const found = await fetch(`${base}/tools/find`, {
    method: 'POST',
    body: JSON.stringify({ Level: 'Instance', Query: { StudyInstanceUID: studyInstanceUid }, Expand: true }),
  });
  const instances = (await found.json()) as { ID: string; MainDicomTags: { SOPInstanceUID: string } }[];
  return instances.map((i) => ({ id: i.ID, sopInstanceUid: i.MainDicomTags.SOPInstanceUID }));
}

/** The stored file's bytes as Orthanc hands them out. */
export async function storedFile(instanceId: string, base = orthanc().url): Promise<Uint8Array> {
  const response = await fetch(`${base}/instances/${instanceId}/file`);
  if (!response.ok) throw new Error(`Orthanc file of ${instanceId}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** Tag values in Orthanc's "simplified" form: keyword → string or nested arrays for sequences. */
export async function simplifiedTags(instanceId: string, base = orthanc().url): Promise<Record<string, unknown>> {
  return orthancJson(`/instances/${instanceId}/simplified-tags`, base);
}

export async function deleteStudy(studyInstanceUid: string, base = orthanc().url): Promise<void> {
  const ids = (await (await fetch(`${base}/tools/lookup`, { method: 'POST', body: studyInstanceUid })).json()) as { ID: string; Type: string }[];
  for (const id of ids.filter((i) => i.Type === 'Study')) await fetch(`${base}/studies/${id.ID}`, { method: 'DELETE' });
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
