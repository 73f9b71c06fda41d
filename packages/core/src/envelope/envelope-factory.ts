import type { JsonObject, JsonValue } from '../json.js';
import type { EnvelopeErrorBody } from '../errors/onex-error.js';
import { OnexError } from '../errors/onex-error.js';
import { CURRENT_ENVELOPE_VERSION } from './envelope-schema.js';
import type { OnexEnvelope } from './envelope.js';
import { defaultProviders, type EnvelopeProviders } from './providers.js';

export interface RequestEnvelopeInit {
  readonly operation: string;
  readonly payload?: JsonValue;
  readonly handlerType?: string;
  readonly targetNode?: string;
  readonly sourceNode?: string;
  /** Pass the correlation id of the work this request belongs to; omit to let the host assign one. */
  readonly correlationId?: string;
  readonly causationId?: string;
  readonly metadata?: JsonObject;
  readonly ttlSeconds?: number;
}

/** A new request envelope with a fresh id and timestamp. */
export function createRequestEnvelope(init: RequestEnvelopeInit, providers: EnvelopeProviders = defaultProviders): OnexEnvelope {
  return {
    envelopeId: providers.ids.nextId(),
    envelopeVersion: CURRENT_ENVELOPE_VERSION,
    correlationId: init.correlationId,
    causationId: init.causationId,
    sourceNode: init.sourceNode,
    targetNode: init.targetNode,
    handlerType: init.handlerType,
    operation: init.operation,
    payload: init.payload ?? {},
    metadata: init.metadata ?? {},
    timestamp: providers.clock.now().toISOString(),
    isResponse: false,
    ttlSeconds: init.ttlSeconds,
  };
}

/**
 * The fields every response shares: a new id, the request's correlation id echoed, the
 * request's id as causation, source/target swapped, and `original_target_node` kept.
 */
function responseBase(request: OnexEnvelope, providers: EnvelopeProviders) {
  const metadata: JsonObject = { ...request.metadata };
  if (metadata.original_target_node === undefined && request.targetNode !== undefined) {
    metadata.original_target_node = request.targetNode;
  }
  return {
    envelopeId: providers.ids.nextId(),
    envelopeVersion: CURRENT_ENVELOPE_VERSION,
    correlationId: request.correlationId,
    causationId: request.envelopeId,
    sourceNode: request.targetNode,
    targetNode: request.sourceNode,
    handlerType: request.handlerType,
    operation: request.operation,
    metadata,
    timestamp: providers.clock.now().toISOString(),
    isResponse: true,
  } as const;
}

/** A success response to `request` carrying `payload`. */
export function createSuccessResponse(
  request: OnexEnvelope,
  payload: JsonValue,
  providers: EnvelopeProviders = defaultProviders,
): OnexEnvelope {
  return { ...responseBase(request, providers), payload, success: true };
}

/**
 * An error response to `request`. The error body never carries a stack trace or cause
 * chain; `handler_type` and `operation` are filled from the request when the error
 * does not name them.
 */
export function createErrorResponse(
  request: OnexEnvelope,
  error: OnexError | EnvelopeErrorBody,
  providers: EnvelopeProviders = defaultProviders,
): OnexEnvelope {
  const body: EnvelopeErrorBody = error instanceof OnexError ? error.toEnvelopeError() : { ...error };
  if (body.handler_type === undefined && request.handlerType !== undefined) body.handler_type = request.handlerType;
  if (body.operation === undefined) body.operation = request.operation;
  return { ...responseBase(request, providers), payload: null, success: false, error: body };
}

/** Operation name used on responses to messages that had no usable `operation`. */
export const INVALID_ENVELOPE_OPERATION = 'envelope.invalid';

/**
 * The error response to a message that could not be parsed into an envelope at all.
 * It echoes whatever ids could be salvaged (see `salvageIdentity`), so a sender that
 * did set a correlation id still gets its answer correlated; nothing is dropped.
 */
export function createInvalidEnvelopeResponse(
  salvaged: { correlationId?: string | undefined; envelopeId?: string | undefined; operation?: string | undefined },
  error: OnexError,
  providers: EnvelopeProviders = defaultProviders,
): OnexEnvelope {
  return {
    envelopeId: providers.ids.nextId(),
    envelopeVersion: CURRENT_ENVELOPE_VERSION,
    correlationId: salvaged.correlationId,
    causationId: salvaged.envelopeId,
    operation: salvaged.operation ?? INVALID_ENVELOPE_OPERATION,
    payload: null,
    metadata: {},
    timestamp: providers.clock.now().toISOString(),
    isResponse: true,
    success: false,
    error: error.toEnvelopeError(),
  };
}
