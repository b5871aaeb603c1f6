import { describe, expect, it } from 'vitest';
import { importJobToken, IMPORT_TOKEN_MAX_LENGTH } from '../../lambdas/core/delivery/import-job-token';
import { ID_PATTERN } from '../../lambdas/core/limits';

/** AWS HealthImaging API reference, StartDICOMImportJob: clientToken and jobName, 1 to 64 characters each. */
const CLIENT_TOKEN = /^[A-Za-z0-9._-]{1,64}$/;
const JOB_NAME = /^[A-Za-z0-9._/#-]{1,64}$/;

/** The longest session id the API accepts (limits.ts), of the characters base64url ids use. */
const LONGEST_SESSION_ID = 'A-_z'.repeat(16);
const REF = '0123456789abcdef';

describe('StartDICOMImportJob clientToken and jobName', () => {
  it('keeps the readable token when it fits (the 22-character ids the portal issues)', async () => {
    const sessionId = 'Zx9_-Q2bK7mN4pR8sT1uVw';
    expect(await importJobToken({ sessionId, studyRef: REF, chunk: 0, attempt: 1 })).toBe(`${sessionId}-${REF}`);
    expect(await importJobToken({ sessionId, studyRef: REF, chunk: 19, attempt: 3 })).toBe(`${sessionId}-${REF}-j19-3`);
  });

  it('fits both of AWS\'s patterns with the longest session id, the largest chunk and attempt, and stays deterministic', async () => {
    expect(LONGEST_SESSION_ID).toMatch(ID_PATTERN);
    expect(LONGEST_SESSION_ID).toHaveLength(64);
    const identity = { sessionId: LONGEST_SESSION_ID, studyRef: REF, chunk: 99_999, attempt: 99 };
    const token = await importJobToken(identity);
    expect(token.length).toBeLessThanOrEqual(IMPORT_TOKEN_MAX_LENGTH);
    expect(token).toMatch(CLIENT_TOKEN);
    expect(token).toMatch(JOB_NAME);
    expect(await importJobToken({ ...identity })).toBe(token);
  });

  it('is distinct per session, study, chunk and attempt, readable and hashed alike', async () => {
    const tokens = new Set<string>();
    const sessions = [LONGEST_SESSION_ID, `${LONGEST_SESSION_ID.slice(0, 63)}B`, 'Zx9_-Q2bK7mN4pR8sT1uVw', 'a'];
    for (const sessionId of sessions) {
      for (const studyRef of [REF, 'fedcba9876543210']) {
        for (const chunk of [0, 1, 10, 12_345]) {
          for (const attempt of [1, 2, 3]) {
            const token = await importJobToken({ sessionId, studyRef, chunk, attempt });
            expect(token).toMatch(CLIENT_TOKEN);
            tokens.add(token);
          }
        }
      }
    }
    expect(tokens.size).toBe(sessions.length * 2 * 4 * 3);
  });

  it('never gives a hashed token the length of a readable one', async () => {
    // A readable token of exactly 64 characters would be valid but could equal some hash: it is hashed too.
    const sessionId = 'S'.repeat(64 - 1 - REF.length);
    const token = await importJobToken({ sessionId, studyRef: REF, chunk: 0, attempt: 1 });
    expect(token).not.toBe(`${sessionId}-${REF}`);
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect(await importJobToken({ sessionId: sessionId.slice(1), studyRef: REF, chunk: 0, attempt: 1 })).toBe(`${sessionId.slice(1)}-${REF}`);
  });
});
