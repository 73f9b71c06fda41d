/**
 * W3C Trace Context on envelopes: where it travels (`metadata.traceparent` and
 * `metadata.tracestate`, and the Kafka record headers of the same names) and how a
 * `traceparent` is read and written. Parsed here, not through a propagator: with no SDK
 * installed the global propagator of `@opentelemetry/api` is a no-op, and the host must
 * still carry a caller's trace on (https://www.w3.org/TR/trace-context/#traceparent-header).
 */
import { TraceFlags, createTraceState, isSpanContextValid, type SpanContext } from '@opentelemetry/api';
import type { JsonValue, OnexEnvelope } from '@onex/core';

/** Metadata key (and Kafka header) carrying the W3C `traceparent`. */
export const TRACEPARENT_KEY = 'traceparent';
/** Metadata key (and Kafka header) carrying the W3C `tracestate`. */
export const TRACESTATE_KEY = 'tracestate';

/**
 * Version `00`: `00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`. A later version may
 * append fields after a dash; its first four fields are read the same way (the spec's
 * forward-compatibility rule). Upper-case hex is invalid by the spec.
 */
const TRACEPARENT_RE = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
/** The spec caps tracestate at 32 list members; 512 characters is what propagators must keep. */
const MAX_TRACESTATE_LENGTH = 512;

/**
 * The remote span context a `traceparent` names, or undefined when it is malformed: a
 * bad format, version `ff`, an all-zero trace or span id, or fields after a version-00 value.
 */
export function parseTraceparent(traceparent: string, tracestate?: string): SpanContext | undefined {
  const m = TRACEPARENT_RE.exec(traceparent.trim());
  if (m === null) return undefined;
  const [, version, traceId, spanId, flags, rest] = m as unknown as [string, string, string, string, string, string | undefined];
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  const context: SpanContext = {
    traceId,
    spanId,
    // Only the sampled bit is defined; other bits are kept out (the spec says to ignore them).
    traceFlags: Number.parseInt(flags, 16) & TraceFlags.SAMPLED,
    isRemote: true,
  };
  if (!isSpanContextValid(context)) return undefined;
  if (tracestate !== undefined && tracestate.length > 0 && tracestate.length <= MAX_TRACESTATE_LENGTH) {
    return { ...context, traceState: createTraceState(tracestate) };
  }
  return context;
}

/** The `traceparent` of a span context (always version 00). */
export function formatTraceparent(context: SpanContext): string {
  const flags = (context.traceFlags & TraceFlags.SAMPLED).toString(16).padStart(2, '0');
  return `00-${context.traceId}-${context.spanId}-${flags}`;
}

/** Where an envelope's trace context was found, for the debug line about a malformed one. */
export type TraceContextSource = 'metadata' | 'header';

/** What the carriers hold: a valid context, a malformed value (to drop), or nothing. */
export type CarriedTraceContext =
  | { readonly kind: 'valid'; readonly context: SpanContext; readonly source: TraceContextSource }
  | { readonly kind: 'malformed'; readonly source: TraceContextSource }
  | { readonly kind: 'none' };

const NONE: CarriedTraceContext = { kind: 'none' };

/**
 * The trace context an envelope arrived with. The envelope body wins over transport
 * headers, as for its ids; a header fills in only when the metadata carries no traceparent.
 */
export function carriedTraceContext(metadata: Readonly<Record<string, JsonValue>>, headers: Readonly<Record<string, string>> | undefined): CarriedTraceContext {
  const fromMetadata = metadata[TRACEPARENT_KEY];
  if (fromMetadata !== undefined) {
    const state = metadata[TRACESTATE_KEY];
    const context = typeof fromMetadata === 'string' ? parseTraceparent(fromMetadata, typeof state === 'string' ? state : undefined) : undefined;
    return context === undefined ? { kind: 'malformed', source: 'metadata' } : { kind: 'valid', context, source: 'metadata' };
  }
  const fromHeader = headers?.[TRACEPARENT_KEY];
  if (fromHeader === undefined) return NONE;
  const context = parseTraceparent(fromHeader, headers?.[TRACESTATE_KEY]);
  return context === undefined ? { kind: 'malformed', source: 'header' } : { kind: 'valid', context, source: 'header' };
}

/** The W3C headers of an HTTP request (`traceparent`, `tracestate`), as received. */
export interface TraceHeaders {
  readonly traceparent?: string | undefined;
  readonly tracestate?: string | undefined;
}

/**
 * The envelope with the trace context of the request that brought it (the ingress's HTTP
 * headers) written into its metadata, when its metadata carries no `traceparent`: the body
 * wins, as on Kafka. A malformed `traceparent` is dropped (and its `tracestate` with it),
 * by the same rules as one in the metadata.
 */
export function withHeaderTraceContext(envelope: OnexEnvelope, headers: TraceHeaders | undefined): OnexEnvelope {
  const traceparent = headers?.traceparent;
  if (traceparent === undefined || envelope.metadata[TRACEPARENT_KEY] !== undefined) return envelope;
  const context = parseTraceparent(traceparent);
  if (context === undefined) return envelope;
  const tracestate = headers?.tracestate;
  const carried: Record<string, string> = { [TRACEPARENT_KEY]: traceparent.trim() };
  if (tracestate !== undefined && tracestate.length > 0 && tracestate.length <= MAX_TRACESTATE_LENGTH) carried[TRACESTATE_KEY] = tracestate;
  return { ...envelope, metadata: { ...envelope.metadata, ...carried } };
}
