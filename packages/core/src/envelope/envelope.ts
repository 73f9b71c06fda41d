import type { JsonObject, JsonValue } from '../json.js';
import type { EnvelopeErrorBody } from '../errors/onex-error.js';
import { EnvelopeValidationError } from '../errors/runtime-errors.js';
import { readWireEnvelope, salvageIdentity } from './envelope-wire-reader.js';
import { defaultProviders, type EnvelopeProviders } from './providers.js';

export { salvageIdentity };

/**
 * The unified message of the runtime. Code works with this camelCase, read-only shape;
 * the snake_case wire form exists only inside `parseEnvelope` / `toWireEnvelope`.
 */
export interface OnexEnvelope {
  readonly envelopeId: string;
  /** "MAJOR.MINOR.PATCH"; the wire also accepts `{major, minor, patch}`. */
  readonly envelopeVersion: string;
  /** Absent only before the host assigned one; never changed once set. */
  readonly correlationId?: string | undefined;
  /** The `envelopeId` of the envelope that caused this one. */
  readonly causationId?: string | undefined;
  readonly sourceNode?: string | undefined;
  readonly targetNode?: string | undefined;
  /** Handler type; when absent it defaults to the operation's prefix (`db.query` → `db`). */
  readonly handlerType?: string | undefined;
  readonly operation: string;
  readonly payload: JsonValue;
  /** `tenant_id` is reserved; `original_target_node` is set on responses. */
  readonly metadata: Readonly<JsonObject>;
  /** ISO-8601 UTC. */
  readonly timestamp: string;
  readonly isResponse: boolean;
  readonly success?: boolean | undefined;
  readonly error?: EnvelopeErrorBody | undefined;
  readonly ttlSeconds?: number | undefined;
}

/** The snake_case JSON object of an envelope, as it travels on a bus or over HTTP. */
export interface WireEnvelope {
  envelope_id: string;
  envelope_version: string;
  correlation_id?: string;
  causation_id?: string;
  source_node?: string;
  target_node?: string;
  handler_type?: string;
  operation: string;
  payload: JsonValue;
  metadata: JsonObject;
  timestamp: string;
  is_response: boolean;
  success?: boolean;
  error?: EnvelopeErrorBody;
  ttl_seconds?: number;
}

/** One problem with an incoming envelope: the field and what is wrong with it. */
export interface EnvelopeIssue {
  readonly path: string;
  readonly message: string;
}

/**
 * Reads an envelope from JSON text or an already-decoded value. Accepts full envelopes
 * and the earlier system's plain request objects (`operation`, `payload`, optionally
 * `correlation_id`, `handler_type`, `envelope_id`); missing `envelope_id` and
 * `timestamp` come from the providers. A missing `correlation_id` stays missing: only
 * the runtime host may assign one.
 *
 * @throws EnvelopeValidationError listing every problem (field path and reason).
 */
export function parseEnvelope(input: string | unknown, providers: EnvelopeProviders = defaultProviders): OnexEnvelope {
  let value: unknown = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (cause) {
      throw new EnvelopeValidationError(`Envelope is not valid JSON: ${(cause as Error).message}`, {
        hint: 'Send a JSON object with at least "operation" and "payload".',
        details: { issues: [{ path: '<root>', message: 'malformed JSON' }] },
      });
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new EnvelopeValidationError('Envelope must be a JSON object', {
      hint: 'Send a JSON object with at least "operation" and "payload".',
      details: { issues: [{ path: '<root>', message: `got ${Array.isArray(value) ? 'an array' : typeof value}` }] },
      ...salvageIdentity(value),
    });
  }
  return readWireEnvelope(value, providers);
}

/** The wire object of an envelope, keys in a stable order, absent fields omitted. */
export function toWireEnvelope(envelope: OnexEnvelope): WireEnvelope {
  const wire: WireEnvelope = {
    envelope_id: envelope.envelopeId,
    envelope_version: envelope.envelopeVersion,
    operation: envelope.operation,
    payload: envelope.payload,
    metadata: envelope.metadata as JsonObject,
    timestamp: envelope.timestamp,
    is_response: envelope.isResponse,
  };
  if (envelope.correlationId !== undefined) wire.correlation_id = envelope.correlationId;
  if (envelope.causationId !== undefined) wire.causation_id = envelope.causationId;
  if (envelope.sourceNode !== undefined) wire.source_node = envelope.sourceNode;
  if (envelope.targetNode !== undefined) wire.target_node = envelope.targetNode;
  if (envelope.handlerType !== undefined) wire.handler_type = envelope.handlerType;
  if (envelope.success !== undefined) wire.success = envelope.success;
  if (envelope.error !== undefined) wire.error = envelope.error;
  if (envelope.ttlSeconds !== undefined) wire.ttl_seconds = envelope.ttlSeconds;
  return wire;
}

/** JSON text of an envelope; `parseEnvelope(serializeEnvelope(e))` equals `e`. */
export function serializeEnvelope(envelope: OnexEnvelope): string {
  return JSON.stringify(toWireEnvelope(envelope));
}

/** The handler type an envelope asks for: explicit `handlerType`, else the operation prefix. */
export function resolveHandlerType(envelope: Pick<OnexEnvelope, 'handlerType' | 'operation'>): string {
  if (envelope.handlerType) return envelope.handlerType;
  const dot = envelope.operation.indexOf('.');
  return dot === -1 ? envelope.operation : envelope.operation.slice(0, dot);
}

/**
 * A copy of `envelope` carrying `correlationId`. Only the runtime host calls this, and
 * only for an envelope that has none (see the correlation id rules in docs/envelope.md).
 */
export function withCorrelationId(envelope: OnexEnvelope, correlationId: string): OnexEnvelope {
  return {
    envelopeId: envelope.envelopeId,
    envelopeVersion: envelope.envelopeVersion,
    correlationId,
    causationId: envelope.causationId,
    sourceNode: envelope.sourceNode,
    targetNode: envelope.targetNode,
    handlerType: envelope.handlerType,
    operation: envelope.operation,
    payload: envelope.payload,
    metadata: envelope.metadata,
    timestamp: envelope.timestamp,
    isResponse: envelope.isResponse,
    success: envelope.success,
    error: envelope.error,
    ttlSeconds: envelope.ttlSeconds,
  };
}
