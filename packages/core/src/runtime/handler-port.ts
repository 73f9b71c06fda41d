import type { HandlerType } from '../enums/handler-type.js';
import type { OnexEnvelope } from '../envelope/envelope.js';
import type { JsonValue } from '../json.js';

/**
 * What a handler learns about the call it serves. It deliberately has no publish,
 * emit or bus capability: handlers do I/O against their own system and return a
 * result; only the runtime host publishes envelopes (the "no-publish" rule).
 */
export interface HandlerInvocationContext {
  readonly correlationId: string | undefined;
  readonly envelopeId: string;
  readonly operation: string;
  /** Slug of the node that called the handler, when the call came through a node. */
  readonly nodeSlug: string | undefined;
}

/**
 * The part of a protocol handler that NodeRuntime needs to route to it. `@onex/spi`'s
 * `ProtocolHandler` extends this with the lifecycle (initialize, shutdown, health).
 */
export interface EnvelopeHandler {
  readonly handlerType: HandlerType;
  /**
   * Executes `envelope.operation` and resolves to the response payload. Failures are
   * thrown as typed `OnexError`s; NodeRuntime turns them into error envelopes.
   */
  execute(envelope: OnexEnvelope, context: HandlerInvocationContext): Promise<JsonValue>;
}

/** Builds the frozen, publish-free context for one handler call. */
export function createInvocationContext(envelope: OnexEnvelope, nodeSlug?: string): HandlerInvocationContext {
  return Object.freeze({
    correlationId: envelope.correlationId,
    envelopeId: envelope.envelopeId,
    operation: envelope.operation,
    nodeSlug,
  });
}
