/**
 * The real API on the emulators answers a broken rule in the language of Accept-Language (q-values
 * honoured), with the same code; English when no offered language matches.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { message } from '../../lambdas/core/messages';
import { attachmentFile, startApi, type ApiHarness } from './helpers/api';

let api: ApiHarness;
beforeAll(async () => {
  api = await startApi('api-languages');
});
afterAll(async () => api?.close());

describe('Accept-Language', () => {
  it('a rule violation comes back in the best offered language, English otherwise', async () => {
    const { sessionId, token } = await api.openSession(await api.issueCode({}));
    const files = [attachmentFile(undefined, 1000)];
    const ask = (acceptLanguage?: string) =>
      api.invoke({ method: 'POST', path: `/sessions/${sessionId}/uploads`, token, body: { files }, ...(acceptLanguage ? { headers: { 'accept-language': acceptLanguage } } : {}) });

    for (const [header, language] of [
      ['nl-NL,nl;q=0.9,en;q=0.8', 'nl'],
      ['en;q=0.3, fr;q=0.7, de;q=0.5', 'fr'],
      ['de', 'de'],
      ['pt-BR, es;q=0.8', 'en'],
      [undefined, 'en'],
    ] as const) {
      const res = await ask(header);
      expect(res.status, header).toBe(422);
      expect(res.body.error.code).toBe('ATTACHMENT_WITHOUT_DICOM');
      expect(res.body.error.message, header).toBe(message('ATTACHMENT_WITHOUT_DICOM', [], language));
    }
  });
});
