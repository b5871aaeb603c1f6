/**
 * For AWS services with no emulator (HealthImaging, Secrets Manager): a request handler for a real
 * SDK client that records each signed HTTP request exactly as it would go out and answers with a
 * canned AWS response. The client's own serializers, signer and deserializers all run.
 */
import { HttpResponse, type HttpRequest } from '@smithy/protocol-http';
import { Readable } from 'node:stream';

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
