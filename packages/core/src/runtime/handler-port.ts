import type { HandlerType } from '../enums/handler-type.js';
import type { OnexEnvelope } from '../envelope/envelope.js';
import type { JsonValue } from '../json.js';

/**
 * The part of the standard `AbortSignal` that core passes along. Core does no I/O and
 * has no platform types, so it names the shape it needs; every `AbortSignal` fits it.
 */
export interface CancellationSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { readonly once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

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
  /**
   * What the calling node's contract grants for this operation: `read_only` handlers must
   * refuse anything that writes (the db handler refuses non-read SQL).
   */
  readonly access: IoAccess;
  /**
   * Aborted when the caller gives up (the ingress answered 504, the host is stopping, the
   * envelope's deadline passed). A handler stops its I/O for real: it cancels the HTTP
   * request or the SQL statement, not just stops waiting for it.
   */
  readonly signal: CancellationSignal | undefined;
}

/**
 * What a node may do through a handler: read only, or read and write. Declared per
 * `io_operations` entry of a node contract.
 */
export const IO_ACCESS_LEVELS = ['read_only', 'read_write'] as const;
export type IoAccess = (typeof IO_ACCESS_LEVELS)[number];

/** How one handler call is made: on behalf of which node, with which grant, cancellable how. */
export interface HandlerCall {
  readonly nodeSlug?: string | undefined;
  /** @default 'read_write' (a direct handler call, allowed only where the host allows those) */
  readonly access?: IoAccess | undefined;
  readonly signal?: CancellationSignal | undefined;
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
export function createInvocationContext(envelope: OnexEnvelope, call: HandlerCall = {}): HandlerInvocationContext {
  return Object.freeze({
    correlationId: envelope.correlationId,
    envelopeId: envelope.envelopeId,
    operation: envelope.operation,
    nodeSlug: call.nodeSlug,
    access: call.access ?? 'read_write',
    signal: call.signal,
  });
}
