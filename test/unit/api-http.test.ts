/**
 * The HTTP edge in isolation: typed errors → status by instanceof, the error shape, unknown errors →
 * 500 INTERNAL without internals, body parsing limits, and the env config validated at cold start.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { readFileSync } from 'node:fs';
import {
  AppError,
  BadRequestError,
  ConflictError,
  NotFoundError,
  RateLimitedError,
  RuleViolationError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
} from '../../lambdas/core/errors';
import { message } from '../../lambdas/core/messages';
import { ConfigError, parseConfig } from '../../lambdas/runtime/config';
import { bearerToken, errorResponse, httpRoute, MAX_BODY_BYTES, parseJsonBody, type ApiEvent } from '../../lambdas/runtime/http';
import { createObservability } from '../../lambdas/runtime/observability';

const body = (result: { body?: string }) => JSON.parse(result.body ?? '{}');
const event = (partial: Partial<ApiEvent>) => ({ headers: { 'content-type': 'application/json' }, requestContext: { requestId: 'r1', http: { sourceIp: '192.0.2.1' } }, ...partial }) as ApiEvent;

describe('errorResponse', () => {
  it('maps each typed error to its status and the documented shape', () => {
    const cases: [AppError, number][] = [
      [new BadRequestError('bad', { issues: [] }), 400],
      [new UnauthorizedError(), 401],
      [new UnauthorizedError('INVALID_CODE'), 401],
      [new NotFoundError(), 404],
      [new ConflictError('SESSION_NOT_OPEN'), 409],
      [new RuleViolationError([{ code: 'ATTACHMENT_LIMIT', message: 'm' }]), 422],
      [new RateLimitedError(42), 429],
      [new UnsupportedMediaTypeError(), 415],
    ];
    for (const [error, status] of cases) {
      const res = errorResponse(error);
      expect(res.statusCode).toBe(status);
      expect(body(res).error.code).toBe(error.code);
      expect(body(res).error.message).toBe(error.message);
      expect(res.headers?.['content-type']).toContain('application/json');
    }
    expect(errorResponse(new RateLimitedError(42)).headers?.['retry-after']).toBe('42');
    expect(body(errorResponse(new RuleViolationError([{ code: 'ATTACHMENT_LIMIT', message: 'm' }]))).error.details.violations).toHaveLength(1);
  });

  it('turns anything else into a 500 INTERNAL that reveals nothing', () => {
    for (const thrown of [new TypeError('secret table name pk=SESSION#x'), 'a string', { name: 'BadRequestError', code: 'INVALID_REQUEST' }, undefined]) {
      const res = errorResponse(thrown);
      expect(res.statusCode).toBe(500);
      expect(body(res)).toEqual({ error: { code: 'INTERNAL', message: message('INTERNAL') } });
    }
  });

  it('httpRoute never lets an error escape', async () => {
    const observability = createObservability({ logLevel: 'SILENT', metrics: false });
    const route = httpRoute('Test', observability, async () => {
      throw new Error('boom');
    });
    expect((await route(event({}))).statusCode).toBe(500);
  });
});

describe('parseJsonBody', () => {
  const schema = z.strictObject({ a: z.number() });
  it('parses plain and base64 bodies', () => {
    expect(parseJsonBody(event({ body: '{"a":1}' }), schema)).toEqual({ a: 1 });
    expect(parseJsonBody(event({ body: Buffer.from('{"a":2}').toString('base64'), isBase64Encoded: true }), schema)).toEqual({ a: 2 });
  });
  it('refuses empty, malformed, oversized and non-matching bodies with 400s', () => {
    for (const b of [undefined, '', '  ', '{', '{"a":"1"}', '{"a":1,"b":2}', `{"a":1,"p":"${'x'.repeat(MAX_BODY_BYTES)}"}`]) {
      expect(() => parseJsonBody(event({ body: b }), schema), String(b).slice(0, 20)).toThrow(BadRequestError);
    }
  });
  it('refuses a body not sent as application/json with 415, whatever it holds', () => {
    for (const headers of [{}, { 'content-type': 'text/plain' }, { 'Content-Type': 'application/x-www-form-urlencoded' }, { 'content-type': 'application/json-seq' }]) {
      expect(() => parseJsonBody(event({ headers, body: '{"a":1}' }), schema), JSON.stringify(headers)).toThrow(UnsupportedMediaTypeError);
    }
    expect(parseJsonBody(event({ headers: { 'Content-Type': 'application/JSON;charset=utf-8' }, body: '{"a":3}' }), schema)).toEqual({ a: 3 });
    // An empty body carries nothing a foreign page could send.
    expect(parseJsonBody(event({ headers: {}, body: '' }), z.object({}), { allowEmpty: true })).toEqual({});
  });
  it('does not echo the input in its details', () => {
    try {
      parseJsonBody(event({ body: '{"a":"Doe^John"}' }), schema);
      expect.unreachable();
    } catch (error) {
      expect(JSON.stringify((error as BadRequestError).details)).not.toContain('Doe');
    }
  });
});

describe('bearerToken', () => {
  it('takes a well-formed bearer token and refuses anything else with 401', () => {
    expect(bearerToken(event({ headers: { authorization: `Bearer ${'a'.repeat(43)}` } }))).toBe('a'.repeat(43));
    expect(bearerToken(event({ headers: { authorization: `bearer ${'a'.repeat(43)}` } }))).toBe('a'.repeat(43));
    expect(bearerToken(event({ headers: { authorization: `BEARER ${'a'.repeat(43)}` } }))).toBe('a'.repeat(43));
    for (const header of [undefined, '', 'Bearer', 'Basic abc', `Bearer ${'a'.repeat(10)}`, `Bearer ${'a'.repeat(200)}`, 'Bearer a b']) {
      expect(() => bearerToken(event({ headers: header === undefined ? {} : { authorization: header } }))).toThrow(UnauthorizedError);
    }
  });
});

describe('config', () => {
  const institution = readFileSync(new URL('../../institutions/demo.json', import.meta.url), 'utf8');
  const env = { TABLE_NAME: 't', BUCKET_NAME: 'b', INSTITUTION_CONFIG: institution, AWS_REGION: 'eu-central-1' };
  it('parses a valid environment', () => {
    const config = parseConfig({ ...env, S3_FORCE_PATH_STYLE: 'true', DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000', LOG_FORMAT: 'pretty' });
    expect(config).toMatchObject({ tableName: 't', bucketName: 'b', region: 'eu-central-1', s3ForcePathStyle: true, logFormat: 'pretty', dynamoEndpoint: 'http://127.0.0.1:8000' });
    expect(config.institution.id).toBe('demo');
    expect(parseConfig(env)).toMatchObject({ s3ForcePathStyle: false, logFormat: 'json' });
  });
  it('fails loudly, naming the variable', () => {
    expect(() => parseConfig({ ...env, TABLE_NAME: undefined })).toThrow(/TABLE_NAME/);
    expect(() => parseConfig({ ...env, LOG_FORMAT: 'xml' })).toThrow(/LOG_FORMAT/);
    expect(() => parseConfig({ ...env, INSTITUTION_CONFIG: '{nope' })).toThrow(ConfigError);
    expect(() => parseConfig({ ...env, INSTITUTION_CONFIG: '{"id":"x"}' })).toThrow(/INSTITUTION_CONFIG/);
    expect(() => parseConfig({ ...env, LOCAL_ADMIN_TOKEN_HASH: 'abc' })).toThrow(/LOCAL_ADMIN_TOKEN_HASH/);
  });
});
