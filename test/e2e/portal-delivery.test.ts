/**
 * Delivery end to end: local mode pointed at a throwaway Orthanc, two real studies from the corpus plus
 * a PDF and a JPEG uploaded through the portal in Chromium; the result page says "Delivered" within a
 * minute; then Orthanc's own REST API (not our logs) shows every instance with the hospital's
 * identifiers, the originals kept, the PDF as Encapsulated PDF and the JPEG as Secondary Capture.
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { ENCAPSULATED_PDF_SOP_CLASS, SECONDARY_CAPTURE_SOP_CLASS } from '../../lambdas/core/delivery/attachment-dicom';
import { startOrthanc, type RunningOrthanc } from '../../local/orthanc';
import { languages, uiCatalogs } from '../../web/src/i18n';
import { CORPUS_ROOT, readOracle } from '../corpus';
import { MR_STUDY_UID, mrStudyFiles, realJpeg, realPdf } from '../delivery-fixtures';
import { instancesOfStudy, sha256, simplifiedTags } from '../integration/helpers/orthanc';
import { axeProblems, issueCode, launchChromium, NARROW_WIDTHS, screenshot, sidewaysOverflow, startLocalMode, type LocalMode } from './local-mode';

const CT_FILE = 'test_files/CT_small.dcm';
const CT_STUDY_UID = String(readOracle().find((e) => e.file === CT_FILE)!.attributes.StudyInstanceUID);
const REFERENCE = 'MRN-4711';
const HOSPITAL = 'Demo General Hospital';

let pacs: RunningOrthanc;
let mode: LocalMode;
let browser: Browser;
let scratch: string;
const files: string[] = [];
const pdf = realPdf('discharge letter');
const jpeg = realJpeg();

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'portal-delivery-'));
  pacs = await startOrthanc({ dataDir: join(scratch, 'pacs') });
  [mode, browser] = await Promise.all([startLocalMode({ DELIVERY_DICOMWEB_URL: pacs.dicomwebUrl }), launchChromium()]);
  // The fixture: files the inspector verifies (the oracle's Part 10 images), copied under plain names.
  mrStudyFiles().forEach((f, i) => {
    const path = join(scratch, `mr-${String(i + 1).padStart(2, '0')}.dcm`);
    copyFileSync(join(CORPUS_ROOT, 'pydicom', f.file), path);
    files.push(path);
  });
  const ct = join(scratch, 'ct.dcm');
  copyFileSync(join(CORPUS_ROOT, 'pydicom', CT_FILE), ct);
  files.push(ct);
  writeFileSync(join(scratch, 'discharge-letter.pdf'), pdf);
  writeFileSync(join(scratch, 'photo.jpg'), jpeg);
}, 150_000);

afterAll(async () => {
  await browser?.close();
  await mode?.stop();
  await pacs?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

const ui = (language: string, key: keyof (typeof uiCatalogs)['en'], hospital = HOSPITAL) =>
  uiCatalogs[language as keyof typeof uiCatalogs][key].replace('{hospital}', hospital);

describe('delivery through the portal into Orthanc', { timeout: 150_000 }, () => {
  it('shows "Delivered" within a minute; Orthanc holds every instance reconciled, originals kept, the PDF and the JPEG in the study', async () => {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(mode.portalUrl);
    await page.getByRole('textbox', { name: 'Upload code' }).fill(await issueCode(mode, { reference: REFERENCE }));
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: '1. Select images' }).waitFor();
    await page.locator('#file-input').setInputFiles([...files, join(scratch, 'discharge-letter.pdf'), join(scratch, 'photo.jpg')]);
    await page.locator('#scan-status[data-idle="true"]').waitFor({ timeout: 30_000 });

    // Two studies: the attachments go to the MR study.
    const unlinked = page.locator('.unlinked');
    for (const name of ['discharge-letter.pdf', 'photo.jpg']) await unlinked.getByRole('checkbox', { name }).check();
    await page.locator('#link-selected').click();
    const mrLabel = (await page.locator(`article.study[data-study="${MR_STUDY_UID}"] h3`).textContent())!;
    await page.locator('.study-choice', { hasText: mrLabel }).click();
    await unlinked.waitFor({ state: 'detached' });

    await page.getByRole('checkbox', { name: /privacy policy/ }).check();
    await page.getByRole('checkbox', { name: /patient agrees/ }).check();
    await page.getByRole('button', { name: 'Start upload' }).click();
    const result = page.locator('section.result[data-status]');
    await result.waitFor({ timeout: 60_000 });
    expect(await result.getAttribute('data-status')).toBe('ACCEPTED');
    const acceptedAt = Date.now();

    // Announced politely, not as an alert; while it runs it says so honestly.
    const status = page.locator('#delivery-status');
    expect(await status.getAttribute('aria-live')).toBe('polite');
    expect(await status.getAttribute('role')).toBe('status');
    await status.filter({ hasText: /\S/ }).waitFor();
    expect([ui('en', 'result.delivery.pending'), ui('en', 'result.delivery.done')]).toContain(await status.textContent());
    await screenshot(page, 'w1280-11-delivery-running');

    await page.locator('#delivery-status[data-delivery="done"]').waitFor({ timeout: 60_000 });
    const waited = Date.now() - acceptedAt;
    expect(waited).toBeLessThan(60_000);
    expect(await status.textContent()).toBe(`Every study was delivered to ${HOSPITAL}.`);
    const states = page.locator('ul.summary > li .study-state');
    expect(await states.allTextContents()).toEqual([` Delivered to ${HOSPITAL}`, ` Delivered to ${HOSPITAL}`]);
    expect(await axeProblems(page)).toEqual([]);
    await screenshot(page, 'w1280-12-delivered');
    for (const language of languages.map((l) => l.code)) {
      await page.locator('#language').selectOption(language);
      await page.locator(`html[lang="${language}"]`).waitFor();
      expect(await status.textContent()).toBe(ui(language, 'result.delivery.done'));
      expect(await states.first().textContent()).toBe(` ${ui(language, 'study.state.delivered')}`);
      for (const narrow of NARROW_WIDTHS) expect(await sidewaysOverflow(page, narrow), `${language} at ${narrow} px`).toBe(0);
    }
    await page.locator('#language').selectOption('en');
    await page.setViewportSize({ width: 390, height: 900 });
    await screenshot(page, 'w390-12-delivered');
    expect(pageErrors).toEqual([]);
    console.log(`delivered ${waited} ms after acceptance`);

    // Orthanc's view: 11 MR images + the PDF + the JPEG in the MR study, the CT image in its own.
    const mr = await instancesOfStudy(MR_STUDY_UID, pacs.url);
    const ct = await instancesOfStudy(CT_STUDY_UID, pacs.url);
    expect(mr).toHaveLength(13);
    expect(ct).toHaveLength(1);
    expect(new Set(mr.map((i) => i.sopInstanceUid)).size).toBe(13);
    const bySopClass = new Map<string, string[]>();
    for (const { id } of [...mr, ...ct]) {
      const tags = await simplifiedTags(id, pacs.url);
      const isCt = tags.StudyInstanceUID === CT_STUDY_UID;
      expect(tags.PatientID).toBe(REFERENCE);
      expect((tags.OtherPatientIDsSequence as { PatientID: string }[]).map((o) => o.PatientID)).toContain(isCt ? '1CT1' : '98890234');
      // The MR study's Accession Number 2 gets the prefix; the CT image has none, and none is invented.
      expect(tags.AccessionNumber ?? '').toBe(isCt ? '' : 'EXT-2');
      bySopClass.set(String(tags.SOPClassUID), [...(bySopClass.get(String(tags.SOPClassUID)) ?? []), id]);
      if (tags.SOPClassUID === ENCAPSULATED_PDF_SOP_CLASS || tags.SOPClassUID === SECONDARY_CAPTURE_SOP_CLASS) continue;
      const [modification] = tags.OriginalAttributesSequence as { ModifiedAttributesSequence: Record<string, string>[] }[];
      expect(modification!.ModifiedAttributesSequence[0]).toMatchObject(isCt ? { PatientID: '1CT1' } : { PatientID: '98890234', AccessionNumber: '2' });
    }
    const [pdfId] = bySopClass.get(ENCAPSULATED_PDF_SOP_CLASS)!;
    const [jpegId] = bySopClass.get(SECONDARY_CAPTURE_SOP_CLASS)!;
    expect(mr.map((i) => i.id)).toEqual(expect.arrayContaining([pdfId, jpegId]));
    const document = new Uint8Array(await (await fetch(`${pacs.url}/instances/${pdfId}/content/0042-0011`)).arrayBuffer());
    // Encapsulated Document is padded to even length; Encapsulated Document Length (0042,0015) gives the PDF's own.
    expect(Number((await simplifiedTags(pdfId!, pacs.url)).EncapsulatedDocumentLength)).toBe(pdf.length);
    expect(sha256(document.subarray(0, pdf.length))).toBe(sha256(pdf));
    const frame = new Uint8Array(await (await fetch(`${pacs.url}/instances/${jpegId}/frames/0/raw`)).arrayBuffer());
    expect(sha256(frame.subarray(0, jpeg.length))).toBe(sha256(jpeg));
  });
});
