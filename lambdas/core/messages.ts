/**
 * The one message catalog, keyed by error code, in every language the portal offers. English is
 * the reference language: its rule texts are fixed by DESIGN.md and must not change. Each other
 * language (./messages/<language>.ts) has every code, with the same placeholders. The server
 * answers in the language of Accept-Language; the portal in the one the user picks.
 */
import { de } from './messages/de';
import { fr } from './messages/fr';
import { nl } from './messages/nl';

export const en = {
  // Product rules (DESIGN.md "Rules"): exact texts.
  ATTACHMENT_WITHOUT_DICOM: 'You can only upload non-DICOM files if you also upload at least one DICOM file',
  SESSION_SIZE_LIMIT: 'Total file size exceeds the limit',
  SESSION_SIZE_LIMIT_NEW_CODE: 'Total file size exceeds the limit. Remove studies, or request a new upload code for the remaining studies.',
  STUDY_SIZE_LIMIT:
    'A single study is larger than the limit of {0} for this upload code. It cannot be uploaded unless the hospital allows larger studies for this code.',
  UNLINKED_ATTACHMENTS: 'Please add the following files to a study or remove them',
  ATTACHMENT_LIMIT:
    "Currently added '{x}' non-DICOM files. Adding these would surpass the maximum of {max} non-DICOM files that can be added to a study.",
  DICOM_BATCH_LIMIT: 'At most {0} DICOM files can be uploaded at once.',
  ADD_SELECTED_TO_STUDY: 'Add {0} selected files to study',
  // Our own rules.
  ATTACHMENT_TYPE_NOT_ALLOWED: 'This type of file cannot be uploaded. Allowed non-DICOM files: {0}.',
  ATTACHMENT_TOO_LARGE: 'A non-DICOM file may be at most {0}.',
  DUPLICATE_SOP_INSTANCE: 'This DICOM image was already added to the upload.',
  ATTACHMENT_STUDY_UNKNOWN: 'The study this file is linked to is not part of the upload.',
  // Inspection verdicts (a reason per file).
  NOT_DICOM: 'The file is not a readable DICOM file.',
  DICOMDIR_NOT_ALLOWED: 'A DICOMDIR is an index of a CD or DVD, not an image, and is not uploaded.',
  EXECUTABLE_PREAMBLE: 'The file contains a hidden program at its start and is not accepted. Export the images again from the imaging software or CD.',
  NOT_PART10: 'The file holds DICOM data without the DICOM file header and is not accepted. Export the images again as DICOM files from the imaging software or CD.',
  STUDY_MISMATCH: 'The file belongs to a different study than the one it was added to.',
  SOP_MISMATCH: 'The file is a different DICOM image than the one that was declared.',
  SIZE_MISMATCH: 'The uploaded file has a different size than the one that was declared.',
  ATTACHMENT_TYPE_MISMATCH: 'The uploaded file is not of an allowed type (PDF, JPEG or PNG).',
  DICOM_TRUNCATED: 'The DICOM file is incomplete: it ends before its image data does.',
  MALWARE_FOUND: 'The hospital\'s virus scan did not pass this file, so the upload was stopped and the files sent were deleted. Check your computer for viruses, then contact the hospital.',
  UNDECLARED_OBJECT: 'A file arrived that was never announced for this upload.',
  OBJECT_REPLACED: 'The file was uploaded again with different content after it was checked.',
  // API errors.
  INVALID_REQUEST: 'The request is not valid.',
  UNSUPPORTED_MEDIA_TYPE: 'The request body must be sent as JSON (Content-Type: application/json).',
  INVALID_CODE: 'This upload code is not valid. It may be mistyped, used, expired or revoked. Please contact the hospital.',
  UNAUTHORIZED: 'Your session has ended or is not valid. Enter your upload code again.',
  NOT_FOUND: 'Not found.',
  RATE_LIMITED: 'Too many attempts. Please wait a few minutes and try again.',
  SESSION_NOT_OPEN: 'This upload can no longer be changed.',
  SESSION_REVOKED: 'The hospital has withdrawn this upload code. The upload was stopped and the files sent were deleted. Please contact the hospital.',
  SESSION_BUSY: 'Another change to this upload is in progress. Please try again.',
  FILES_PENDING: 'Some files have not arrived or have not been checked yet.',
  CONSENT_REQUIRED: 'Please accept the privacy policy and give consent before uploading.',
  SESSION_REJECTED: 'The upload was rejected.',
  COMPLETION_IN_PROGRESS: 'The upload is being finished. Please wait a moment and try again.',
  NOTHING_TO_UPLOAD: 'Add at least one DICOM file before finishing the upload.',
  FILE_ALREADY_RECEIVED: 'This file has already arrived.',
  FILE_NOT_PENDING: 'This file is no longer waiting for its upload.',
  FILE_WITHOUT_CHECKSUM: 'This file was added without its checksum. Remove it and add it again.',
  NOT_MULTIPART: 'This file is not uploaded in parts; ask for its upload URL instead.',
  UPLOAD_GONE: 'The upload of this file was abandoned. Remove the file and add it again.',
  PARTS_MISMATCH: 'The parts sent do not make up the file.',
  INTERNAL: 'Something went wrong on our side. Please try again later.',
} as const;

export type MessageCode = keyof typeof en;
export type Catalog = Record<MessageCode, string>;

/** The languages the portal offers and the API answers in; English first (the default). */
export const LANGUAGES = ['en', 'nl', 'de', 'fr'] as const;
export type Language = (typeof LANGUAGES)[number];

export const catalogs: Record<Language, Catalog> = { en, nl, de, fr };

/** Every code the catalog defines (each is produced somewhere; the portal derives its lists from this). */
export const MESSAGE_CODES = Object.keys(en) as MessageCode[];

export function isMessageCode(code: unknown): code is MessageCode {
  return typeof code === 'string' && Object.hasOwn(en, code);
}

/** True when the code's text has placeholders, i.e. it cannot be rendered again without its parameters. */
export function hasParameters(code: MessageCode): boolean {
  return /\{\w+\}/.test(en[code]);
}

/**
 * The offered language an Accept-Language header prefers (RFC 9110 §12.5.4): the highest q-value
 * wins, the earlier range on a tie; `nl-BE` matches `nl`; q=0 refuses. English when none matches.
 */
export function negotiateLanguage(header: string | undefined): Language {
  let best: { language: Language; q: number } | undefined;
  for (const part of (header ?? '').split(',')) {
    const [range = '', ...params] = part.split(';').map((p) => p.trim().toLowerCase());
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    if (!(q > 0 && q <= 1)) continue;
    const language = range === '*' ? 'en' : LANGUAGES.find((l) => l === range.split('-')[0]);
    if (language && (!best || q > best.q)) best = { language, q };
  }
  return best?.language ?? 'en';
}

/** Fills `{0}`, `{1}`… from an array or `{name}` from an object. Unknown placeholders stay as written. */
export function formatMessage(template: string, params: readonly unknown[] | Record<string, unknown> = []): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => {
    const value = Array.isArray(params) ? params[Number(key)] : (params as Record<string, unknown>)[key];
    return value === undefined ? whole : String(value);
  });
}

/** The message for `code` in `language` (English when that language lacks it), formatted. */
export function message(code: MessageCode, params?: readonly unknown[] | Record<string, unknown>, language: Language = 'en'): string {
  const template = catalogs[language][code];
  return formatMessage(template, params);
}

/** Human-readable size, e.g. 10 GB, 512 MB (decimal units, as hospitals state limits). */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  const text = unit === 0 ? String(value) : value.toFixed(value >= 100 || Number.isInteger(value) ? 0 : 1);
  return `${text} ${units[unit]}`;
}
