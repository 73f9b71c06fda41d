import type { JsonObject, JsonValue } from '../json.js';
import type { EnvelopeErrorBody } from '../errors/onex-error.js';
import { OnexError } from '../errors/onex-error.js';
import { CURRENT_ENVELOPE_VERSION } from './envelope-schema.js';
import type { OnexEnvelope } from './envelope.js';
import { defaultProviders, isoNow, type EnvelopeProviders } from './providers.js';

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

/**
 * Every factory builds envelopes as one object literal with all fields in this same
 * order, so V8 gives them one shape: spreads and late-added keys made response
 * construction the most expensive step of routing.
 */

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
    timestamp: isoNow(providers.clock),
    isResponse: false,
    success: undefined,
    error: undefined,
    ttlSeconds: init.ttlSeconds,
  };
}

const NO_METADATA: Readonly<JsonObject> = Object.freeze({});

/** The request's metadata, plus `original_target_node` when the request named a node. */
function responseMetadata(request: OnexEnvelope): Readonly<JsonObject> {
  const target = request.targetNode;
  const source = request.metadata;
  let empty = true;
  for (const _key in source) {
    empty = false;
    break;
  }
  if (empty) return target === undefined ? NO_METADATA : { original_target_node: target };
  if (target === undefined || source.original_target_node !== undefined) return source;
  return { ...source, original_target_node: target };
}

/**
 * A response to `request`: a new id, the request's correlation id echoed, the request's
 * id as causation, source/target swapped, `original_target_node` kept.
 */
function response(
  request: OnexEnvelope,
  payload: JsonValue,
  success: boolean,
  error: EnvelopeErrorBody | undefined,
  providers: EnvelopeProviders,
): OnexEnvelope {
  return {
    envelopeId: providers.ids.nextId(),
    envelopeVersion: CURRENT_ENVELOPE_VERSION,
    correlationId: request.correlationId,
    causationId: request.envelopeId,
    sourceNode: request.targetNode,
    targetNode: request.sourceNode,
    handlerType: request.handlerType,
    operation: request.operation,
    payload,
    metadata: responseMetadata(request),
    timestamp: isoNow(providers.clock),
    isResponse: true,
    success,
    error,
    ttlSeconds: undefined,
  };
}

/** A success response to `request` carrying `payload`. */
export function createSuccessResponse(
  request: OnexEnvelope,
  payload: JsonValue,
  providers: EnvelopeProviders = defaultProviders,
): OnexEnvelope {
  return response(request, payload, true, undefined, providers);
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
  return response(request, null, false, body, providers);
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
    sourceNode: undefined,
    targetNode: undefined,
    handlerType: undefined,
    operation: salvaged.operation ?? INVALID_ENVELOPE_OPERATION,
    payload: null,
    metadata: {},
    timestamp: isoNow(providers.clock),
    isResponse: true,
    success: false,
    error: error.toEnvelopeError(),
    ttlSeconds: undefined,
  };
}
