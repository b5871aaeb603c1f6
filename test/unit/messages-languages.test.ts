/**
 * The one catalog in every language the portal offers, and the choice of language from
 * Accept-Language (RFC 9110 §12.5.4: q-values, language ranges, `*`), English when none matches.
 */
import { describe, expect, it } from 'vitest';
import { RuleViolationError, UnauthorizedError } from '../../lambdas/core/errors';
import { catalogs, LANGUAGES, MESSAGE_CODES, message, negotiateLanguage } from '../../lambdas/core/messages';
import { evaluateSelection } from '../../lambdas/core/rules';
import { errorResponse, httpRoute, type ApiEvent } from '../../lambdas/runtime/http';
import { createObservability } from '../../lambdas/runtime/observability';

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('the catalog', () => {
  it('has every code in every language, with the English placeholders', () => {
    for (const language of LANGUAGES) {
      expect(Object.keys(catalogs[language]).sort(), language).toEqual([...MESSAGE_CODES].sort());
      for (const code of MESSAGE_CODES) expect(placeholders(catalogs[language][code]), `${language} ${code}`).toEqual(placeholders(catalogs.en[code]));
    }
  });

  it('lists only codes something produces', () => {
    expect(MESSAGE_CODES).not.toContain('FILE_MISSING');
    expect(MESSAGE_CODES).toContain('ATTACHMENT_WITHOUT_DICOM');
  });
});

describe('negotiateLanguage', () => {
  it.each([
    [undefined, 'en'],
    ['', 'en'],
    ['nl', 'nl'],
    ['nl-BE', 'nl'],
    ['DE-at', 'de'],
    ['fr-CH, fr;q=0.9, en;q=0.8', 'fr'],
    ['en;q=0.5, de;q=0.9', 'de'],
    ['de;q=0.7, nl;q=0.7', 'de'],
    ['es, it;q=0.9', 'en'],
    ['es, nl;q=0.1', 'nl'],
    ['nl;q=0, fr;q=0.2', 'fr'],
    ['*', 'en'],
    ['de;q=abc, fr;q=0.5', 'fr'],
    ['garbage;;;,,', 'en'],
  ])('%j → %s', (header, expected) => {
    expect(negotiateLanguage(header)).toBe(expected);
  });
});

describe('the API answers in the language asked for', () => {
  const event = (acceptLanguage?: string) =>
    ({ headers: acceptLanguage ? { 'accept-language': acceptLanguage } : {}, requestContext: { requestId: 'r1', http: { sourceIp: '192.0.2.1' } } }) as unknown as ApiEvent;
  const observability = createObservability({ logLevel: 'SILENT', metrics: false });
  const limits = { maxSessionBytes: 1000, maxStudyBytes: 1000, maxDicomFilesAtOnce: 10, maxAttachmentsPerStudy: 10, maxAttachmentBytes: 100, allowedAttachmentTypes: ['pdf' as const] };
  const violations = evaluateSelection([{ id: 'a', kind: 'attachment', size: 500, attachmentType: 'pdf' }], limits).violations;

  it('translates a rule violation (with its parameters) and keeps the code', async () => {
    const route = httpRoute('Test', observability, async () => {
      throw new RuleViolationError(violations);
    });
    const answer = JSON.parse((await route(event('fr-CH;q=0.4, de;q=0.8'))).body!);
    expect(answer.error.code).toBe('ATTACHMENT_WITHOUT_DICOM');
    expect(answer.error.message).toBe(message('ATTACHMENT_WITHOUT_DICOM', [], 'de'));
    const tooLarge = answer.error.details.violations.find((v: { code: string }) => v.code === 'ATTACHMENT_TOO_LARGE');
    expect(tooLarge.message).toBe(message('ATTACHMENT_TOO_LARGE', ['100 bytes'], 'de'));
    expect(tooLarge.message).toContain('100 bytes');
    expect(tooLarge).not.toHaveProperty('params');
  });

  it('translates API errors, and answers English when no language matches', async () => {
    expect(JSON.parse(errorResponse(new UnauthorizedError('INVALID_CODE'), 'nl').body!).error.message).toBe(message('INVALID_CODE', [], 'nl'));
    const route = httpRoute('Test', observability, async () => {
      throw new UnauthorizedError();
    });
    expect(JSON.parse((await route(event('es, it'))).body!).error.message).toBe(message('UNAUTHORIZED'));
    expect(JSON.parse((await route(event())).body!).error.message).toBe(message('UNAUTHORIZED'));
  });
});
