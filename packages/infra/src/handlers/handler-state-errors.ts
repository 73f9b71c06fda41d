/**
 * The errors every protocol handler raises from its own lifecycle, worded once: a second
 * `initialize()`, and a call after `shutdown()` began (retryable: another instance may serve it).
 */
import { HandlerConfigurationError, ShuttingDownError, type ErrorContext, type HandlerType } from '@onex/core';

/** `initialize()` while the handler is past `created`/`failed`; `target` names what a new handler would be for ("another agent"). */
export function initializeAgainError(className: string, handlerType: HandlerType, state: string, target: string): HandlerConfigurationError {
  return new HandlerConfigurationError(`${className}.initialize() called while ${state}`, {
    handlerType,
    hint: `Initialize a handler once; create a new ${className} for ${target}.`,
  });
}

/** A call (or an initialize finishing) after `shutdown()` began. */
export function handlerShutDownError(className: string, context: ErrorContext): ShuttingDownError {
  return new ShuttingDownError(`${className} is shut down and accepts no more envelopes`, {
    ...context,
    hint: 'The runtime host is stopping; send the envelope to a running instance.',
  });
}
