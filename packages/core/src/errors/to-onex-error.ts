import { OnexError, type ErrorContext } from './onex-error.js';
import { InternalError } from './runtime-errors.js';

/**
 * The one funnel from "anything that was thrown" to a typed error. Handlers should
 * throw typed errors themselves; this is the safety net that guarantees nothing raw
 * reaches the bus. The original value is kept as `cause` for local logs only.
 */
export function toOnexError(value: unknown, context: ErrorContext = {}): OnexError {
  if (value instanceof OnexError) return value.withContext(context);
  const message = describeThrown(value);
  return new InternalError(`Unexpected failure: ${message}`, {
    ...context,
    cause: value,
    hint: 'This is a bug or an unmapped failure in a handler; the logs of the runtime host have the cause.',
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
