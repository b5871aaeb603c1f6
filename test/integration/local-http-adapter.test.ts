/**
 * Local mode's API Gateway stand-in, over a real Node HTTP server: the v2 event handlers receive
 * (routeKey, rawPath without /api, path parameters, lower-cased headers, body as text or base64,
 * request context) and how results and failures come back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { createApiAdapter, createRouteMatcher, MAX_BODY_BYTES, type ApiHandler } from '../../local/http-adapter';
import { apiRoutes } from '../../lambdas/runtime/routes';

const seen: APIGatewayProxyEventV2[] = [];
const echo: ApiHandler = async (event) => {
  seen.push(event);
  return { statusCode: 200, headers: { 'Content-Type': 'application/json', 'X-Route': event.routeKey }, body: JSON.stringify({ ok: true }) };
};
const handlers = Object.fromEntries(apiRoutes.map((r) => [r.id, echo]));
handlers.RemoveFile = async () => ({ statusCode: 204 });
handlers.IssueUploadCode = async () => {
  throw new Error('boom');
};
handlers.CreateSession = async () => ({ sessionId: 'plain-object' }) as never;

let server: Server;
let base: string;
const handlerErrors: string[] = [];

beforeAll(async () => {
  const api = createApiAdapter({ handlers, onHandlerError: (e, route) => handlerErrors.push(`${route.id}: ${(e as Error).message}`) });
  server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    void api(req, res, url.pathname.replace(/^\/api/, ''), url.search.slice(1));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/api`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('local API adapter', () => {
  it('builds the HTTP API v2 event the handlers get on AWS', async () => {
    seen.length = 0;
    const response = await fetch(`${base}/sessions/abc%2Fdef/uploads?x=1&x=2`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: 'Bearer t0k', Cookie: 'a=1; b=2' },
      body: JSON.stringify({ files: [] }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-route')).toBe('POST /sessions/{id}/uploads');
    const event = seen[0]!;
    expect(event.version).toBe('2.0');
    expect(event.routeKey).toBe('POST /sessions/{id}/uploads');
    expect(event.rawPath).toBe('/sessions/abc%2Fdef/uploads');
    expect(event.rawQueryString).toBe('x=1&x=2');
    expect(event.queryStringParameters).toEqual({ x: '1,2' });
    expect(event.pathParameters).toEqual({ id: 'abc/def' });
    expect(event.headers.authorization).toBe('Bearer t0k');
    expect(event.headers['content-type']).toBe('application/json');
    expect(event.headers.cookie).toBeUndefined();
    expect(event.cookies).toEqual(['a=1', 'b=2']);
    expect(event.isBase64Encoded).toBe(false);
    expect(JSON.parse(event.body!)).toEqual({ files: [] });
    expect(event.requestContext.http).toMatchObject({ method: 'POST', path: '/sessions/abc%2Fdef/uploads', sourceIp: '127.0.0.1' });
    expect(event.requestContext.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(event.requestContext.stage).toBe('$default');
  });

  it('base64-encodes bodies that are not text, as API Gateway does', async () => {
    seen.length = 0;
    const bytes = Buffer.from([0, 1, 2, 255]);
    await fetch(`${base}/sessions/s1/complete`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: bytes });
    expect(seen[0]!.isBase64Encoded).toBe(true);
    expect(Buffer.from(seen[0]!.body!, 'base64').equals(bytes)).toBe(true);
  });

  it('answers unknown routes and wrong methods with our 404 error shape, without calling a handler', async () => {
    seen.length = 0;
    for (const [method, path] of [['GET', '/nope'], ['PUT', '/sessions/s1'], ['GET', '/sessions/s1/files/f1'], ['GET', '/sessions/%E0%A4%A']]) {
      const response = await fetch(`${base}${path}`, { method });
      expect(response.status, `${method} ${path}`).toBe(404);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
    }
    expect(seen).toHaveLength(0);
  });

  it('refuses bodies over the API Gateway limit with 413, and maps a thrown handler to a 500 that reveals nothing', async () => {
    const big = await fetch(`${base}/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(MAX_BODY_BYTES + 1) });
    expect(big.status).toBe(413);
    const thrown = await fetch(`${base}/admin/upload-codes`, { method: 'POST', body: '{}' });
    expect(thrown.status).toBe(500);
    const body = await thrown.text();
    expect(body).not.toMatch(/boom/);
    expect(handlerErrors).toEqual(['IssueUploadCode: boom']);
  });

  it('writes empty results and v2 shorthand results (an object without statusCode is a 200 JSON body)', async () => {
    const removed = await fetch(`${base}/sessions/s1/files/f1`, { method: 'DELETE' });
    expect(removed.status).toBe(204);
    expect(await removed.text()).toBe('');
    const shorthand = await fetch(`${base}/sessions`, { method: 'POST', body: '{}' });
    expect(shorthand.status).toBe(200);
    expect(await shorthand.json()).toEqual({ sessionId: 'plain-object' });
  });

  it('matches every route in the shared table and nothing else', () => {
    const match = createRouteMatcher();
    for (const route of apiRoutes) {
      const path = route.path.replace(/\{(\w+)\}/g, 'x1');
      const found = match(route.method, path);
      expect(found && 'route' in found ? found.route.id : null).toBe(route.id);
    }
    expect(match('GET', '/sessions/a/b')).toBeNull();
    expect(match('GET', '/sessions/')).toBeNull();
  });
});
