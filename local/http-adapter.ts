/**
 * Local mode's stand-in for API Gateway (HTTP API, payload format 2.0): matches a Node request
 * against the shared route table, builds the v2 event the Lambda handlers get in AWS, and writes
 * their result back. Handlers cannot tell the difference, which is the point.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { apiRoutes, type ApiRoute } from '../lambdas/runtime/routes';
import { message } from '../lambdas/core/messages';
import { SECURITY_HEADERS } from '../lambdas/core/security-headers';

export type ApiHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyResultV2>;

/** API Gateway's own payload limit; larger bodies never reach a Lambda. */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;

interface CompiledRoute {
  route: ApiRoute;
  pattern: RegExp;
  params: string[];
}

function compile(route: ApiRoute): CompiledRoute {
  const params: string[] = [];
  const source = route.path
    .split('/')
    .map((segment) => {
      const param = /^\{(\w+)\}$/.exec(segment);
      if (!param) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      params.push(param[1]!);
      return '([^/]+)';
    })
    .join('/');
  return { route, pattern: new RegExp(`^${source}$`), params };
}

export interface MatchedRoute {
  route: ApiRoute;
  pathParameters: Record<string, string>;
}

export type RouteMatch = MatchedRoute | { methodNotAllowed: true } | null;

/** Finds the route for a method and a path without the API prefix, as API Gateway does. */
export function createRouteMatcher(routes: readonly ApiRoute[] = apiRoutes): (method: string, path: string) => RouteMatch {
  const compiled = routes.map(compile);
  return (method, path) => {
    let pathMatched = false;
    for (const { route, pattern, params } of compiled) {
      const match = pattern.exec(path);
      if (!match) continue;
      pathMatched = true;
      if (route.method !== method) continue;
      const pathParameters: Record<string, string> = {};
      try {
        params.forEach((name, i) => (pathParameters[name] = decodeURIComponent(match[i + 1]!)));
      } catch {
        return null; // a malformed percent-escape matches nothing, as in API Gateway
      }
      return { route, pathParameters };
    }
    return pathMatched ? { methodNotAllowed: true } : null;
  };
}

/** API Gateway passes these content types as text and base64-encodes everything else. */
function isTextual(contentType: string | undefined): boolean {
  if (!contentType) return true;
  return /^(text\/|application\/(json|[\w.+-]+\+json|xml|[\w.+-]+\+xml|javascript|x-www-form-urlencoded))/i.test(contentType);
}

export interface EventOptions {
  /** Path without the API prefix, e.g. `/sessions/abc`. */
  rawPath: string;
  rawQueryString: string;
  match: MatchedRoute;
  body: Buffer;
  sourceIp: string;
  requestId?: string;
  now?: Date;
}

/** Builds the HTTP API v2 event for a request: lower-cased headers, cookies apart, body as text or base64. */
export function toApiGatewayEvent(req: IncomingMessage, opts: EventOptions): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!.toLowerCase();
    const value = req.rawHeaders[i + 1]!;
    if (name === 'cookie') {
      cookies = [...(cookies ?? []), ...value.split(';').map((c) => c.trim()).filter(Boolean)];
      continue;
    }
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  const queryStringParameters: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(opts.rawQueryString)) {
    queryStringParameters[key] = queryStringParameters[key] === undefined ? value : `${queryStringParameters[key]},${value}`;
  }
  const now = opts.now ?? new Date();
  const text = isTextual(headers['content-type']);
  const method = (req.method ?? 'GET').toUpperCase();
  const routeKey = `${opts.match.route.method} ${opts.match.route.path}`;
  const requestId = opts.requestId ?? randomUUID();
  return {
    version: '2.0',
    routeKey,
    rawPath: opts.rawPath,
    rawQueryString: opts.rawQueryString,
    ...(cookies ? { cookies } : {}),
    headers,
    ...(Object.keys(queryStringParameters).length ? { queryStringParameters } : {}),
    ...(Object.keys(opts.match.pathParameters).length ? { pathParameters: opts.match.pathParameters } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: (headers.host ?? 'localhost').split('.')[0]!,
      http: {
        method,
        path: opts.rawPath,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: opts.sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey,
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
    ...(opts.body.length ? { body: text ? opts.body.toString('utf8') : opts.body.toString('base64') } : {}),
    isBase64Encoded: opts.body.length > 0 && !text,
  };
}

/** A minimal Lambda context: enough for Powertools' logger and for handlers that read the request id. */
export function lambdaContext(functionName: string, requestId: string, timeoutMs = 29_000): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** Writes a handler's v2 result back, including the shorthand results API Gateway accepts. */
export function writeApiResult(res: ServerResponse, result: APIGatewayProxyResultV2): void {
  if (typeof result === 'string' || result === null || result === undefined || typeof result !== 'object' || !('statusCode' in result)) {
    // Payload v2: a result without statusCode is a 200 with the value as a JSON body.
    const body = typeof result === 'string' ? result : JSON.stringify(result ?? null);
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'application/json' });
    res.end(body);
    return;
  }
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name.toLowerCase()] = String(value);
  if (result.cookies?.length) headers['set-cookie'] = result.cookies;
  const body = result.body === undefined ? Buffer.alloc(0) : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8');
  if (body.length && !headers['content-type']) headers['content-type'] = 'application/json';
  headers['content-length'] = String(body.length);
  res.writeHead(result.statusCode ?? 200, headers);
  res.end(body);
}

function writeError(res: ServerResponse, status: number, code: string, text: string): void {
  const body = JSON.stringify({ error: { code, message: text } });
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > limit) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export interface ApiAdapterOptions {
  /** The handler per route id (apiRoutes[].id). */
  handlers: Record<string, ApiHandler>;
  /** Called when a handler throws: API Gateway answers 500 then, and so do we. */
  onHandlerError?: (error: unknown, route: ApiRoute) => void;
  routes?: readonly ApiRoute[];
}

/**
 * Returns a request listener for the API. `path` is the request path with the `/api` prefix
 * already removed. Resolves once the response is written, so callers can count in-flight requests.
 */
export function createApiAdapter(opts: ApiAdapterOptions) {
  const match = createRouteMatcher(opts.routes);
  for (const route of opts.routes ?? apiRoutes) {
    if (!opts.handlers[route.id]) throw new Error(`local API: no handler wired for route ${route.id}`);
  }
  return async (req: IncomingMessage, res: ServerResponse, path: string, rawQueryString: string): Promise<void> => {
    const method = (req.method ?? 'GET').toUpperCase();
    const found = match(method, path);
    if (!found) return writeError(res, 404, 'NOT_FOUND', message('NOT_FOUND'));
    if ('methodNotAllowed' in found) return writeError(res, 404, 'NOT_FOUND', message('NOT_FOUND'));
    const body = await readBody(req, MAX_BODY_BYTES);
    if (body === null) {
      res.setHeader('connection', 'close');
      return writeError(res, 413, 'INVALID_REQUEST', 'The request body is too large.');
    }
    const requestId = randomUUID();
    const event = toApiGatewayEvent(req, {
      rawPath: path,
      rawQueryString,
      match: found,
      body,
      sourceIp: (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
      requestId,
    });
    let result: APIGatewayProxyResultV2;
    try {
      result = await opts.handlers[found.route.id]!(event, lambdaContext(found.route.id, requestId));
    } catch (error) {
      opts.onHandlerError?.(error, found.route);
      return writeError(res, 500, 'INTERNAL', message('INTERNAL'));
    }
    writeApiResult(res, result);
  };
}
