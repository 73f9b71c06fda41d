/**
 * The host's spans, through `@opentelemetry/api` only: one span per envelope (CONSUMER when
 * it came off the bus, SERVER when the ingress runs it directly) continuing the trace the
 * envelope carries, and one CLIENT span per handler call under it. Without an installed SDK
 * every span is a non-recording no-op; the caller's trace context is still carried on to
 * the response, whose `traceparent` names the span that produced it. See docs/tracing.md.
 *
 * Attributes are bounded (handler type, operation, node, outcome, error code) and never
 * hold payloads, error messages or secrets; envelope and correlation ids are span
 * attributes, never metric labels.
 */
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context as otelContext,
  isSpanContextValid,
  trace,
  type Attributes,
  type Span,
  type SpanContext,
  type Tracer,
} from '@opentelemetry/api';
import type { JsonObject, OnexEnvelope } from '@onex/core';
import type { Logger } from '../logging/logger.js';
import { TRACEPARENT_KEY, TRACESTATE_KEY, carriedTraceContext, formatTraceparent } from './trace-context.js';

/** The instrumentation scope name spans are reported under. */
export const TRACER_NAME = '@onex/infra';

/** Span attribute names (the messaging ones from the OpenTelemetry semantic conventions, copied: they are not stable in JS). */
export const SPAN_ATTRIBUTES = {
  messagingSystem: 'messaging.system',
  messagingOperationName: 'messaging.operation.name',
  messagingOperationType: 'messaging.operation.type',
  messagingDestination: 'messaging.destination.name',
  messagingMessageId: 'messaging.message.id',
  messagingConversationId: 'messaging.message.conversation_id',
  messagingPartition: 'messaging.destination.partition.id',
  kafkaOffset: 'messaging.kafka.offset',
  errorType: 'error.type',
  handlerType: 'onex.handler_type',
  operation: 'onex.operation',
  node: 'onex.node',
  outcome: 'onex.outcome',
  errorCode: 'onex.error_code',
  retryable: 'onex.error_retryable',
  attempts: 'onex.attempts',
  envelopeId: 'onex.envelope_id',
  correlationId: 'onex.correlation_id',
} as const;

/** Where an envelope came from, for its span. */
export interface EnvelopeOrigin {
  /** `consumer`: taken from the bus; `server`: run by the ingress itself (network bus). */
  readonly kind: 'consumer' | 'server';
  /** The bus kind (`kafka`, `in_memory`). */
  readonly system: string;
  /** The topic the envelope was read from (or would have been). */
  readonly destination: string;
  readonly headers?: Readonly<Record<string, string>> | undefined;
  readonly position?: { readonly partition: number; readonly offset: string } | undefined;
}

export interface EnvelopeTracingOptions {
  readonly logger: Logger;
  /** @default the global tracer provider's tracer named {@link TRACER_NAME} (a no-op until an SDK registers one) */
  readonly tracer?: Tracer;
}

/** What a traced execution returns: a response, or nothing when the host abandoned it. */
type Traced = { readonly response: OnexEnvelope; readonly attempts: number } | undefined;

export class EnvelopeTracing {
  readonly #tracer: Tracer;
  readonly #logger: Logger;

  constructor(options: EnvelopeTracingOptions) {
    // The global tracer is a proxy: an SDK registered after the host was built still gets the spans.
    this.#tracer = options.tracer ?? trace.getTracer(TRACER_NAME);
    this.#logger = options.logger;
  }

  /**
   * Runs `execute` inside the envelope's span (made the active context, so handler spans
   * nest under it when a context manager is installed), ends the span with the outcome,
   * and stamps the response with the span's trace context.
   */
  async envelope<R extends Traced>(envelope: OnexEnvelope, origin: EnvelopeOrigin, execute: () => Promise<R>): Promise<R> {
    const parent = this.#parentContext(envelope, origin.headers);
    const span = this.#tracer.startSpan(
      origin.kind === 'server' ? 'POST /v1/envelopes' : `process ${origin.destination}`,
      { kind: origin.kind === 'server' ? SpanKind.SERVER : SpanKind.CONSUMER },
      parent,
    );
    if (span.isRecording()) span.setAttributes(envelopeAttributes(envelope, origin));
    let result: R;
    try {
      // No SDK and no carried context: no trace to continue, so the context bookkeeping is
      // skipped on this, the common, path (the response is still stamped as below).
      result = !span.isRecording() && parent === ROOT_CONTEXT ? await execute() : await otelContext.with(trace.setSpan(parent, span), execute);
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
      throw error;
    }
    if (result === undefined) {
      // Abandoned while stopping: the envelope is delivered again and traced again then.
      if (span.isRecording()) span.setAttribute(SPAN_ATTRIBUTES.outcome, 'abandoned');
      span.end();
      return result;
    }
    if (span.isRecording()) recordOutcome(span, result.response, result.attempts);
    span.end();
    const stamped = withTraceContext(result.response, span.spanContext());
    return (stamped === result.response ? result : { ...result, response: stamped }) as R;
  }

  /** Runs one handler call in a CLIENT span, a child of the active (envelope) span. */
  async handlerCall<T>(handlerType: string, envelope: OnexEnvelope, nodeSlug: string | undefined, call: () => Promise<T>): Promise<T> {
    const span = this.#tracer.startSpan(`execute ${handlerType}`, { kind: SpanKind.CLIENT }, otelContext.active());
    // A non-recording span records nothing: call straight through.
    if (!span.isRecording()) return call();
    const attributes: Attributes = { [SPAN_ATTRIBUTES.handlerType]: handlerType, [SPAN_ATTRIBUTES.operation]: envelope.operation };
    if (nodeSlug !== undefined) attributes[SPAN_ATTRIBUTES.node] = nodeSlug;
    span.setAttributes(attributes);
    try {
      const value = await call();
      span.setAttribute(SPAN_ATTRIBUTES.outcome, 'success');
      return value;
    } catch (error) {
      recordError(span, errorFacts(error));
      throw error;
    } finally {
      span.end();
    }
  }

  /** The context the envelope's span continues: the carried one, or a new trace (root). */
  #parentContext(envelope: OnexEnvelope, headers: Readonly<Record<string, string>> | undefined) {
    const carried = carriedTraceContext(envelope.metadata, headers);
    if (carried.kind === 'valid') return trace.setSpanContext(ROOT_CONTEXT, carried.context);
    if (carried.kind === 'malformed' && this.#logger.isLevelEnabled('debug')) {
      // Never a reason to refuse the envelope: the trace just starts here.
      this.#logger.debug({ envelope_id: envelope.envelopeId, correlation_id: envelope.correlationId, source: carried.source }, 'malformed traceparent dropped; the trace starts at this host');
    }
    return ROOT_CONTEXT;
  }
}

function envelopeAttributes(envelope: OnexEnvelope, origin: EnvelopeOrigin): Attributes {
  const a: Attributes = {
    [SPAN_ATTRIBUTES.messagingSystem]: origin.system,
    [SPAN_ATTRIBUTES.messagingOperationName]: 'process',
    [SPAN_ATTRIBUTES.messagingOperationType]: 'process',
    [SPAN_ATTRIBUTES.messagingDestination]: origin.destination,
    [SPAN_ATTRIBUTES.messagingMessageId]: envelope.envelopeId,
    [SPAN_ATTRIBUTES.envelopeId]: envelope.envelopeId,
    [SPAN_ATTRIBUTES.operation]: envelope.operation,
  };
  if (envelope.correlationId !== undefined) {
    a[SPAN_ATTRIBUTES.messagingConversationId] = envelope.correlationId;
    a[SPAN_ATTRIBUTES.correlationId] = envelope.correlationId;
  }
  if (envelope.targetNode !== undefined) a[SPAN_ATTRIBUTES.node] = envelope.targetNode;
  if (origin.position !== undefined) {
    a[SPAN_ATTRIBUTES.messagingPartition] = String(origin.position.partition);
    a[SPAN_ATTRIBUTES.kafkaOffset] = origin.position.offset;
  }
  return a;
}

function recordOutcome(span: Span, response: OnexEnvelope, attempts: number): void {
  span.setAttribute(SPAN_ATTRIBUTES.attempts, attempts);
  if (response.handlerType !== undefined) span.setAttribute(SPAN_ATTRIBUTES.handlerType, response.handlerType);
  if (response.success === false) recordError(span, { code: response.error?.code ?? 'INTERNAL_ERROR', retryable: response.error?.retryable === true });
  else span.setAttribute(SPAN_ATTRIBUTES.outcome, 'success');
}

function recordError(span: Span, facts: { readonly code: string; readonly retryable: boolean }): void {
  span.setAttributes({
    [SPAN_ATTRIBUTES.outcome]: 'error',
    [SPAN_ATTRIBUTES.errorCode]: facts.code,
    [SPAN_ATTRIBUTES.errorType]: facts.code,
    [SPAN_ATTRIBUTES.retryable]: facts.retryable,
  });
  // The code, not the message: a span leaves the process, and messages may quote input.
  span.setStatus({ code: SpanStatusCode.ERROR, message: facts.code });
}

/** The code and retryability of anything a handler threw (typed errors carry both). */
export function errorFacts(error: unknown): { readonly code: string; readonly retryable: boolean } {
  if (typeof error === 'object' && error !== null) {
    const { code, retryable } = error as { code?: unknown; retryable?: unknown };
    if (typeof code === 'string' && code.length > 0) return { code, retryable: retryable === true };
  }
  return { code: 'INTERNAL_ERROR', retryable: false };
}

/**
 * The response carrying `span`'s trace context on: its `traceparent` is the span that
 * produced it. When there is no valid context (no trace came in and no SDK is installed),
 * a trace context copied from the request (a malformed one) is removed, not passed on.
 */
export function withTraceContext(response: OnexEnvelope, span: SpanContext): OnexEnvelope {
  const metadata = response.metadata;
  if (!isSpanContextValid(span)) {
    if (metadata[TRACEPARENT_KEY] === undefined && metadata[TRACESTATE_KEY] === undefined) return response;
    const { [TRACEPARENT_KEY]: _p, [TRACESTATE_KEY]: _s, ...rest } = metadata;
    return { ...response, metadata: rest };
  }
  const traceparent = formatTraceparent(span);
  const tracestate = span.traceState?.serialize();
  if (metadata[TRACEPARENT_KEY] === traceparent && (metadata[TRACESTATE_KEY] ?? '') === (tracestate ?? '')) return response;
  const { [TRACESTATE_KEY]: _s, ...rest } = metadata;
  const next: JsonObject = { ...rest, [TRACEPARENT_KEY]: traceparent };
  if (tracestate !== undefined && tracestate.length > 0) next[TRACESTATE_KEY] = tracestate;
  return { ...response, metadata: next };
}
