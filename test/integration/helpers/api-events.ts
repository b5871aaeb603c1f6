/**
 * Builds API Gateway HTTP API (payload v2) events the way API Gateway delivers them, so tests call
 * the real entry-file handlers without a server, and reads their responses.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

export interface ApiCall {
  method: 'GET' | 'POST' | 'DELETE' | 'PUT' | 'PATCH';
  /** The concrete path, e.g. /sessions/abc/uploads. */
  path: string;
  /** The route template, e.g. /sessions/{id}/uploads (for routeKey). */
  route?: string;
  pathParameters?: Record<string, string>;
  /** A value is JSON-encoded; a string is sent as is. */
  body?: unknown;
  rawBody?: string;
  isBase64Encoded?: boolean;
  token?: string;
  headers?: Record<string, string>;
  sourceIp?: string;
  /** Query string parameters, as API Gateway parses them. */
  query?: Record<string, string>;
}

export function apiEvent(call: ApiCall): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...call.headers };
  if (call.token !== undefined) headers.authorization = `Bearer ${call.token}`;
  const body = call.rawBody ?? (call.body === undefined ? undefined : JSON.stringify(call.body));
  const requestId = randomUUID();
  return {
    version: '2.0',
    routeKey: `${call.method} ${call.route ?? call.path}`,
    rawPath: call.path,
    rawQueryString: new URLSearchParams(call.query ?? {}).toString(),
    headers,
    pathParameters: call.pathParameters,
    ...(call.query ? { queryStringParameters: call.query } : {}),
    body,
    isBase64Encoded: call.isBase64Encoded ?? false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: { method: call.method, path: call.path, protocol: 'HTTP/1.1', sourceIp: call.sourceIp ?? '192.0.2.10', userAgent: 'vitest' },
      requestId,
      routeKey: `${call.method} ${call.route ?? call.path}`,
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
  };
}

export interface ApiResponse<T = any> {
  status: number;
  headers: Record<string, string>;
  body: T;
}

/** Decodes a handler result; the body is parsed JSON (undefined for 204). */
export function readResult<T = any>(result: APIGatewayProxyStructuredResultV2): ApiResponse<T> {
  const text = result.body ?? '';
  return {
    status: result.statusCode ?? 200,
    headers: Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)])),
    body: (text ? JSON.parse(text) : undefined) as T,
  };
}
