/**
 * The bootstrap handler source: the single place that turns registered handler units
 * into descriptors (and so into handler instances). No hand-written list: the registry
 * says which handlers exist.
 */
import { HandlerConfigurationError, type HandlerPolicies, type HandlerType } from '@onex/core';
import type { HandlerDescriptor, ProtocolHandler, ProtocolHandlerSource } from '@onex/spi';
import type { HandlerInitConfig, HandlerUnit } from '../handlers/handler-unit.js';
import { findHandlerUnit, HANDLER_UNITS } from '../handlers/registry.js';
import { silentLogger, type Logger } from '../logging/logger.js';
import { sealHandler } from './handler-scope.js';

export interface BootstrapSourceOptions {
  readonly logger?: Logger;
  /**
   * Also offer dev/test-only handlers (`local`). Only the `dev` command sets this.
   * @default false
   */
  readonly includeDevHandlers?: boolean;
  /** The units to offer. @default HANDLER_UNITS (the registry) */
  readonly units?: readonly HandlerUnit[];
}

/** The descriptor of a unit: the spi's canonical runtime description. */
export function descriptorOf(unit: HandlerUnit, logger: Logger): HandlerDescriptor {
  return {
    handlerName: unit.name,
    handlerVersion: unit.version,
    handlerType: unit.type,
    category: unit.category,
    isAdapter: unit.isAdapter,
    capabilities: unit.capabilities,
    commandsAccepted: unit.operations.map((op) => op.name),
    // The unit loads its module (and driver) only here, from a fixed path.
    factory: () => unit.create({ logger }),
  };
}

/** The bootstrap handler source: one descriptor per registered unit. */
export class HandlerBootstrapSource implements ProtocolHandlerSource {
  readonly sourceType = 'bootstrap' as const;
  readonly #descriptors: readonly HandlerDescriptor[];

  constructor(options: BootstrapSourceOptions = {}) {
    const logger = options.logger ?? silentLogger;
    const units = (options.units ?? HANDLER_UNITS).filter((unit) => !unit.devOnly || options.includeDevHandlers === true);
    this.#descriptors = Object.freeze(units.map((unit) => descriptorOf(unit, logger)));
  }

  async discoverHandlers(): Promise<readonly HandlerDescriptor[]> {
    return this.#descriptors;
  }
}

/** One handler the contract asks for, with its (already resolved) config. */
export interface HandlerRequest {
  readonly type: HandlerType;
  readonly config: HandlerInitConfig;
  /**
   * The binding's policies; the host puts the handler inside this policy stack (timeout,
   * deadline, bulkhead, rate limit, circuit breaker: resilience/resilient-handler.ts).
   * Absent (a handler wired by hand): the handler is called bare.
   */
  readonly policies?: HandlerPolicies;
  /**
   * Whether the host is ready only while this handler is: unhealthy, or with an open
   * breaker, it takes the host out of readiness (the contract binding's `required`).
   * @default true
   */
  readonly required?: boolean;
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
      const unit = findHandlerUnit(request.type);
      // A handler contract's security declarations shape the config (e.g. the http allow-list).
      const config =
        descriptor.security !== undefined && unit?.applyContractSecurity !== undefined
          ? unit.applyContractSecurity(request.config, { allowedDomains: descriptor.security.allowedDomains, isAdapter: descriptor.isAdapter })
          : request.config;
      const handler = await descriptor.factory();
      try {
        await handler.initialize(config);
      } catch (error) {
        // shutdown() runs exactly once per handler, whatever state it reached.
        await handler.shutdown().catch(() => undefined);
        throw error;
      }
      // Sealed: from here on only the runtime's dispatch may execute it.
      // Sealed: from here on only the runtime's dispatch may execute it, and only the
      // commands a handler contract accepts (bootstrap descriptors list all there are).
      ready.push(sealHandler(handler, descriptor.source === undefined ? undefined : descriptor.commandsAccepted));
    }
    return ready;
  } catch (error) {
    await Promise.allSettled(ready.map((h) => h.shutdown()));
    throw error;
  }
}
