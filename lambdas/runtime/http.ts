/**
 * The one place that shapes HTTP API responses: JSON bodies, the error shape
 * `{ error: { code, message, details? } }`, typed errors mapped to status by `instanceof`, and the
 * edge parsing of bodies, path parameters and bearer tokens (bad input is always a 400, never a 500).
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { z } from 'zod';
import {
  AppError,
  BadRequestError,
  ConflictError,
  NotFoundError,
  RateLimitedError,
  RuleViolationError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
} from '../core/errors';
import { message, negotiateLanguage, type Language } from '../core/messages';
import { SECURITY_HEADERS } from '../core/security-headers';
import type { Observability } from './observability';

export type ApiEvent = APIGatewayProxyEventV2;
export type ApiResult = APIGatewayProxyStructuredResultV2;
export type ApiHandler = (event: ApiEvent) => Promise<ApiResult>;

/** Upload requests carry at most a few dozen small entries; anything bigger is not ours. */
export const MAX_BODY_BYTES = 64 * 1024;

const baseHeaders = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  ...SECURITY_HEADERS,
};

export function jsonResponse(statusCode: number, body: unknown, headers: Record<string, string> = {}): ApiResult {
  return { statusCode, headers: { ...baseHeaders, ...headers }, body: JSON.stringify(body) };
}

export function noContent(): ApiResult {
  return { statusCode: 204, headers: { 'cache-control': 'no-store', ...SECURITY_HEADERS } };
}

function statusOf(error: AppError): number {
  if (error instanceof RuleViolationError) return 422;
  if (error instanceof BadRequestError) return 400;
  if (error instanceof UnsupportedMediaTypeError) return 415;
  if (error instanceof UnauthorizedError) return 401;
  if (error instanceof NotFoundError) return 404;
  if (error instanceof ConflictError) return 409;
  if (error instanceof RateLimitedError) return 429;
  // Any other deliberate domain error is about the request, not about us.
  return 400;
}

/** Maps any thrown value to a response in `language`; unknown errors become a 500 that reveals nothing. */
export function errorResponse(error: unknown, language: Language = 'en'): ApiResult {
  if (error instanceof AppError) {
    const details = error instanceof RuleViolationError ? { ...error.details, violations: error.violationsIn(language) } : error.details;
    const body = { error: { code: error.code, message: error.messageIn(language), ...(details ? { details } : {}) } };
    const headers: Record<string, string> = error instanceof RateLimitedError ? { 'retry-after': String(error.retryAfterSeconds) } : {};
    return jsonResponse(statusOf(error), body, headers);
  }
  return jsonResponse(500, { error: { code: 'INTERNAL', message: message('INTERNAL', [], language) } });
}

/** Turns schema issues into details without echoing the input (it may be PHI or enormous). */
function issuesOf(error: z.ZodError): { path: string; problem: string }[] {
  return error.issues.slice(0, 10).map((issue) => ({
    path: issue.path.map(String).join('.').slice(0, 100) || '(body)',
    problem: issue.message.slice(0, 200),
  }));
}

/**
 * Only `application/json` (parameters such as charset allowed): the content types a page elsewhere
 * can send without a CORS preflight (text/plain, forms) never reach a use case.
 */
function isJsonContentType(event: ApiEvent): boolean {
  const header = Object.entries(event.headers ?? {}).find(([name]) => name.toLowerCase() === 'content-type')?.[1] ?? '';
  return header.split(';')[0]!.trim().toLowerCase() === 'application/json';
}

/** Parses the JSON body against a strict schema. A body not sent as JSON → 415; base64, empty, bad JSON → 400. */
export function parseJsonBody<T>(event: ApiEvent, schema: z.ZodType<T>, options: { allowEmpty?: boolean } = {}): T {
  const raw = event.body ?? '';
  if (options.allowEmpty && raw.trim() === '') return parseWith(schema, {});
  if (raw.trim() !== '' && !isJsonContentType(event)) throw new UnsupportedMediaTypeError();
  // Check the size before decoding: base64 is 4/3 of the bytes it carries.
  if (raw.length > (event.isBase64Encoded ? Math.ceil((MAX_BODY_BYTES * 4) / 3) + 4 : MAX_BODY_BYTES)) {
    throw new BadRequestError(`The request body is larger than ${MAX_BODY_BYTES} bytes.`);
  }
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (Buffer.byteLength(text, 'utf8') > MAX_BODY_BYTES) throw new BadRequestError(`The request body is larger than ${MAX_BODY_BYTES} bytes.`);
  if (text.trim() === '') throw new BadRequestError('The request needs a JSON body.');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new BadRequestError('The request body is not valid JSON.');
  }
  return parseWith(schema, json);
}

/** Validates path parameters (ids are checked before any store is asked). */
export function parsePathParameters<T>(event: ApiEvent, schema: z.ZodType<T>): T {
  return parseWith(schema, event.pathParameters ?? {});
}

/** Validates the query string's parameters (a repeated one arrives comma-joined, as API Gateway joins it). */
export function parseQueryParameters<T>(event: ApiEvent, schema: z.ZodType<T>): T {
  return parseWith(schema, event.queryStringParameters ?? {});
}

function parseWith<T>(schema: z.ZodType<T>, input: unknown): T {
  const result = schema.safeParse(input);
  if (!result.success) throw new BadRequestError(undefined, { issues: issuesOf(result.error) });
  return result.data;
}

/** The bearer token of `Authorization` (the scheme in any case, RFC 7235); missing or malformed → 401. */
export function bearerToken(event: ApiEvent): string {
  const header = event.headers?.authorization ?? event.headers?.Authorization ?? '';
  const match = /^bearer +([A-Za-z0-9_-]{16,128})$/i.exec(header.trim());
  if (!match) throw new UnauthorizedError();
  return match[1]!;
}

/** The language the caller asked for (Accept-Language; API Gateway v2 lower-cases header names). */
export function requestLanguage(event: ApiEvent): Language {
  return negotiateLanguage(event.headers?.['accept-language']);
}

/** The caller's address as API Gateway saw it (never logged; hashed before it is stored). */
export function sourceIp(event: ApiEvent): string {
  return event.requestContext?.http?.sourceIp ?? 'unknown';
}

/**
 * Wraps a route: correlation id, one log line per request, error mapping, metrics flushed. Logs
 * carry the route, status and error code only: never bodies, headers, names or patient data.
 */
export function httpRoute(route: string, observability: Observability, run: ApiHandler): ApiHandler {
  const { logger } = observability;
  return async (event) => {
    const started = performance.now();
    logger.setCorrelationId(event.requestContext?.requestId);
    try {
      const result = await run(event);
      logger.info('request handled', { route, status: result.statusCode, ms: Math.round(performance.now() - started) });
      return result;
    } catch (error) {
      const result = errorResponse(error, requestLanguage(event));
      if (result.statusCode === 400) observability.count('BadRequests');
      else if (result.statusCode === 401 || result.statusCode === 429) observability.count('AuthFailures');
      else if (result.statusCode === 422) observability.count('RuleViolations');
      if (error instanceof AppError) {
        logger.info('request refused', { route, status: result.statusCode, code: error.code, ms: Math.round(performance.now() - started) });
      } else {
        logger.error('request failed', { route, status: 500, ...describeUnexpected(error) });
      }
      return result;
    } finally {
      observability.flush();
    }
  };
}

/** Name and stack frames of an unexpected error, without its message (it might quote input). */
function describeUnexpected(error: unknown): { errorName: string; stack?: string } {
  if (!(error instanceof Error)) return { errorName: typeof error };
  return { errorName: error.name, stack: error.stack?.split('\n').slice(1, 8).join('\n') };
}
