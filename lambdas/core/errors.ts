/**
 * Typed application errors. Each carries a catalog code; lambdas/runtime/http.ts maps them to
 * HTTP status by `instanceof`, in that one place.
 */
import { hasParameters, message, type Language, type MessageCode } from './messages';
import type { Violation } from './model';

export class AppError extends Error {
  /** True when the message is the catalog's text for the code, so it can be given in another language. */
  readonly fromCatalog: boolean;

  constructor(
    readonly code: MessageCode,
    text?: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(text ?? message(code));
    this.name = new.target.name;
    this.fromCatalog = text === undefined;
  }

  /** The message in `language`: the catalog's text when it came from there, else the text as given. */
  messageIn(language: Language): string {
    return this.fromCatalog ? message(this.code, [], language) : this.message;
  }
}

/** 400: the request is malformed. */
export class BadRequestError extends AppError {
  constructor(text?: string, details?: Record<string, unknown>) {
    super('INVALID_REQUEST', text, details);
  }
}

/** 422: a product rule is broken. The first violation gives code and message; all are in details. */
export class RuleViolationError extends AppError {
  constructor(readonly violations: Violation[]) {
    super(violations[0]!.code, violations[0]!.message, { violations });
  }

  /** Each violation rendered again in `language` from its code and parameters. */
  violationsIn(language: Language): Violation[] {
    return this.violations.map(({ params, ...v }) => {
      // Produced in English; another language needs the parameters (or a text without any).
      const renderable = language !== 'en' && (params !== undefined || !hasParameters(v.code));
      return renderable ? { ...v, message: message(v.code, params ?? [], language) } : v;
    });
  }

  override messageIn(language: Language): string {
    return this.violationsIn(language)[0]!.message;
  }
}

/** 415: a request body that is not `application/json` (a form-style cross-site request, for one). */
export class UnsupportedMediaTypeError extends AppError {
  constructor() {
    super('UNSUPPORTED_MEDIA_TYPE');
  }
}

/** 401: missing or wrong token, or a code that cannot be redeemed. */
export class UnauthorizedError extends AppError {
  constructor(code: MessageCode = 'UNAUTHORIZED') {
    super(code);
  }
}

/** 404 */
export class NotFoundError extends AppError {
  constructor() {
    super('NOT_FOUND');
  }
}

/** 409: the session is in a state that does not allow this. */
export class ConflictError extends AppError {}

/** 429 */
export class RateLimitedError extends AppError {
  constructor(readonly retryAfterSeconds: number) {
    super('RATE_LIMITED', undefined, { retryAfterSeconds });
  }
}
