/** The portal's completion: a 202 COMPLETING answer is followed by polls of the session summary until it is decided. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiClient, ApiError, type CompleteRequest } from '../../web/src/api';
import { completeAndWait } from '../../web/src/store/completion';

/** An API that answers each call with the next scripted (status, body), recording method and path. */
function scriptedApi(answers: [number, unknown][]) {
  const calls: string[] = [];
  const fetchFn = async (input: string, init?: RequestInit) => {
    calls.push(`${init?.method ?? 'GET'} ${new URL(input).pathname}`);
    const [status, body] = answers.shift() ?? [500, {}];
    return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  };
  return { client: new ApiClient('http://api.test', fetchFn), calls };
}

const BODY: CompleteRequest = { studies: [], contact: {}, consent: { privacyPolicy: true, dataSharing: true } };

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('completeAndWait', () => {
  it('returns a decided answer at once', async () => {
    const { client, calls } = scriptedApi([[200, { sessionId: 's1', status: 'ACCEPTED' }]]);
    expect((await completeAndWait(client, 's1', BODY)).status).toBe('ACCEPTED');
    expect(calls).toEqual(['POST /sessions/s1/complete']);
  });

  it('after 202 COMPLETING polls GET until the outcome shows, and returns the view with its reasons', async () => {
    const { client, calls } = scriptedApi([
      [202, { sessionId: 's1', status: 'COMPLETING' }],
      [200, { status: 'COMPLETING', files: [] }],
      [200, { status: 'REJECTED', files: [], rejection: [{ code: 'SESSION_SIZE_LIMIT', message: 'x' }] }],
    ]);
    const done = completeAndWait(client, 's1', BODY);
    await vi.advanceTimersByTimeAsync(2500);
    const answer = await done;
    expect(answer.status).toBe('REJECTED');
    expect(answer.rejection).toEqual([{ code: 'SESSION_SIZE_LIMIT', message: 'x' }]);
    expect(calls).toEqual(['POST /sessions/s1/complete', 'GET /sessions/s1', 'GET /sessions/s1']);
  });

  it('asks again when the session is OPEN once more, and the refusal reaches the caller', async () => {
    const { client, calls } = scriptedApi([
      [202, { sessionId: 's1', status: 'COMPLETING' }],
      [200, { status: 'OPEN', files: [] }],
      [400, { error: { code: 'BAD_REQUEST', message: 'A study in the request is not part of this upload.' } }],
    ]);
    const done = completeAndWait(client, 's1', BODY).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(1500);
    const error = await done;
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(400);
    expect(calls).toEqual(['POST /sessions/s1/complete', 'GET /sessions/s1', 'POST /sessions/s1/complete']);
  });
});
