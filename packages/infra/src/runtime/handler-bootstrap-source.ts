import { HandlerConfigurationError, type HandlerType, type JsonObject } from '@onex/core';
import { LocalHandler } from '@onex/core/testing';
import type { HandlerDescriptor, HandlerHealth, ProtocolHandler, ProtocolHandlerSource } from '@onex/spi';
import { silentLogger, type Logger } from '../logging/logger.js';
import { sealHandler } from './handler-scope.js';

export interface BootstrapSourceOptions {
  readonly logger?: Logger;
  /**
   * Also offer the dev/test-only `local` handler. Only the `dev` command sets this.
   * @default false
   */
  readonly includeDevHandlers?: boolean;
}

/** Adapts core's LocalHandler (dev/test only) to the ProtocolHandler lifecycle. */
function localProtocolHandler(logger: Logger): ProtocolHandler {
  const local = new LocalHandler({ warn: (message) => logger.warn({ handler_type: 'local', dev_test_only: true }, message) });
  return {
    handlerType: 'local',
    initialize: (config) => local.initialize(config),
    shutdown: () => local.shutdown(),
    execute: (envelope, context) => local.execute(envelope, context),
    healthCheck: async (): Promise<HandlerHealth> => ({ ...(await local.healthCheck()), healthy: true, handler_type: 'local' }),
    describe: () => local.describe(),
  };
}

/**
 * The bootstrap handler source: the single place in the system that instantiates
 * handlers. Every I/O handler is an EFFECT; none is an adapter.
 */
export class HandlerBootstrapSource implements ProtocolHandlerSource {
  readonly sourceType = 'bootstrap' as const;
  readonly #descriptors: readonly HandlerDescriptor[];

  constructor(options: BootstrapSourceOptions = {}) {
    const logger = options.logger ?? silentLogger;
    const descriptors: HandlerDescriptor[] = [
      {
        handlerName: 'handler_http',
        handlerVersion: '1.0.0',
        handlerType: 'http',
        category: 'effect',
        isAdapter: false,
        capabilities: ['http.pooled', 'http.timeout', 'http.max_response_size', 'http.json'],
        commandsAccepted: ['http.get', 'http.post', 'http.put', 'http.patch', 'http.delete', 'http.head'],
        // Loaded on first use: a host that runs no HTTP handler never loads undici.
        factory: async () => new (await import('../handlers/http/http-handler.js')).HttpHandler({ logger }),
      },
      {
        handlerName: 'handler_db',
        handlerVersion: '1.0.0',
        handlerType: 'db',
        category: 'effect',
        isAdapter: false,
        capabilities: ['sql.parameterized', 'sql.transaction', 'sql.pooled', 'sql.embedded_pglite'],
        commandsAccepted: ['db.query', 'db.execute', 'db.transaction'],
        // Loaded on first use: a host without a db handler never loads pg.
        factory: async () => new (await import('../handlers/db/db-handler.js')).DbHandler({ logger }),
      },
    ];
    if (options.includeDevHandlers) {
      descriptors.push({
        handlerName: 'handler_local',
        handlerVersion: '1.0.0',
        handlerType: 'local',
        category: 'compute',
        isAdapter: false,
        capabilities: ['dev_test_only'],
        commandsAccepted: ['echo', 'transform', 'error'],
        factory: () => localProtocolHandler(logger),
      });
    }
    this.#descriptors = Object.freeze(descriptors);
  }

  async discoverHandlers(): Promise<readonly HandlerDescriptor[]> {
    return this.#descriptors;
  }
}

/** One handler the contract asks for, with its (already resolved) config. */
export interface HandlerRequest {
  readonly type: HandlerType;
  readonly config: JsonObject;
}

/**
 * Instantiates the handlers a contract asks for from the source's descriptors, one
 * per type, and initializes each exactly once. If any fails, the ones already
 * initialized are shut down before the error propagates.
 */
export async function wireHandlers(
  source: ProtocolHandlerSource,
  requests: readonly HandlerRequest[],
): Promise<ProtocolHandler[]> {
  const descriptors = await source.discoverHandlers();
  const byType = new Map(descriptors.map((d) => [d.handlerType, d]));
  const seen = new Set<string>();
  const ready: ProtocolHandler[] = [];
  try {
    for (const request of requests) {
      if (seen.has(request.type)) {
        throw new HandlerConfigurationError(`Handler type "${request.type}" is configured twice`, {
          handlerType: request.type,
          hint: 'A runtime has one handler per type: remove the duplicate from the contract.',
        });
      }
      seen.add(request.type);
      const descriptor = byType.get(request.type);
      if (!descriptor) {
        const available = [...byType.keys()].sort();
        throw new HandlerConfigurationError(`No handler implementation for type "${request.type}" in the ${source.sourceType} handler source`, {
          handlerType: request.type,
          details: { available_handlers: available },
          hint: request.type === 'local'
            ? 'The local handler is for development only: use `onex-runtime-host dev`, or remove it from the contract.'
            : `Available handler types: ${available.join(', ')}.`,
        });
      }
      const handler = await descriptor.factory();
      try {
        await handler.initialize(request.config);
      } catch (error) {
        // shutdown() runs exactly once per handler, whatever state it reached.
        await handler.shutdown().catch(() => undefined);
        throw error;
      }
      // Sealed: from here on only the runtime's dispatch may execute it.
      ready.push(sealHandler(handler));
    }
    return ready;
  } catch (error) {
    await Promise.allSettled(ready.map((h) => h.shutdown()));
    throw error;
  }
}
