import type { JsonObject } from '../json.js';
import { isJsonValue } from '../json.js';
import { isOnexErrorCode, type OnexErrorCode } from './codes.js';
import { ONEX_ERROR_BRAND, OnexError, type ErrorContext, type OnexErrorOptions } from './onex-error.js';
import {
  EnvelopeValidationError,
  HandlerExecutionError,
  InternalError,
  InvalidOperationError,
  NodeNotFoundError,
  PayloadValidationError,
  RuntimeHostError,
} from './runtime-errors.js';

/**
 * The codes node code may throw from its own copy of `@onex/core` and keep: the refusals
 * a business rule makes. Others (infra, architecture, contract errors) carry fields these
 * plain constructors cannot rebuild, and are not node code's to raise.
 */
const FOREIGN_CODES: Partial<Record<OnexErrorCode, new (message: string, options?: OnexErrorOptions) => OnexError>> = {
  INVALID_OPERATION: InvalidOperationError,
  PAYLOAD_VALIDATION_ERROR: PayloadValidationError,
  ENVELOPE_VALIDATION_ERROR: EnvelopeValidationError,
  NODE_NOT_FOUND: NodeNotFoundError,
  HANDLER_EXECUTION_ERROR: HandlerExecutionError,
  INTERNAL_ERROR: InternalError,
  RUNTIME_HOST_ERROR: RuntimeHostError,
};

/** This copy's error for one thrown by another copy of `@onex/core`, or undefined. */
function fromForeignCopy(value: unknown, context: ErrorContext): OnexError | undefined {
  if (!(value instanceof Error) || (value as unknown as Record<symbol, unknown>)[ONEX_ERROR_BRAND] !== true) return undefined;
  const foreign = value as Error & { code?: unknown; hint?: unknown; details?: unknown; retryable?: unknown };
  if (!isOnexErrorCode(foreign.code)) return undefined;
  const Cls = FOREIGN_CODES[foreign.code];
  if (Cls === undefined) return undefined;
  return new Cls(foreign.message, {
    ...context,
    cause: value,
    ...(typeof foreign.hint === 'string' ? { hint: foreign.hint } : {}),
    ...(typeof foreign.retryable === 'boolean' ? { retryable: foreign.retryable } : {}),
    ...(typeof foreign.details === 'object' && foreign.details !== null && isJsonValue(foreign.details) ? { details: foreign.details as JsonObject } : {}),
  });
}

/**
 * The one funnel from "anything that was thrown" to a typed error. Handlers should
 * throw typed errors themselves; this is the safety net that guarantees nothing raw
 * reaches the bus. The original value is kept as `cause` for local logs only.
 */
export function toOnexError(value: unknown, context: ErrorContext = {}): OnexError {
  if (value instanceof OnexError) return value.withContext(context);
  const foreign = fromForeignCopy(value, context);
  if (foreign !== undefined) return foreign;
  const message = describeThrown(value);
  return new InternalError(`Unexpected failure: ${message}`, {
    ...context,
    cause: value,
    hint: 'This is a bug or an unmapped failure in a handler or in node code (which may throw typed errors such as InvalidOperationError from @onex/core); the logs of the runtime host have the cause.',
  });
}

function describeThrown(value: unknown): string {
  if (value instanceof Error) return value.message || value.name;
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
