/**
 * The Upload Portal end to end: headless Chromium against a real local mode (DynamoDB Local,
 * s3rver, the real handlers and inspector), with real DICOM files from the pydicom corpus.
 * Every screen is screenshotted to test-output/screenshots/ and scanned with axe-core, at 1280 px
 * (desktop) and 390 px (a phone); no screen may scroll sideways at 320, 390 or 768 px.
 */
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zipSync } from 'fflate';
import type { Browser, CDPSession, Page } from 'playwright-core';
import { CODE_GROUPS, normalizeUploadCode } from '../../lambdas/core/codes';
import { message, type Language } from '../../lambdas/core/messages';
import { languages, uiCatalogs } from '../../web/src/i18n';
import { CORPUS, NARROW_WIDTHS, axeProblems, issueCode, launchChromium, readManifest, screenshot, sidewaysOverflow, startLocalMode, type LocalMode } from './local-mode';

interface OracleEntry {
  file: string;
  kind: string;
  attributes: { StudyInstanceUID: string | null; SOPInstanceUID: string | null; MediaStorageSOPClassUID: string | null };
}
const oracle = JSON.parse(readFileSync(join(CORPUS, '../../pydicom-oracle.json'), 'utf8')) as OracleEntry[];
const DICOMDIR_CLASS = '1.2.840.10008.1.3.10';

/** What the oracle says a folder holds: the image files (not DICOMDIRs) and their studies and SOP instances. */
function expectedImages(folder: string) {
  const prefix = `test_files/${folder}/`;
  const images = oracle.filter((e) => e.file.startsWith(prefix) && e.kind.startsWith('dicom') && e.attributes.MediaStorageSOPClassUID !== DICOMDIR_CLASS);
  return {
    files: images.length,
    studies: new Set(images.map((e) => e.attributes.StudyInstanceUID)),
    sops: new Set(images.map((e) => e.attributes.SOPInstanceUID)),
  };
}

function manifestSops(manifest: any): string[] {
  return manifest.studies.flatMap((s: any) => s.series.flatMap((se: any) => se.instances.map((i: any) => i.sopInstanceUid)));
}

const CT = join(CORPUS, 'CT_small.dcm');
const MR = join(CORPUS, 'MR_small.dcm');
const CT_STUDY = '1.3.6.1.4.1.5962.1.2.1.20040119072730.12322';
const MR_STUDY = '1.3.6.1.4.1.5962.1.2.4.20040826185059.5457';

let mode: LocalMode;
let browser: Browser;
let scratch: string;
const pdfs: string[] = [];

beforeAll(async () => {
  [mode, browser] = await Promise.all([startLocalMode(), launchChromium()]);
  scratch = mkdtempSync(join(tmpdir(), 'portal-e2e-files-'));
  for (let i = 1; i <= 11; i++) {
    const path = join(scratch, `report-${String(i).padStart(2, '0')}.pdf`);
    writeFileSync(path, `%PDF-1.4\n% report ${i}\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n`);
    pdfs.push(path);
  }
}, 150_000);

afterAll(async () => {
  await browser?.close();
  await mode?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

const pageErrors: string[] = [];
const DESKTOP = 1280;
const PHONE = 390;
/** Chromium reports what the Content-Security-Policy blocked on the console. */
const cspViolations: string[] = [];

async function newPage(width = DESKTOP): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  return page;
}

async function openSession(code: string, width = DESKTOP): Promise<Page> {
  const page = await newPage(width);
  await page.goto(mode.portalUrl);
  await page.getByRole('textbox', { name: 'Upload code' }).fill(code);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('heading', { name: '1. Select images' }).waitFor();
  return page;
}

async function addFiles(page: Page, files: string | string[], folder = false): Promise<void> {
  await page.locator(folder ? '#folder-input' : '#file-input').setInputFiles(files);
  await page.locator('#scan-status[data-idle="true"]').waitFor({ timeout: 30_000 });
}

async function expectAccessible(page: Page, screen: string): Promise<void> {
  expect(await axeProblems(page), `axe on ${screen}`).toEqual([]);
}

/** A screen at this width: screenshot, axe, and no sideways scrolling at 320, 390 and 768 px. */
async function checkScreen(page: Page, name: string): Promise<void> {
  const width = page.viewportSize()!.width;
  await screenshot(page, `w${width}-${name}`);
  await expectAccessible(page, `${name} at ${width} px`);
  for (const narrow of NARROW_WIDTHS) expect(await sidewaysOverflow(page, narrow), `${name}: sideways scroll at ${narrow} px`).toBe(0);
}

async function chooseLanguage(page: Page, language: Language): Promise<void> {
  await page.locator('#language').selectOption(language);
  await page.locator(`html[lang="${language}"]`).waitFor();
}

/** Each language's UI text, with {name} placeholders filled. */
function ui(language: Language, key: keyof (typeof uiCatalogs)['en'], params: Record<string, string | number> = {}): string {
  return uiCatalogs[language][key].replace(/\{(\w+)\}/g, (_, name: string) => String(params[name]));
}

async function giveConsentAndStart(page: Page): Promise<string> {
  const start = page.getByRole('button', { name: 'Start upload' });
  expect(await start.isDisabled()).toBe(true);
  await page.getByRole('checkbox', { name: /privacy policy/ }).check();
  expect(await start.isDisabled()).toBe(true);
  await page.getByRole('checkbox', { name: /patient agrees/ }).check();
  expect(await start.isEnabled()).toBe(true);
  const sessionId = await page.evaluate(() => JSON.parse(sessionStorage.getItem('upload-portal.session')!).sessionId as string);
  await start.click();
  return sessionId;
}

async function resultStatus(page: Page): Promise<string> {
  const result = page.locator('section.result[data-status]');
  await result.waitFor({ timeout: 60_000 });
  return (await result.getAttribute('data-status'))!;
}

/** The live region (aria-live or an implicit one) that holds an element, or null when none does. */
function liveAncestor(page: Page, selector: string): Promise<string | null> {
  return page.locator(selector).first().evaluate((el) => el.closest('[aria-live], [role="alert"], [role="status"]')?.getAttribute('aria-live') ?? el.closest('[role="alert"], [role="status"]')?.getAttribute('role') ?? null);
}

const cdpSessions = new WeakMap<Page, CDPSession>();
/** Throttles the page's uploads (-1 lifts it). One CDP session per page: a second one would not lift the first's limit. */
async function throttleUploads(page: Page, bytesPerSecond: number): Promise<void> {
  let cdp = cdpSessions.get(page);
  if (!cdp) {
    cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    cdpSessions.set(page, cdp);
  }
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: bytesPerSecond });
}

// Generous per-test time: the machine is shared with the rest of `npm test` (JVMs, emulators).
describe('Upload Portal in Chromium against local mode', { timeout: 120_000 }, () => {
  for (const width of [DESKTOP, PHONE]) {
    it(`code entry at ${width} px: focus in the code box, skip link first, a wrong code stays with its error, four languages`, async () => {
      const page = await newPage(width);
      await page.goto(mode.portalUrl);
      await page.getByRole('heading', { name: 'Enter your upload code' }).waitFor();
      // Focus lands on the code box; the skip link is the first thing Tab reaches before it.
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('upload-code');
      expect(await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle)).not.toBe('none');
      expect(await page.evaluate(() => document.querySelector('a[href], button, input, select, textarea')?.textContent)).toBe('Skip to main content');
      await page.keyboard.press('Shift+Tab');
      await page.keyboard.press('Shift+Tab');
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to main content');
      // The example has the real format: the groups the core issues, in its alphabet.
      const example = /[0-9A-Z]{4}(?:-[0-9A-Z]{4})+/.exec((await page.locator('#code-help').textContent())!)![0];
      expect(example.split('-')).toHaveLength(CODE_GROUPS);
      expect(normalizeUploadCode(example)).not.toBeNull();
      await checkScreen(page, '01-code-entry');

      const box = page.getByRole('textbox', { name: 'Upload code' });
      await box.focus();
      await page.keyboard.type('ABCD-EFGH-JKMN-PQRS');
      await page.keyboard.press('Enter');
      const error = page.locator('#code-error');
      await error.filter({ hasText: /\S/ }).waitFor();
      expect(await error.textContent()).toBe('This upload code is not valid. It may be mistyped, used, expired or revoked. Please contact the hospital.');
      expect(await page.getByRole('alert').filter({ hasText: /\S/ }).count()).toBe(1);
      // The wrong code stays where it was typed, marked invalid and described by the error next to it.
      expect(await box.inputValue()).toBe('ABCD-EFGH-JKMN-PQRS');
      expect(await box.getAttribute('aria-invalid')).toBe('true');
      expect(await box.getAttribute('aria-describedby')).toContain('code-error');
      await checkScreen(page, '02-code-wrong');
      // Every language at the narrowest widths (the phone run; desktop has room to spare).
      for (const language of languages.map((l) => l.code)) {
        await chooseLanguage(page, language);
        expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe(ui(language, 'code.title'));
        expect(await error.textContent()).toBe(message('INVALID_CODE', [], language));
        expect(await page.locator('#upload-code').inputValue()).toBe('ABCD-EFGH-JKMN-PQRS');
        for (const narrow of NARROW_WIDTHS) expect(await sidewaysOverflow(page, narrow), `${language} code entry at ${narrow} px`).toBe(0);
      }
      await chooseLanguage(page, 'en');

      await box.fill(await issueCode(mode));
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: '1. Select images' }).waitFor();
      const institution = page.locator('section.institution');
      expect(await institution.locator('.institution-name').textContent()).toBe('Demo General Hospital');
      expect(await institution.getByRole('link', { name: '+31 20 555 0100' }).getAttribute('href')).toBe('tel:+31205550100');
      expect(await institution.getByRole('link', { name: 'radiology@demo-hospital.example' }).getAttribute('href')).toBe('mailto:radiology@demo-hospital.example');
      expect(await institution.getByRole('link', { name: 'Read the upload manual' }).getAttribute('href')).toBe('https://demo-hospital.example/upload-manual');
      await checkScreen(page, '03-select-images');

      // The two buttons open the browser's chooser: several files, and a folder.
      const [files] = await Promise.all([page.waitForEvent('filechooser'), page.getByRole('button', { name: 'Select images or ZIP file' }).click()]);
      expect(files.isMultiple()).toBe(true);
      const [folder] = await Promise.all([page.waitForEvent('filechooser'), page.getByRole('button', { name: 'Select a folder' }).click()]);
      expect(await folder.element().evaluate((input) => (input as HTMLInputElement).webkitdirectory)).toBe(true);
      await folder.setFiles(join(CORPUS, 'dicomdirtests/77654033/CR1'));
      await page.locator('#scan-status[data-idle="true"][data-files="1"]').waitFor();

      // Languages: the switch changes the UI and the rule catalog.
      await chooseLanguage(page, 'de');
      await page.getByRole('heading', { name: '1. Bilder auswählen' }).waitFor();
      await page.getByLabel('Sprache').selectOption('en');
      await page.getByRole('heading', { name: '1. Select images' }).waitFor();
      await page.context().close();
    });
  }

  it('an attachment alone gives the exact message; adding a DICOM file clears it and auto-links the attachment', async () => {
    const page = await openSession(await issueCode(mode));
    await addFiles(page, pdfs[0]!);
    const problem = page.locator('#problems [data-code="ATTACHMENT_WITHOUT_DICOM"] .problem-message');
    expect(await problem.textContent()).toBe('You can only upload non-DICOM files if you also upload at least one DICOM file');
    await screenshot(page, '04-attachment-alone');
    await expectAccessible(page, 'attachment alone');

    await page.getByLabel('Language').selectOption('fr');
    expect(await problem.textContent()).toBe('Vous ne pouvez envoyer des fichiers non DICOM que si vous envoyez aussi au moins un fichier DICOM');
    await screenshot(page, '05-attachment-alone-fr');
    await page.getByLabel('Langue').selectOption('en');

    // Dropped onto the page: the drop handler takes files (and folders, via readEntries) from the DataTransfer.
    await page.locator('#drop-zone').evaluate((zone, bytes) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(bytes)], 'CT_small.dcm'));
      zone.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }, [...readFileSync(CT)]);
    await page.locator('#scan-status[data-idle="true"][data-files="2"]').waitFor();
    expect(await page.locator('#problems').count()).toBe(0);
    expect(await page.locator('.unlinked').count()).toBe(0);
    const study = page.locator(`article.study[data-study="${CT_STUDY}"]`);
    expect(await study.locator('.counts').textContent()).toContain('1 DICOM file, 1 non-DICOM file (');
    expect(await study.locator('.attachments').textContent()).toContain('report-01.pdf');
    await screenshot(page, '06-auto-linked');
    await page.context().close();
  });

  for (const width of [DESKTOP, PHONE]) {
    it(`at ${width} px: two patients' studies plus attachments, linked by keyboard ("Add 2 selected files to study", then the study), a warning for several patients, upload, result page`, async () => {
      const page = await openSession(await issueCode(mode), width);
      await addFiles(page, [CT, MR, pdfs[0]!, pdfs[1]!]);
      const unlinked = page.locator('.unlinked');
      expect(await unlinked.getByRole('heading').textContent()).toBe('Please add the following files to a study or remove them');
      expect(await liveAncestor(page, '.unlinked')).toBe('polite');
      expect(await unlinked.getByRole('checkbox').count()).toBe(2);
      // Two patients (names differ): a warning, not a block.
      const warning = page.locator('#patients-warning');
      expect(await warning.locator('.problem-message').textContent()).toBe('Please check: this upload holds studies of 2 different patients');
      expect(await warning.locator('li').allTextContents()).toEqual(['CT1 CompressedSamples', 'MR1 CompressedSamples']);
      expect(await liveAncestor(page, '#patients-warning')).toBe('polite');
      // Study cards show the header fields, each study waits to be uploaded.
      const mrCard = page.locator(`article.study[data-study="${MR_STUDY}"]`);
      expect(await mrCard.getByRole('heading', { level: 3 }).textContent()).toBe('MR1 CompressedSamples · 2004-08-26 · MR');
      expect(await mrCard.locator('dd').allTextContents()).toEqual(['MR1 CompressedSamples', '—', '4MR1', '2004-08-26', '—', '—', 'MR']);
      expect(await mrCard.locator('.study-state').textContent()).toContain('Waiting to upload');
      const add = page.getByRole('button', { name: /^Add \d+ selected files to study$/ });
      expect(await add.isDisabled()).toBe(true);
      await checkScreen(page, '07-unlinked-attachments');

      // Keyboard only: Space ticks each file, Tab reaches the button, Enter opens the study choice.
      await unlinked.getByRole('checkbox', { name: 'report-01.pdf' }).focus();
      await page.keyboard.press('Space');
      await page.keyboard.press('Tab'); // its Remove button
      await page.keyboard.press('Tab');
      await page.keyboard.press('Space');
      expect(await unlinked.getByRole('checkbox', { checked: true }).count()).toBe(2);
      expect(await unlinked.locator('[data-icon="check"]').count()).toBe(2);
      await page.getByRole('button', { name: 'Add 2 selected files to study' }).focus();
      await page.keyboard.press('Enter');
      const choice = page.getByRole('group', { name: 'Choose the study for the selected files' });
      await choice.waitFor();
      // Focus moves into the choice in the next frame: wait for it, as a person would see it.
      const focusedChoice = () => page.waitForFunction(() => document.activeElement?.classList.contains('study-choice'));
      await focusedChoice();
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('CT1 CompressedSamples · 2004-01-19 · e+1');
      await checkScreen(page, '08-link-choice');
      await page.keyboard.press('Escape');
      expect(await choice.count()).toBe(0);
      await page.waitForFunction(() => document.activeElement?.id === 'link-selected');
      await page.keyboard.press('Enter');
      await choice.waitFor();
      await focusedChoice();
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('MR1 CompressedSamples · 2004-08-26 · MR');
      await page.keyboard.press('Enter');
      await page.locator('.unlinked').waitFor({ state: 'detached' });
      // Focus follows the files to their study; the link is announced.
      await page.waitForFunction(() => document.activeElement?.tagName === 'H3');
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('MR1 CompressedSamples · 2004-08-26 · MR');
      expect(await page.locator('#announcer').textContent()).toBe('2 files added to MR1 CompressedSamples · 2004-08-26 · MR.');
      expect(await mrCard.locator('.counts').textContent()).toContain('1 DICOM file, 2 non-DICOM files (');
      await mrCard.getByRole('textbox', { name: 'Comment for the hospital (optional)' }).fill('Second opinion, please');
      await page.getByLabel('E-mail address').fill('uploader@example.org');
      await checkScreen(page, '09-linked-ready');

      const sessionId = await giveConsentAndStart(page);
      expect(await resultStatus(page)).toBe('ACCEPTED');
      // The result: a reference to quote, the date, each study "Uploaded", the hospital's phone and e-mail.
      expect(await page.locator('#result-reference').textContent()).toBe(sessionId.slice(0, 8));
      expect(await page.locator('#result-date').textContent()).toContain(String(new Date().getFullYear()));
      const studies = page.locator('ul.summary > li');
      expect(await studies.count()).toBe(2);
      expect(await studies.locator('strong').allTextContents()).toEqual(expect.arrayContaining(['CT1 CompressedSamples · 2004-01-19 · e+1', 'MR1 CompressedSamples · 2004-08-26 · MR']));
      expect(await studies.locator('.study-state').allTextContents()).toEqual([' Uploaded', ' Uploaded']);
      const result = page.locator('section.result');
      expect(await result.getByRole('link', { name: '+31 20 555 0100' }).getAttribute('href')).toBe('tel:+31205550100');
      expect(await result.getByRole('link', { name: 'radiology@demo-hospital.example' }).isVisible()).toBe(true);
      await checkScreen(page, '10-accepted');
      for (const language of languages.map((l) => l.code)) {
        await chooseLanguage(page, language);
        expect(await page.locator('.reference dt').first().textContent()).toBe(ui(language, 'result.reference'));
        expect(await studies.locator('.study-state').first().textContent()).toBe(` ${ui(language, 'study.state.uploaded')}`);
        for (const narrow of NARROW_WIDTHS) expect(await sidewaysOverflow(page, narrow), `${language} result at ${narrow} px`).toBe(0);
      }
      await chooseLanguage(page, 'en');
      // Printed: the page's header and buttons go; the reference and the contact stay.
      await page.emulateMedia({ media: 'print' });
      expect(await page.locator('header.top').isVisible()).toBe(false);
      expect(await page.getByRole('button', { name: 'Print or save this page' }).isVisible()).toBe(false);
      expect(await page.locator('#result-reference').isVisible()).toBe(true);
      await screenshot(page, `w${width}-10b-accepted-print`);
      await page.emulateMedia({ media: 'screen' });

      const manifest = await readManifest(mode, sessionId);
      expect(manifest.studies.map((s: any) => s.studyInstanceUid).sort()).toEqual([CT_STUDY, MR_STUDY].sort());
      const mr = manifest.studies.find((s: any) => s.studyInstanceUid === MR_STUDY);
      expect(mr.attachments.map((a: any) => a.name).sort()).toEqual(['report-01.pdf', 'report-02.pdf']);
      expect(mr.comment).toBe('Second opinion, please');
      expect(manifest.uploader.contact.email).toBe('uploader@example.org');
      expect(manifestSops(manifest).sort()).toEqual(['1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322', '1.3.6.1.4.1.5962.1.1.4.1.1.20040826185059.5457']);
      await page.context().close();
    });
  }

  it('the verify screen in four languages at 390 px: rule messages, the link button and the warnings in each, never wider than the screen', async () => {
    const page = await openSession(await issueCode(mode, { maxSessionBytes: 40_000 }), PHONE);
    await addFiles(page, [CT, MR, pdfs[0]!]);
    await page.getByRole('checkbox', { name: 'report-01.pdf' }).check();
    for (const language of languages.map((l) => l.code)) {
      await chooseLanguage(page, language);
      expect(await page.locator('.unlinked h3').textContent()).toBe(message('UNLINKED_ATTACHMENTS', [], language));
      expect(await page.locator('#link-selected').textContent()).toBe(message('ADD_SELECTED_TO_STUDY', [1], language));
      expect(await page.locator('#patients-warning .problem-message').textContent()).toBe(ui(language, 'patients.title', { count: 2 }));
      expect(await page.locator('#problems [data-code="SESSION_SIZE_LIMIT"] .problem-message').textContent()).toBe(message('SESSION_SIZE_LIMIT_NEW_CODE', [], language));
      expect(await page.locator('article.study .study-state').first().textContent()).toContain(ui(language, 'study.state.waiting'));
      await page.locator('#link-selected').click();
      await page.locator('#link-choice').waitFor();
      await screenshot(page, `w${PHONE}-21-verify-${language}`);
      for (const narrow of NARROW_WIDTHS) expect(await sidewaysOverflow(page, narrow), `${language} verify at ${narrow} px`).toBe(0);
      await page.keyboard.press('Escape');
    }
    await expectAccessible(page, 'verify in French at 390 px');
    await page.context().close();
  });

  it('11 attachments on one study give the ATTACHMENT_LIMIT message with the count and the next step', async () => {
    const page = await openSession(await issueCode(mode));
    await addFiles(page, [CT, ...pdfs]);
    const problem = page.locator('#problems [data-code="ATTACHMENT_LIMIT"]');
    expect(await problem.locator('.problem-message').textContent()).toBe(
      "Currently added '11' non-DICOM files. Adding these would surpass the maximum of 10 non-DICOM files that can be added to a study.",
    );
    expect(await problem.locator('.advice').textContent()).toBe(
      'Remove 1 non-DICOM file from CT1 CompressedSamples · 2004-01-19 · e+1 to continue. If the hospital needs them all, ask it how to send the rest.',
    );
    expect(await liveAncestor(page, '#problems')).toBe('polite');
    await page.getByRole('checkbox', { name: /privacy policy/ }).check();
    await page.getByRole('checkbox', { name: /patient agrees/ }).check();
    expect(await page.getByRole('button', { name: 'Start upload' }).isDisabled()).toBe(true);
    await checkScreen(page, '11-attachment-limit');
    await page.getByRole('button', { name: 'Remove report-11.pdf' }).first().click();
    expect(await page.locator('#problems').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Start upload' }).isEnabled()).toBe(true);
    await page.context().close();
  });

  for (const width of [DESKTOP, PHONE]) {
    it(`at ${width} px: size messages name the study and say it once; "Remove study" can be undone`, async () => {
      const page = await openSession(await issueCode(mode, { maxSessionBytes: 40_000 }), width);
      await addFiles(page, CT);
      expect(await page.locator('#problems').count()).toBe(0);
      await addFiles(page, MR);
      const problem = page.locator('#problems [data-code="SESSION_SIZE_LIMIT"]');
      expect(await problem.locator('.problem-message').textContent()).toBe(
        'Total file size exceeds the limit. Remove studies, or request a new upload code for the remaining studies.',
      );
      // The advice states the figures; it does not repeat the message's guidance.
      expect(await problem.locator('.advice').textContent()).toMatch(/^You selected [\d.]+ KB; this upload code allows 40 KB\.$/);
      expect(await page.locator('#problems').textContent()).not.toMatch(/new upload code.*new upload code/);
      expect(await liveAncestor(page, '#problems')).toBe('polite');
      await checkScreen(page, '12-size-limit');

      const mrCard = page.locator(`article.study[data-study="${MR_STUDY}"]`);
      await mrCard.getByRole('textbox').fill('keep this comment');
      await mrCard.getByRole('button', { name: 'Remove study' }).click();
      expect(await page.locator('#problems').count()).toBe(0);
      expect(await page.locator('article.study').count()).toBe(1);
      expect(await page.locator('#announcer').textContent()).toBe('Removed: MR1 CompressedSamples · 2004-08-26 · MR.');
      await checkScreen(page, '12a-study-removed');
      await page.getByRole('button', { name: 'Undo' }).click();
      await mrCard.waitFor();
      expect(await mrCard.getByRole('textbox').inputValue()).toBe('keep this comment');
      expect(await problem.count()).toBe(1);
      expect(await page.locator('#announcer').textContent()).toBe('Restored: MR1 CompressedSamples · 2004-08-26 · MR.');
      await page.context().close();

      // One study larger than the code allows: the message names that study, with its size.
      const one = await openSession(await issueCode(mode, { maxSessionBytes: 10_000 }), width);
      await addFiles(one, join(CORPUS, 'dicomdirtests/77654033/CT2'), true);
      expect(await one.locator('#problems [data-code="SESSION_SIZE_LIMIT"] .problem-message').textContent()).toBe('Total file size exceeds the limit');
      const study = one.locator('#problems [data-code="STUDY_SIZE_LIMIT"]');
      expect(await study.locator('.problem-study').textContent()).toMatch(/^Archibald Doe · 1995-09-03 · CT, HEAD\/BRAIN WO CONTRAST \([\d.]+ KB\)$/);
      expect(await study.locator('.problem-message').textContent()).toContain('unless the hospital allows larger studies');
      // Said once: the study's entry gives its size and the limit, so the total's gives no figures again.
      expect(await one.locator('#problems .advice').count()).toBe(0);
      await checkScreen(one, '12b-size-limit-one-study');
      await one.context().close();
    });
  }

  it('the dicomdirtests CD as a folder: DICOMDIR read but not uploaded, progress, ACCEPTED, manifest matches', async () => {
    const folder = join(CORPUS, 'dicomdirtests');
    const expected = expectedImages('dicomdirtests');
    const page = await openSession(await issueCode(mode));
    await addFiles(page, folder, true);
    expect(Number(await page.locator('#scan-status').getAttribute('data-files'))).toBe(expected.files);
    expect(await page.locator('article.study').count()).toBe(expected.studies.size);
    await page.locator('details.skipped summary').click();
    expect(await page.locator('details.skipped').textContent()).toContain('index of a CD or DVD: used to read the images, not uploaded itself');
    await screenshot(page, '13-folder-verify');

    // Watch the wire: upload requests carry ≤ 10 DICOM files. PUTs in flight are counted in the page
    // (XMLHttpRequest send → done), where Playwright's network events cannot reorder them.
    const declaredPerRequest: number[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && /\/sessions\/[^/]+\/uploads$/.test(new URL(request.url()).pathname)) {
        declaredPerRequest.push((request.postDataJSON() as { files: { kind: string }[] }).files.filter((f) => f.kind === 'dicom').length);
      }
    });
    await page.evaluate(`(() => {
      window.__puts = { now: 0, peak: 0 };
      const open = XMLHttpRequest.prototype.open;
      const send = XMLHttpRequest.prototype.send;
      XMLHttpRequest.prototype.open = function (method, ...rest) { this.__put = method === 'PUT'; return open.call(this, method, ...rest); };
      XMLHttpRequest.prototype.send = function (body) {
        if (this.__put) {
          window.__puts.now++;
          window.__puts.peak = Math.max(window.__puts.peak, window.__puts.now);
          // readyState 4 comes before 'load', whose handler may start the next PUT at once.
          const done = () => { if (this.readyState === 4) { window.__puts.now--; this.removeEventListener('readystatechange', done); } };
          this.addEventListener('readystatechange', done);
        }
        return send.call(this, body);
      };
    })()`);

    await throttleUploads(page, 60_000);
    const sessionId = await giveConsentAndStart(page);
    await page.getByRole('heading', { name: 'Uploading' }).waitFor();
    await page.waitForFunction(() => ((document.getElementById('progress-overall') as HTMLProgressElement | null)?.value ?? 0) >= 25, undefined, { timeout: 30_000 });
    await page.waitForTimeout(1200); // long enough for a time-left estimate
    expect(await page.locator('#progress-overall-text').textContent()).toMatch(/KB of [\d.]+ KB \(\d+%\)/);
    expect(await page.locator('.study-progress progress').count()).toBe(expected.studies.size);
    // Each study says where it stands: waiting, uploading with its percentage, or uploaded.
    const states = await page.locator('.study-progress .study-state').allTextContents();
    expect(states).toHaveLength(expected.studies.size);
    for (const state of states) expect(state.trim()).toMatch(/^(Waiting to upload|Uploading: \d+%|Uploaded)$/);
    expect(states.some((state) => /Uploading: \d+%|Uploaded/.test(state))).toBe(true);
    await checkScreen(page, '14-uploading');
    expect(await resultStatus(page)).toBe('ACCEPTED');
    expect(await page.locator('ul.summary .study-state').allTextContents()).toEqual([...expected.studies].map(() => ' Uploaded'));
    await checkScreen(page, '15-folder-accepted');
    expect(declaredPerRequest.reduce((a, b) => a + b, 0)).toBe(expected.files);
    expect(Math.max(...declaredPerRequest)).toBeLessThanOrEqual(10);
    const peakInFlight = await page.evaluate<number>('window.__puts.peak');
    expect(peakInFlight).toBeGreaterThan(1);
    expect(peakInFlight).toBeLessThanOrEqual(10);

    const manifest = await readManifest(mode, sessionId);
    expect(manifest.totals.instances).toBe(expected.files);
    expect(new Set(manifest.studies.map((s: any) => s.studyInstanceUid))).toEqual(expected.studies);
    expect(new Set(manifestSops(manifest))).toEqual(expected.sops);
    await page.context().close();
  });

  for (const width of [DESKTOP, PHONE]) {
    it(`at ${width} px: leaving mid-upload asks first; after a reload the studies show their header fields and the page says what was kept, lost and what to do`, async () => {
      const folder = join(CORPUS, 'dicomdirtests/TINY_ALPHA');
      const expected = expectedImages('dicomdirtests/TINY_ALPHA');
      const page = await openSession(await issueCode(mode), width);
      await addFiles(page, folder, true);
      await page.getByLabel('Phone number').fill('+31 6 1234 5678');
      await throttleUploads(page, 6_000);
      const sessionId = await giveConsentAndStart(page);
      await page.waitForFunction(() => ((document.getElementById('progress-overall') as HTMLProgressElement | null)?.value ?? 0) >= 30, undefined, { timeout: 30_000 });
      // The study's line follows the overall bar by a render: wait for it rather than read it once.
      await page.locator('.study-progress .study-state', { hasText: /Uploading: \d+%/ }).waitFor({ timeout: 10_000 });
      await checkScreen(page, '14b-uploading-one-study');
      const asked = new Promise<string>((resolve) =>
        page.once('dialog', (dialog) => {
          resolve(dialog.type());
          void dialog.accept();
        }),
      );
      await page.reload();
      expect(await asked).toBe('beforeunload');

      await page.getByRole('heading', { name: '1. Select images' }).waitFor();
      expect(await page.evaluate(() => JSON.parse(sessionStorage.getItem('upload-portal.session')!).sessionId)).toBe(sessionId);
      expect(await page.locator('.institution-name').textContent()).toBe('Demo General Hospital');
      const card = page.locator('article.study');
      // The server's header fields name the study, though no file has been read again yet.
      expect(await card.getByRole('heading', { level: 3 }).textContent()).toBe('Jan Citizen · 2020-09-13 · Testing File-set');
      expect(await card.locator('dd').allTextContents()).toEqual(expect.arrayContaining(['Jan Citizen', '2020-09-13', 'Testing File-set', 'CT']));
      const counts = (await card.locator('.counts').textContent())!;
      const sent = Number(/^(\d+) DICOM files?/.exec(counts)?.[1]);
      expect(sent).toBeGreaterThan(0);
      expect(sent).toBeLessThan(expected.files);
      // Only the files that arrived are known: the study says so rather than "Uploaded".
      expect((await card.locator('.study-state').textContent())!.trim()).toBe(`${sent} ${sent === 1 ? 'file' : 'files'} uploaded before the reload`);
      const resumed = page.locator('section.resume');
      expect(await resumed.getByRole('heading').textContent()).toBe('You are continuing an earlier upload');
      expect(await resumed.locator('li').allTextContents()).toEqual([
        `Kept: ${sent} ${sent === 1 ? 'file' : 'files'} already uploaded (shown in the studies below), and the contact details and comments you typed.`,
        'Not kept: the files that had not been sent yet. A browser cannot keep your files over a reload.',
        'What to do: add the same files or folder again; files already uploaded are not sent twice. Then confirm the consent and start the upload.',
      ]);
      expect(await page.getByLabel('Phone number').inputValue()).toBe('+31 6 1234 5678');
      await checkScreen(page, '16-resumed');
      for (const language of languages.map((l) => l.code)) {
        await chooseLanguage(page, language);
        expect(await resumed.locator('li').nth(1).textContent()).toBe(ui(language, 'resume.lost'));
        for (const narrow of NARROW_WIDTHS) expect(await sidewaysOverflow(page, narrow), `${language} resumed at ${narrow} px`).toBe(0);
      }
      await chooseLanguage(page, 'en');

      await addFiles(page, folder, true);
      expect(Number(await page.locator('#scan-status').getAttribute('data-files'))).toBe(expected.files);
      // Files the same size as stored ones are hashed to recognise them, after the scan: wait for it.
      await card.locator('.counts', { hasText: `${sent} of them` }).waitFor({ timeout: 30_000 });
      expect(await card.locator('.counts').textContent()).toContain(`${sent} of them`);
      await throttleUploads(page, -1);
      await giveConsentAndStart(page);
      expect(await resultStatus(page)).toBe('ACCEPTED');
      const manifest = await readManifest(mode, sessionId);
      expect(manifest.totals.instances).toBe(expected.files);
      expect(new Set(manifestSops(manifest))).toEqual(new Set(expected.sops));
      expect(manifest.uploader.contact.phone).toBe('+31 6 1234 5678');
      await page.context().close();
    });
  }

  it('a ZIP of DICOM files (built here with fflate) is read in the browser and uploaded, through an expired URL and a 503', async () => {
    const folder = join(CORPUS, 'dicomdirtests/98892001');
    const entries: Record<string, [Uint8Array, { level: 0 | 6 }]> = {};
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        // Alternate stored and deflated entries: both paths of the reader are exercised.
        else entries[`cd/${relative(folder, path)}`] = [readFileSync(path), { level: Object.keys(entries).length % 2 ? 0 : 6 }];
      }
    };
    walk(folder);
    entries['CT_small.dcm'] = [readFileSync(CT), { level: 6 }];
    const zipPath = join(scratch, 'images.zip');
    writeFileSync(zipPath, zipSync(entries));
    const expected = expectedImages('dicomdirtests/98892001');

    const page = await openSession(await issueCode(mode));
    // The first PUT is refused as S3 refuses an expired URL, the second fails once with a 503:
    // the portal must ask the API for a fresh URL (POST …/upload-url) and retry with backoff.
    let puts = 0;
    const refusedFileIds: string[] = [];
    const deletedFileIds: string[] = [];
    const renewedFileIds: string[] = [];
    await page.route(/\/sessions\/[^/]+\/files\/[^/?]+/, (route) => {
      if (route.request().method() === 'DELETE') deletedFileIds.push(/\/files\/([^/?]+)/.exec(route.request().url())![1]!);
      if (route.request().method() === 'POST' && route.request().url().endsWith('/upload-url')) renewedFileIds.push(/\/files\/([^/?]+)/.exec(route.request().url())![1]!);
      if (route.request().method() !== 'PUT') return route.continue();
      puts++;
      if (puts === 1) {
        refusedFileIds.push(/\/files\/([^/?]+)/.exec(route.request().url())![1]!);
        return route.fulfill({ status: 403, contentType: 'application/xml', body: '<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>' });
      }
      if (puts === 2) return route.fulfill({ status: 503, body: 'Slow Down' });
      return route.continue();
    });
    await addFiles(page, zipPath);
    expect(Number(await page.locator('#scan-status').getAttribute('data-files'))).toBe(expected.files + 1);
    expect(await page.locator('article.study').count()).toBe(2);
    await screenshot(page, '17-zip-verify');
    const sessionId = await giveConsentAndStart(page);
    expect(await resultStatus(page)).toBe('ACCEPTED');
    const manifest = await readManifest(mode, sessionId);
    expect(new Set(manifestSops(manifest))).toEqual(new Set([...expected.sops, '1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322']));
    expect(puts).toBe(expected.files + 1 + 2);
    // The refused URL was renewed for the same declaration, which was neither removed nor declared again,
    // and the image is in the manifest once.
    expect(renewedFileIds).toEqual([refusedFileIds[0]]);
    expect(deletedFileIds).toEqual([]);
    const fileIds = manifest.studies.flatMap((s: any) => s.series.flatMap((se: any) => se.instances.map((i: any) => i.fileId)));
    expect(fileIds.filter((id: string) => id === refusedFileIds[0]).length).toBeLessThanOrEqual(1);
    await page.context().close();
  });

  it('an upload can be cancelled, and started again later without sending files twice', async () => {
    const folder = join(CORPUS, 'dicomdirtests/98892001');
    const expected = expectedImages('dicomdirtests/98892001');
    const page = await openSession(await issueCode(mode));
    await addFiles(page, folder, true);
    await throttleUploads(page, 5_000);
    const sessionId = await giveConsentAndStart(page);
    await page.waitForFunction(() => ((document.getElementById('progress-overall') as HTMLProgressElement | null)?.value ?? 0) >= 15, undefined, { timeout: 30_000 });
    await page.getByRole('button', { name: 'Cancel upload' }).click();
    await page.getByText('The upload was cancelled.', { exact: false }).waitFor();
    await screenshot(page, '19-cancelled');
    expect(await page.getByRole('heading', { name: '2. Verify and upload' }).isVisible()).toBe(true);
    await throttleUploads(page, -1);
    // Consent stays given; Start upload continues with what was not sent yet.
    await page.getByRole('button', { name: 'Start upload' }).click();
    expect(await resultStatus(page)).toBe('ACCEPTED');
    const manifest = await readManifest(mode, sessionId);
    expect(manifest.totals.instances).toBe(expected.files);
    expect(new Set(manifestSops(manifest))).toEqual(expected.sops);
    await page.context().close();
  });

  for (const width of [DESKTOP, PHONE]) {
    it(`at ${width} px: a file declared with another study than its header is REJECTED, and the result screen says why`, async () => {
      const page = await openSession(await issueCode(mode), width);
      await addFiles(page, [CT, MR]);
      // Bytes altered on the way no longer reach the bucket (the signed checksum refuses them), so the
      // lie is told in the declaration instead: the inspector must catch a header that disagrees with it.
      await page.route(/\/api\/sessions\/[^/]+\/uploads$/, (route) => {
        const body = JSON.parse(route.request().postData() ?? '{}') as { files?: { kind: string; studyInstanceUid?: string }[] };
        for (const file of body.files ?? []) if (file.kind === 'dicom') file.studyInstanceUid = '1.2.826.0.1.3680043.2.1125.999';
        return route.continue({ postData: JSON.stringify(body) });
      });
      await giveConsentAndStart(page);
      expect(await resultStatus(page)).toBe('REJECTED');
      const reasons = page.locator('ul.reasons li');
      expect(await reasons.count()).toBeGreaterThan(0);
      const text = (await reasons.allTextContents()).join('\n');
      // Both files lie; whichever the inspector reads first rejects the session, so the reason names that one.
      expect(text).toMatch(/(CT_small|MR_small)\.dcm: The file belongs to a different study than the one it was added to\./);
      // Whom to call, with the hospital's phone and e-mail.
      expect(await page.locator('section.result').getByRole('link', { name: '+31 20 555 0100' }).isVisible()).toBe(true);
      await checkScreen(page, '18-rejected');
      await page.context().close();
    });
  }

  it('a 422 from the API is shown as it came, and the user can act on it', async () => {
    const page = await openSession(await issueCode(mode));
    await addFiles(page, CT);
    // The API is the authority: here its answer to the upload request is replaced by a rule
    // violation the browser could not know about (another tab used up the space, say).
    const violation = { code: 'SESSION_SIZE_LIMIT', message: 'Total file size exceeds the limit' };
    await page.route(/\/api\/sessions\/[^/]+\/uploads$/, (route) =>
      route.fulfill({ status: 422, contentType: 'application/json', body: JSON.stringify({ error: { code: 'RULE_VIOLATION', message: 'A rule was broken.', details: { violations: [violation] } } }) }),
    );
    await giveConsentAndStart(page);
    const shown = page.locator('#server-problems');
    await shown.waitFor();
    expect(await shown.locator('[data-code="SESSION_SIZE_LIMIT"]').textContent()).toBe('Total file size exceeds the limit');
    expect(await page.getByRole('button', { name: 'Start upload' }).isEnabled()).toBe(true);
    await screenshot(page, '20-server-422');
    await expectAccessible(page, 'server 422');
    await page.context().close();
  });

  it('a code revoked during the session: the portal, reloaded, says the hospital withdrew it, in four languages', async () => {
    const page = await openSession(await issueCode(mode, { reference: 'REF-E2E-REVOKED' }), PHONE);
    const revoked = await fetch(`${mode.apiUrl}/admin/upload-codes/revoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${mode.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reference: 'REF-E2E-REVOKED' }),
    });
    expect(revoked.status).toBe(200);
    await page.reload();
    const error = page.locator('#code-error');
    await error.filter({ hasText: /\S/ }).waitFor();
    for (const language of languages.map((l) => l.code)) {
      await chooseLanguage(page, language);
      expect(await error.textContent()).toBe(message('SESSION_REVOKED', [], language));
    }
    expect(await liveAncestor(page, '#code-error')).not.toBeNull();
    await chooseLanguage(page, 'en');
    await checkScreen(page, '20-code-revoked');
    await page.context().close();
  });

  it('no script errors and nothing blocked by the Content-Security-Policy on any page', () => {
    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
  });
});
