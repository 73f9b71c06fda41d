import { AsyncLocalStorage } from 'node:async_hooks';
import { ArchitectureViolationError, InvalidOperationError, type EnvelopeHandler, type HandlerInvocationContext, type JsonValue, type OnexEnvelope } from '@onex/core';
import type { ProtocolHandler } from '@onex/spi';

/**
 * The runtime half of the no-publish rule. Handlers are structurally cut off from the
 * bus (their invocation context has no publisher); if one still gets hold of a bus — a
 * closure, a global — bus API calls made from inside the handler fail with
 * ArchitectureViolationError.
 *
 * Two strengths:
 * - `sync` (default): covers the synchronous call stack of `execute` — everything up to
 *   its first `await`, where a captured bus is almost always called. Costs a counter.
 * - `async`: follows the handler through awaits, timers and callbacks with
 *   AsyncLocalStorage. On Node 20 the first use switches on promise hooks for the whole
 *   process, which costs about a third of the in-memory bus throughput, so it is opt-in
 *   (the `dev` command turns it on).
 */
export type HandlerGuardMode = 'sync' | 'async';

let syncDepth = 0;
let syncHandlerType = '';
let asyncScope: AsyncLocalStorage<{ readonly handlerType: string }> | undefined;

/** Wraps a handler so bus calls made from inside it are refused. */
export function guardHandler(handler: EnvelopeHandler, mode: HandlerGuardMode = 'sync'): EnvelopeHandler {
  const handlerType = handler.handlerType;
  if (mode === 'async') {
    const scope = (asyncScope ??= new AsyncLocalStorage());
    const store = { handlerType };
    return {
      handlerType,
      execute: (envelope: OnexEnvelope, context: HandlerInvocationContext): Promise<JsonValue> =>
        scope.run(store, () => handler.execute(envelope, context)),
    };
  }
  return {
    handlerType,
    execute: (envelope: OnexEnvelope, context: HandlerInvocationContext): Promise<JsonValue> => {
      const outer = syncHandlerType;
      syncDepth += 1;
      syncHandlerType = handlerType;
      try {
        return handler.execute(envelope, context);
      } finally {
        syncDepth -= 1;
        syncHandlerType = outer;
      }
    },
  };
}

/**
 * Seals a handler so it runs only when the runtime dispatches to it: `execute` called from
 * anywhere else (code that got hold of the instance and calls it directly, bypassing the
 * node allow-lists and the no-publish guard) fails with ARCHITECTURE_VIOLATION. The
 * runtime's call passes through {@link guardHandler}, which marks the dispatch.
 */
export function sealHandler(handler: ProtocolHandler, accepted?: readonly string[]): ProtocolHandler {
  const handlerType = handler.handlerType;
  // A handler contract may accept fewer commands than its implementation supports.
  const commands = accepted === undefined ? undefined : new Set(accepted);
  return {
    handlerType,
    initialize: (config: unknown) => handler.initialize(config),
    shutdown: () => handler.shutdown(),
    healthCheck: () => handler.healthCheck(),
    describe: () => handler.describe(),
    execute: (envelope: OnexEnvelope, context: HandlerInvocationContext): Promise<JsonValue> => {
      if (syncDepth === 0 && asyncScope?.getStore() === undefined) {
        return Promise.reject(
          new ArchitectureViolationError(`Handler "${handlerType}" was called directly (${envelope.operation}), bypassing the runtime`, {
            ruleId: 'ARCH_DIRECT_HANDLER_DISPATCH',
            handlerType,
            operation: envelope.operation,
            correlationId: envelope.correlationId,
            hint: 'Send an envelope through the runtime host (NodeRuntime.routeEnvelope); nodes reach handlers only through their NodeExecutionPort.',
          }),
        );
      }
      if (commands !== undefined && !commands.has(envelope.operation) && !commands.has(`${handlerType}.${envelope.operation}`)) {
        return Promise.reject(
          new InvalidOperationError(`Operation "${envelope.operation}" is not among the commands the ${handlerType} handler contract accepts`, {
            handlerType,
            operation: envelope.operation,
            correlationId: envelope.correlationId,
            details: { commands_accepted: [...commands] },
            hint: `Add "${envelope.operation}" to commands_accepted in the handler contract, or use one of: ${[...commands].join(', ')}.`,
          }),
        );
      }
      return handler.execute(envelope, context);
    },
  };
}

/** Called by every bus API; throws when the caller is a handler. */
export function assertNotInHandlerScope(api: string): void {
  const handlerType = syncDepth > 0 ? syncHandlerType : asyncScope?.getStore()?.handlerType;
  if (handlerType !== undefined) {
    throw new ArchitectureViolationError(`Handler "${handlerType}" called the event bus (${api}); handlers must not publish`, {
      ruleId: 'ARCH_HANDLER_PUBLISH',
      handlerType,
      hint: 'Return the result from execute(); the runtime host publishes the response. Only orchestrators emit events.',
    });
  }
}
