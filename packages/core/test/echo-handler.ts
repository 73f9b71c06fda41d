/**
 * A handler for the core routing tests with the `local` handler's behaviour (echo,
 * transform, error). The real LocalHandler lives in @onex/infra, which core must not
 * import; this fake keeps the routing tests independent of it.
 */
import { HandlerExecutionError, InvalidOperationError, isOnexErrorCode, type EnvelopeHandler, type HandlerInvocationContext, type JsonObject, type JsonValue, type OnexEnvelope } from '@onex/core';

function upper(value: JsonValue): JsonValue {
  if (typeof value === 'string') return value.toUpperCase();
  if (Array.isArray(value)) return value.map(upper);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, upper(v)]));
  return value;
}

export class EchoHandler implements EnvelopeHandler {
  readonly handlerType = 'local' as const;

  async execute(envelope: OnexEnvelope, _context?: HandlerInvocationContext): Promise<JsonValue> {
    const op = envelope.operation.replace(/^local\./, '');
    if (op === 'echo') return envelope.payload;
    if (op === 'transform') return upper(envelope.payload);
    if (op === 'error') {
      const p = (envelope.payload ?? {}) as JsonObject;
      throw new HandlerExecutionError(typeof p.message === 'string' ? p.message : 'LocalHandler error operation', {
        handlerType: 'local',
        operation: envelope.operation,
        ...(isOnexErrorCode(p.code) ? { code: p.code } : {}),
      });
    }
    throw new InvalidOperationError(`Operation '${envelope.operation}' is not supported by the local handler. Available: echo, transform, error`, {
      handlerType: 'local',
      operation: envelope.operation,
    });
  }
}
