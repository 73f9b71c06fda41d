/**
 * The dev/test-only `local` handler: echo, transform and error, with no I/O. It lives
 * with the other handlers (and is built by the registry like them) so dev contracts run
 * through the same wiring as production ones; production contracts refuse it.
 */
import {
  HandlerExecutionError,
  InfraError,
  InvalidOperationError,
  ONEX_ERROR_CLASSES,
  isOnexErrorCode,
  type HandlerInvocationContext,
  type InfraErrorOptions,
  type JsonObject,
  type JsonValue,
  type OnexEnvelope,
  type OnexError,
  type OnexErrorCode,
  type OnexErrorOptions,
} from '@onex/core';
import type { HandlerDescription, HandlerHealth, ProtocolHandler } from '@onex/spi';

/** Operations of the LocalHandler. The `local.` prefixed forms are accepted too. */
export const LOCAL_OPERATIONS = ['echo', 'transform', 'error'] as const;

export interface LocalHandlerOptions {
  /** Called once on `initialize()` with the dev-only warning. @default no-op */
  readonly warn?: (message: string) => void;
}

function upperStrings(value: JsonValue): JsonValue {
  if (typeof value === 'string') return value.toUpperCase();
  if (Array.isArray(value)) return value.map(upperStrings);
  if (value !== null && typeof value === 'object') {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) out[k] = upperStrings(v);
    return out;
  }
  return value;
}

/**
 * WARNING: development and tests only. Production contracts refuse the `local`
 * handler (its unit is `devOnly`), and `run` never builds it.
 *
 * Operations: `echo` returns the payload as is; `transform` returns it with every
 * string upper-cased; `error` fails with a HandlerExecutionError (payload `message`
 * and an optional `code` from the error code map).
 */
export class LocalHandler implements ProtocolHandler {
  readonly handlerType = 'local' as const;
  readonly #warn: (message: string) => void;
  initializeCount = 0;
  shutdownCount = 0;

  constructor(options: LocalHandlerOptions = {}) {
    this.#warn = options.warn ?? (() => undefined);
  }

  async initialize(_config?: unknown): Promise<void> {
    this.initializeCount += 1;
    this.#warn('LocalHandler is for development and tests only; never enable it in production.');
  }

  async shutdown(): Promise<void> {
    this.shutdownCount += 1;
  }

  async healthCheck(): Promise<HandlerHealth> {
    return { healthy: true, handler_type: 'local', dev_test_only: true };
  }

  describe(): HandlerDescription {
    return {
      handlerType: this.handlerType,
      supportedOperations: [...LOCAL_OPERATIONS],
      requiredPayloadFields: { echo: [], transform: [], error: [] },
      responseShape: 'echo/transform: the (transformed) payload; error: always fails',
      version: '1.0.0',
    };
  }

  async execute(envelope: OnexEnvelope, _context: HandlerInvocationContext): Promise<JsonValue> {
    const op = envelope.operation.startsWith('local.') ? envelope.operation.slice('local.'.length) : envelope.operation;
    switch (op) {
      case 'echo':
        return envelope.payload;
      case 'transform':
        return upperStrings(envelope.payload);
      case 'error': {
        const p = (envelope.payload ?? {}) as JsonObject;
        const message = typeof p.message === 'string' ? p.message : 'LocalHandler error operation';
        throw errorOfCode(isOnexErrorCode(p.code) ? p.code : 'HANDLER_EXECUTION_ERROR', message, { handlerType: 'local', operation: envelope.operation });
      }
      default:
        throw new InvalidOperationError(`Operation '${envelope.operation}' is not supported by the local handler. Available: ${LOCAL_OPERATIONS.join(', ')}`, {
          handlerType: 'local',
          operation: envelope.operation,
          details: { supported_operations: [...LOCAL_OPERATIONS] },
          hint: `Use one of: ${LOCAL_OPERATIONS.join(', ')}.`,
        });
    }
  }
}

/**
 * The error of `code` (the class that owns it), for the `error` operation. Codes whose
 * class needs more than a message (architecture rule ids, contract issues) fall back to
 * HANDLER_EXECUTION_ERROR; infra codes get the `runtime` transport.
 */
function errorOfCode(code: OnexErrorCode, message: string, options: OnexErrorOptions): OnexError {
  const Cls = ONEX_ERROR_CLASSES[code];
  if (Cls.prototype instanceof InfraError) {
    return new (Cls as unknown as new (m: string, o: InfraErrorOptions) => OnexError)(message, { ...options, transportType: 'runtime' });
  }
  if (code === 'ARCHITECTURE_VIOLATION' || code === 'CONTRACT_VALIDATION_ERROR') return new HandlerExecutionError(message, options);
  return new (Cls as unknown as new (m: string, o: OnexErrorOptions) => OnexError)(message, options);
}
