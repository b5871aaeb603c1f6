/**
 * The Upload Portal end to end: headless Chromium against a real local mode (DynamoDB Local,
 * s3rver, the real handlers and inspector), with real DICOM files from the pydicom corpus.
 * Every screen is screenshotted to test-output/screenshots/ and scanned with axe-core.
 */
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zipSync } from 'fflate';
import type { Browser, CDPSession, Page } from 'playwright-core';
import { CORPUS, axeProblems, issueCode, launchChromium, readManifest, screenshot, startLocalMode, type LocalMode } from './local-mode';

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
/** Chromium reports what the Content-Security-Policy blocked on the console. */
const cspViolations: string[] = [];

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  return page;
}

async function openSession(code: string): Promise<Page> {
  const page = await newPage();
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
  it('code entry: keyboard only, a wrong code gets one clear message, the right one shows the institution', async () => {
    const page = await newPage();
    await page.goto(mode.portalUrl);
    await page.getByRole('heading', { name: 'Enter your upload code' }).waitFor();
    await screenshot(page, '01-code-entry');
    await expectAccessible(page, 'code entry');

    // Keyboard: Tab reaches the code field with a visible focus ring; Enter submits.
    for (let i = 0; i < 5 && (await page.evaluate(() => document.activeElement?.id)) !== 'upload-code'; i++) await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('upload-code');
    expect(await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle)).not.toBe('none');
    await page.keyboard.type('ABCD-EFGH-JKMN-PQRS');
    await page.keyboard.press('Enter');
    const error = page.locator('#code-error');
    await error.waitFor();
    expect(await error.textContent()).toBe('This upload code is not valid. It may be mistyped, used, expired or revoked. Please contact the hospital.');
    expect(await page.getByRole('alert').count()).toBe(1);
    await screenshot(page, '02-code-wrong');
    await expectAccessible(page, 'wrong code');

    await page.getByRole('textbox', { name: 'Upload code' }).fill(await issueCode(mode));
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: '1. Select images' }).waitFor();
    const institution = page.locator('section.institution');
    expect(await institution.locator('.institution-name').textContent()).toBe('Demo General Hospital');
    expect(await institution.getByRole('link', { name: '+31 20 555 0100' }).getAttribute('href')).toBe('tel:+31205550100');
    expect(await institution.getByRole('link', { name: 'radiology@demo-hospital.example' }).getAttribute('href')).toBe('mailto:radiology@demo-hospital.example');
    expect(await institution.getByRole('link', { name: 'Read the upload manual' }).getAttribute('href')).toBe('https://demo-hospital.example/upload-manual');
    await screenshot(page, '03-select-images');
    await expectAccessible(page, 'select images');

    // The two buttons open the browser's chooser: several files, and a folder.
    const [files] = await Promise.all([page.waitForEvent('filechooser'), page.getByRole('button', { name: 'Select images or ZIP file' }).click()]);
    expect(files.isMultiple()).toBe(true);
    const [folder] = await Promise.all([page.waitForEvent('filechooser'), page.getByRole('button', { name: 'Select a folder' }).click()]);
    expect(await folder.element().evaluate((input) => (input as HTMLInputElement).webkitdirectory)).toBe(true);
    await folder.setFiles(join(CORPUS, 'dicomdirtests/77654033/CR1'));
    await page.locator('#scan-status[data-idle="true"][data-files="1"]').waitFor();

    // Languages: the switch changes the UI and the rule catalog.
    await page.getByLabel('Language').selectOption('de');
    await page.getByRole('heading', { name: '1. Bilder auswählen' }).waitFor();
    expect(await page.locator('html').getAttribute('lang')).toBe('de');
    await page.getByLabel('Sprache').selectOption('en');
    await page.getByRole('heading', { name: '1. Select images' }).waitFor();
    await page.context().close();
  });

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

  it('two studies plus attachments: select two, "Add 2 selected files to study", upload, ACCEPTED, manifest matches', async () => {
    const page = await openSession(await issueCode(mode));
    await addFiles(page, [CT, MR, pdfs[0]!, pdfs[1]!]);
    const unlinked = page.locator('.unlinked');
    expect(await unlinked.getByRole('heading').textContent()).toBe('Please add the following files to a study or remove them');
    expect(await unlinked.locator('.file-toggle').count()).toBe(2);
    await screenshot(page, '07-unlinked-attachments');
    await expectAccessible(page, 'unlinked attachments');

    for (const name of ['report-01.pdf', 'report-02.pdf']) {
      const toggle = () => unlinked.getByRole('button', { name, exact: true });
      expect(await toggle().locator('.icon').getAttribute('data-icon')).toBe('document');
      expect(await toggle().getAttribute('aria-pressed')).toBe('false');
      await toggle().click();
      expect(await toggle().getAttribute('aria-pressed')).toBe('true');
      expect(await toggle().locator('.icon').getAttribute('data-icon')).toBe('check');
    }
    const addTo = page.getByLabel('Add 2 selected files to study');
    await screenshot(page, '08-two-selected');
    await addTo.selectOption(MR_STUDY);
    expect(await page.locator('.unlinked').count()).toBe(0);
    const mrCard = page.locator(`article.study[data-study="${MR_STUDY}"]`);
    expect(await mrCard.locator('.counts').textContent()).toContain('1 DICOM file, 2 non-DICOM files (');
    await page.locator(`article.study[data-study="${MR_STUDY}"] textarea`).fill('Second opinion, please');
    await page.getByLabel('E-mail address').fill('uploader@example.org');
    await screenshot(page, '09-linked-ready');
    await expectAccessible(page, 'verify panel');

    const sessionId = await giveConsentAndStart(page);
    expect(await resultStatus(page)).toBe('ACCEPTED');
    await screenshot(page, '10-accepted');
    await expectAccessible(page, 'accepted');

    const manifest = await readManifest(mode, sessionId);
    expect(manifest.studies.map((s: any) => s.studyInstanceUid).sort()).toEqual([CT_STUDY, MR_STUDY].sort());
    const mr = manifest.studies.find((s: any) => s.studyInstanceUid === MR_STUDY);
    expect(mr.attachments.map((a: any) => a.name).sort()).toEqual(['report-01.pdf', 'report-02.pdf']);
    expect(mr.comment).toBe('Second opinion, please');
    expect(manifest.uploader.contact.email).toBe('uploader@example.org');
    expect(manifestSops(manifest).sort()).toEqual(['1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322', '1.3.6.1.4.1.5962.1.1.4.1.1.20040826185059.5457']);
    await page.context().close();
  });

  it('11 attachments on one study give the ATTACHMENT_LIMIT message with the count', async () => {
    const page = await openSession(await issueCode(mode));
    await addFiles(page, [CT, ...pdfs]);
    const problem = page.locator('#problems [data-code="ATTACHMENT_LIMIT"] .problem-message');
    expect(await problem.textContent()).toBe(
      "Currently added '11' non-DICOM files. Adding these would surpass the maximum of 10 non-DICOM files that can be added to a study.",
    );
    await page.getByRole('checkbox', { name: /privacy policy/ }).check();
    await page.getByRole('checkbox', { name: /patient agrees/ }).check();
    expect(await page.getByRole('button', { name: 'Start upload' }).isDisabled()).toBe(true);
    await screenshot(page, '11-attachment-limit');
    await expectAccessible(page, 'attachment limit');
    await page.getByRole('button', { name: 'Remove report-11.pdf' }).first().click();
    expect(await page.locator('#problems').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Start upload' }).isEnabled()).toBe(true);
    await page.context().close();
  });

  it('over the session limit gives "Total file size exceeds the limit" with what to do', async () => {
    const page = await openSession(await issueCode(mode, { maxSessionBytes: 40_000 }));
    await addFiles(page, CT);
    expect(await page.locator('#problems').count()).toBe(0);
    await addFiles(page, MR);
    const problem = page.locator('#problems [data-code="SESSION_SIZE_LIMIT"]');
    expect(await problem.locator('.problem-message').textContent()).toBe(
      'Total file size exceeds the limit. Remove studies, or request a new upload code for the remaining studies.',
    );
    expect(await problem.locator('.advice').textContent()).toContain('ask the hospital for a new upload code');
    await screenshot(page, '12-size-limit');
    await expectAccessible(page, 'size limit');
    await page.locator(`article.study[data-study="${MR_STUDY}"]`).getByRole('button', { name: 'Remove study' }).click();
    expect(await page.locator('#problems').count()).toBe(0);
    await page.context().close();

    // One study larger than the code allows: the plain message, and that the hospital must allow more.
    const one = await openSession(await issueCode(mode, { maxSessionBytes: 10_000 }));
    await addFiles(one, join(CORPUS, 'dicomdirtests/77654033/CT2'), true);
    expect(await one.locator('#problems [data-code="SESSION_SIZE_LIMIT"] .problem-message').textContent()).toBe('Total file size exceeds the limit');
    expect(await one.locator('#problems [data-code="SESSION_SIZE_LIMIT"] .advice').textContent()).toContain('Remove files to stay within the limit');
    expect(await one.locator('#problems [data-code="STUDY_SIZE_LIMIT"] .problem-message').textContent()).toContain('unless the hospital allows larger studies');
    await screenshot(one, '12b-size-limit-one-study');
    await one.context().close();
  });

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
    await screenshot(page, '14-uploading');
    await expectAccessible(page, 'uploading');
    expect(await resultStatus(page)).toBe('ACCEPTED');
    await screenshot(page, '15-folder-accepted');
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

  it('reloading mid-upload resumes the session; files already sent are not sent twice', async () => {
    const folder = join(CORPUS, 'dicomdirtests/TINY_ALPHA');
    const expected = expectedImages('dicomdirtests/TINY_ALPHA');
    const page = await openSession(await issueCode(mode));
    await addFiles(page, folder, true);
    await throttleUploads(page, 6_000);
    const sessionId = await giveConsentAndStart(page);
    await page.waitForFunction(() => ((document.getElementById('progress-overall') as HTMLProgressElement | null)?.value ?? 0) >= 30, undefined, { timeout: 30_000 });
    await page.reload();

    await page.getByRole('heading', { name: '1. Select images' }).waitFor();
    expect(await page.evaluate(() => JSON.parse(sessionStorage.getItem('upload-portal.session')!).sessionId)).toBe(sessionId);
    expect(await page.locator('.institution-name').textContent()).toBe('Demo General Hospital');
    const earlier = await page.locator('article.study .counts').textContent();
    const sent = Number(/(\d+) of them (?:were|was) uploaded earlier/.exec(earlier ?? '')?.[1]);
    expect(sent).toBeGreaterThan(0);
    expect(sent).toBeLessThan(expected.files);
    expect(await page.locator('.notice').textContent()).toContain(`You are continuing an earlier upload: ${sent} ${sent === 1 ? 'file is' : 'files are'} already uploaded.`);
    await screenshot(page, '16-resumed');
    await expectAccessible(page, 'resumed');

    await addFiles(page, folder, true);
    expect(Number(await page.locator('#scan-status').getAttribute('data-files'))).toBe(expected.files);
    await throttleUploads(page, -1);
    await giveConsentAndStart(page);
    expect(await resultStatus(page)).toBe('ACCEPTED');
    const manifest = await readManifest(mode, sessionId);
    expect(manifest.totals.instances).toBe(expected.files);
    expect(new Set(manifestSops(manifest))).toEqual(expected.sops);
    await page.context().close();
  });

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
    // the portal must ask the API for a fresh URL (DELETE + declare again) and retry with backoff.
    let puts = 0;
    const refusedFileIds: string[] = [];
    await page.route(/\/sessions\/[^/]+\/files\/[^/?]+/, (route) => {
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
    // The refused declaration was replaced, not uploaded under its old id.
    const fileIds = manifest.studies.flatMap((s: any) => s.series.flatMap((se: any) => se.instances.map((i: any) => i.fileId)));
    expect(fileIds).not.toContain(refusedFileIds[0]);
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

  it('a file altered on the way is REJECTED, and the result screen says why', async () => {
    const page = await openSession(await issueCode(mode));
    await addFiles(page, [CT, MR]);
    // Every PUT arrives with other bytes than were declared: the inspector must catch it.
    await page.route(/\/sessions\/[^/]+\/files\/[^/?]+/, (route) =>
      route.request().method() === 'PUT' ? route.continue({ postData: Buffer.from('not the declared file') }) : route.continue(),
    );
    await giveConsentAndStart(page);
    expect(await resultStatus(page)).toBe('REJECTED');
    const reasons = page.locator('ul.reasons li');
    expect(await reasons.count()).toBeGreaterThan(0);
    const text = (await reasons.allTextContents()).join('\n');
    expect(text).toContain('CT_small.dcm');
    expect(text).toContain('The uploaded file has a different size than the one that was declared.');
    await screenshot(page, '18-rejected');
    await expectAccessible(page, 'rejected');
    await page.context().close();
  });

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

  it('no script errors and nothing blocked by the Content-Security-Policy on any page', () => {
    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
  });
});
