/**
 * Local mode delivering to a real Orthanc: a session accepted while local mode had no PACS is
 * delivered when local mode starts again with DELIVERY_DICOMWEB_URL (the resume at start), and a
 * session accepted while it runs is delivered in the background. Driven over HTTP only, checked in
 * GET /sessions/{id} and in Orthanc's REST API.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readOracle } from '../corpus';
import { corpusFile, realJpeg, realPdf } from '../delivery-fixtures';
import { issueCode, startLocalMode, type LocalMode } from '../e2e/local-mode';
import { deleteStudy, instancesOfStudy, orthanc, simplifiedTags } from './helpers/orthanc';

const dataDir = mkdtempSync(join(tmpdir(), 'local-delivery-'));
let running: LocalMode | undefined;
afterAll(async () => {
  await running?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function call(base: string, method: string, path: string, body?: unknown, token?: string) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, json: (await response.json()) as Record<string, any> };
}

/** One corpus image plus an attachment, uploaded and accepted; returns the session and its token. */
async function acceptedSession(mode: LocalMode, reference: string, file: string, attachment: { name: string; contentType: string; bytes: Uint8Array }) {
  const entry = readOracle().find((e) => e.file === file)!;
  const studyInstanceUid = String(entry.attributes.StudyInstanceUID);
  const opened = await call(mode.apiUrl, 'POST', '/sessions', { uploadCode: await issueCode(mode, { reference }) });
  const { sessionId, token } = opened.json as { sessionId: string; token: string };
  const bytes = corpusFile(file);
  const declared = [
    { clientId: 'd', name: 'IM1', size: bytes.length, kind: 'dicom', studyInstanceUid, sopInstanceUid: String(entry.attributes.SOPInstanceUID), bytes },
    { clientId: 'a', name: attachment.name, size: attachment.bytes.length, kind: 'attachment', studyInstanceUid, contentType: attachment.contentType, bytes: attachment.bytes },
  ];
  const uploads = await call(mode.apiUrl, 'POST', `/sessions/${sessionId}/uploads`, { files: declared.map(({ bytes, ...f }) => ({ ...f, sha256: createHash('sha256').update(bytes).digest('base64') })) }, token);
  expect(uploads.status, JSON.stringify(uploads.json)).toBe(201);
  for (const u of uploads.json.uploads as { clientId: string; url: string; headers: Record<string, string> }[]) {
    const put = await fetch(u.url, { method: 'PUT', headers: u.headers, body: Buffer.from(declared.find((d) => d.clientId === u.clientId)!.bytes) });
    expect(put.status).toBe(200);
  }
  await until(async () => ((await call(mode.apiUrl, 'GET', `/sessions/${sessionId}`, undefined, token)).json.files as { status: string }[]).every((f) => f.status === 'VERIFIED'));
  const body = { studies: [{ studyInstanceUid }], contact: {}, consent: { privacyPolicy: true, dataSharing: true } };
  // 202 COMPLETING while local mode's completer works; asking again answers the outcome once decided.
  await until(async () => (await call(mode.apiUrl, 'POST', `/sessions/${sessionId}/complete`, body, token)).status !== 202);
  expect((await call(mode.apiUrl, 'POST', `/sessions/${sessionId}/complete`, body, token)).json.status).toBe('ACCEPTED');
  return { sessionId, token, studyInstanceUid };
}

async function until(check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 250));
  }
}

const deliveryOf = async (mode: LocalMode, s: { sessionId: string; token: string }) =>
  ((await call(mode.apiUrl, 'GET', `/sessions/${s.sessionId}`, undefined, s.token)).json.studies as { delivery?: { state: string; instances?: number } }[])[0]?.delivery;

describe('local mode delivering to Orthanc', () => {
  it('delivers a session accepted before a PACS was configured once it starts with DELIVERY_DICOMWEB_URL, and new ones in the background', async () => {
    const ct = 'test_files/CT_small.dcm';
    const mr = 'test_files/MR_small.dcm';
    for (const file of [ct, mr]) await deleteStudy(String(readOracle().find((e) => e.file === file)!.attributes.StudyInstanceUID));

    running = await startLocalMode({}, { dataDir });
    const before = await acceptedSession(running, 'MRN-LOCAL-1', ct, { name: 'report.pdf', contentType: 'application/pdf', bytes: realPdf() });
    expect(await deliveryOf(running, before)).toBeUndefined();
    await running.stop();

    running = await startLocalMode({ DELIVERY_DICOMWEB_URL: orthanc().dicomwebUrl }, { dataDir });
    await until(async () => (await deliveryOf(running!, before))?.state === 'DELIVERED');
    expect(await deliveryOf(running, before)).toMatchObject({ state: 'DELIVERED', instances: 2 });
    const resumed = await instancesOfStudy(before.studyInstanceUid);
    expect(resumed).toHaveLength(2);
    for (const { id } of resumed) {
      const tags = await simplifiedTags(id);
      expect(tags.PatientID).toBe('MRN-LOCAL-1');
      expect((tags.OtherPatientIDsSequence as { PatientID: string }[]).map((o) => o.PatientID)).toContain('1CT1');
    }

    const live = await acceptedSession(running, 'MRN-LOCAL-2', mr, { name: 'photo.jpg', contentType: 'image/jpeg', bytes: realJpeg() });
    await until(async () => (await deliveryOf(running!, live))?.state === 'DELIVERED');
    const stored = await instancesOfStudy(live.studyInstanceUid);
    expect(stored).toHaveLength(2);
    expect(new Set(await Promise.all(stored.map(async ({ id }) => (await simplifiedTags(id)).SOPClassUID)))).toEqual(new Set(['1.2.840.10008.5.1.4.1.1.4', '1.2.840.10008.5.1.4.1.1.7']));
  }, 240_000);
});
