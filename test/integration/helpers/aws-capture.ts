/**
 * For AWS services with no emulator (HealthImaging, Secrets Manager): a request handler for a real
 * SDK client that records each signed HTTP request exactly as it would go out and answers with a
 * canned AWS response. The client's own serializers, signer and deserializers all run.
 */
import { HttpResponse, type HttpRequest } from '@smithy/protocol-http';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

export interface CapturedRequest {
  method: string;
  path: string;
  /** Lower-case header names as signed, plus `host`. */
  headers: Record<string, string>;
  body: string;
}

export type CannedAnswer = { status: number; body: unknown };

export function recordingHandler(answer: (request: CapturedRequest) => CannedAnswer) {
  const requests: CapturedRequest[] = [];
  const handler = {
    async handle(request: HttpRequest) {
      const body = typeof request.body === 'string' ? request.body : request.body ? Buffer.from(request.body as Uint8Array).toString('utf8') : '';
      const captured = { method: request.method, path: request.path, headers: { ...request.headers, host: request.hostname }, body };
      requests.push(captured);
      const reply = answer(captured);
      const errorType: Record<string, string> = reply.status >= 400 ? { 'x-amzn-errortype': String((reply.body as { __type?: string }).__type) } : {};
      return {
        response: new HttpResponse({
          statusCode: reply.status,
          headers: { 'content-type': 'application/x-amz-json-1.1', ...errorType },
          body: Readable.from([Buffer.from(JSON.stringify(reply.body))]),
        }),
      };
    },
  };
  return { handler: handler as never, requests };
}

/**
 * A recording PutEvents endpoint with faults on demand: it answers 500 while `failures` lasts (a client with one
 * attempt then gives up), and takes `delayMs` to answer (long enough for a second run to meet the first one's claim).
 */
export function faultyEventBridge() {
  const recorded = recordingHandler(() =>
    bus.failures-- > 0 ? { status: 500, body: { __type: 'InternalException', message: 'injected' } } : { status: 200, body: { FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] } },
  );
  const inner = recorded.handler as { handle(request: HttpRequest): Promise<unknown> };
  const bus = {
    failures: 0,
    delayMs: 0,
    requests: recorded.requests,
    handler: { handle: async (request: HttpRequest) => (await sleep(bus.delayMs), inner.handle(request)) } as never,
    reset() {
      bus.failures = 0;
      bus.delayMs = 0;
    },
  };
  return bus;
}
