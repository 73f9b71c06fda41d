import type { JsonObject, JsonValue } from '../json.js';
import { ONEX_ERROR_CODES, type OnexErrorCode } from './codes.js';
import { sanitizeMessage } from './sanitize.js';

/** Where an error happened: enough to debug without exposing internals. */
export interface ErrorContext {
  readonly correlationId?: string | undefined;
  readonly handlerType?: string | undefined;
  readonly operation?: string | undefined;
}

export interface OnexErrorOptions extends ErrorContext {
  /** Overrides the code's default retryability. */
  readonly retryable?: boolean;
  /** Extra wire-safe facts (`available_handlers`, `sqlstate`, ...), snake_case keys. */
  readonly details?: JsonObject;
  /** How to fix it, for people. */
  readonly hint?: string;
  readonly cause?: unknown;
}

/** The wire form of an error, the `error` field of an error envelope. */
export interface EnvelopeErrorBody {
  code: string;
  message: string;
  handler_type?: string;
  operation?: string;
  retryable?: boolean;
  hint?: string;
  [detail: string]: JsonValue | undefined;
}

/**
 * Base of every error the system raises. Messages are sanitized on construction, so no
 * credential survives into logs or envelopes even if a driver put one in its message.
 *
 * Class and code are one axis: every concrete class has exactly one code (its
 * `defaultCode`) and every code exactly one class (`ONEX_ERROR_CLASSES`), so an error
 * that says INFRA_TIMEOUT is always an `InfraTimeoutError`. Abstract: throw a subclass.
 */
export abstract class OnexError extends Error {
  static readonly defaultCode: OnexErrorCode = 'RUNTIME_HOST_ERROR';

  readonly code: OnexErrorCode;
  readonly retryable: boolean;
  readonly correlationId: string | undefined;
  readonly handlerType: string | undefined;
  readonly operation: string | undefined;
  readonly details: Readonly<JsonObject>;
  readonly hint: string | undefined;

  constructor(message: string, options: OnexErrorOptions = {}) {
    super(sanitizeMessage(message), options.cause === undefined ? undefined : { cause: options.cause });
    const code = (new.target as unknown as { readonly defaultCode: OnexErrorCode }).defaultCode;
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? ONEX_ERROR_CODES[code].retryable;
    this.correlationId = options.correlationId;
    this.handlerType = options.handlerType;
    this.operation = options.operation;
    // Details and hints leave the process too, so they get the same scrubbing as the message.
    this.details = Object.freeze(sanitizeJson(options.details ?? {}) as JsonObject);
    this.hint = options.hint === undefined ? undefined : sanitizeMessage(options.hint);
  }

  /** A copy of this error with missing context filled in (never overwrites what is set). */
  withContext(context: ErrorContext): this {
    const copy = Object.create(Object.getPrototypeOf(this) as object) as this;
    Object.assign(copy, this, {
      correlationId: this.correlationId ?? context.correlationId,
      handlerType: this.handlerType ?? context.handlerType,
      operation: this.operation ?? context.operation,
    });
    Object.defineProperty(copy, 'message', { value: this.message, enumerable: false, writable: true });
    Object.defineProperty(copy, 'stack', { value: this.stack, enumerable: false, writable: true });
    if (this.cause !== undefined) Object.defineProperty(copy, 'cause', { value: this.cause, enumerable: false, writable: true });
    return copy;
  }

  /** The wire body for an error envelope: no stack trace, no cause chain. */
  toEnvelopeError(): EnvelopeErrorBody {
    const body: EnvelopeErrorBody = { ...this.details, code: this.code, message: this.message, retryable: this.retryable };
    if (this.handlerType !== undefined) body.handler_type = this.handlerType;
    if (this.operation !== undefined) body.operation = this.operation;
    if (this.hint !== undefined) body.hint = this.hint;
    return body;
  }

  /** Structured fields for a log line. */
  toLogFields(): Record<string, unknown> {
    return {
      error_code: this.code,
      error_message: this.message,
      retryable: this.retryable,
      correlation_id: this.correlationId,
      handler_type: this.handlerType,
      operation: this.operation,
      ...this.details,
    };
  }
}

function sanitizeJson(value: JsonValue): JsonValue {
  if (typeof value === 'string') return sanitizeMessage(value);
  if (Array.isArray(value)) return value.map(sanitizeJson);
  if (value !== null && typeof value === 'object') {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) out[k] = sanitizeJson(v);
    return out;
  }
  return value;
}

/**
 * Marks OnexErrors across copies of `@onex/core`: node code a user's project builds
 * throws errors of its own copy, which `instanceof` in the host does not recognise.
 */
export const ONEX_ERROR_BRAND = Symbol.for('onex.error');
Object.defineProperty(OnexError.prototype, ONEX_ERROR_BRAND, { value: true });

export function isOnexError(value: unknown): value is OnexError {
  return value instanceof OnexError;
}
