import { AsyncLocalStorage } from 'node:async_hooks';
import { ArchitectureViolationError, type EnvelopeHandler, type HandlerInvocationContext, type OnexEnvelope, type JsonValue } from '@onex/core';

/**
 * The runtime half of the no-publish rule. Handlers are structurally cut off from the
 * bus (their invocation context has no publisher), and if one still gets hold of a bus
 * — a closure, a global — every bus API call made from inside a handler's call stack
 * fails with ArchitectureViolationError.
 */
const scope = new AsyncLocalStorage<{ readonly handlerType: string }>();

/** Wraps a handler so everything it does runs inside the handler scope. */
export function guardHandler<H extends EnvelopeHandler>(handler: H): EnvelopeHandler {
  return {
    handlerType: handler.handlerType,
    execute: (envelope: OnexEnvelope, context: HandlerInvocationContext): Promise<JsonValue> =>
      scope.run({ handlerType: handler.handlerType }, () => handler.execute(envelope, context)),
  };
}

/** Called by every bus API; throws when the caller is a handler. */
export function assertNotInHandlerScope(api: string): void {
  const store = scope.getStore();
  if (store !== undefined) {
    throw new ArchitectureViolationError(`Handler "${store.handlerType}" called the event bus (${api}); handlers must not publish`, {
      handlerType: store.handlerType,
      hint: 'Return the result from execute(); the runtime host publishes the response. Only orchestrators emit events.',
    });
  }
}
