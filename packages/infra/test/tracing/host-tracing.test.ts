/**
 * Tracing through a real host on the in-memory bus, with an in-memory OpenTelemetry SDK
 * installed the way a user's preload would: the envelope's span continues the caller's
 * trace, each handler call is its child, and the response carries the trace on.
 */
import { HandlerExecutionError, InfraConnectionError, type JsonObject, type OnexEnvelope } from '@onex/core';
import { deterministicProviders } from '@onex/core/testing';
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { envelopeRecord } from '../../src/event-bus/kafka/kafka-event-bus.js';
import { RuntimeHostProcess } from '../../src/runtime/runtime-host-process.js';
import { COMPATIBLE_VERSION_FACTS, Cleanup, FakeHandler, FakeHandlerSource, INPUT_TOPIC, OUTPUT_TOPIC, RecordingBus, eventually, requestFactory, testSettings } from '../runtime/fakes.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${CALLER_SPAN}-01`;
const CORRELATION = '1a2b3c4d-0000-4000-8000-000000000001';

const exporter = new InMemorySpanExporter();
const contextManager = new AsyncLocalStorageContextManager();
const cleanup = new Cleanup();
const request = requestFactory();

beforeAll(() => {
  contextManager.enable();
  context.setGlobalContextManager(contextManager);
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
});
afterAll(() => {
  trace.disable();
  context.disable();
});
afterEach(async () => {
  await cleanup.run();
  exporter.reset();
});

async function startedHost(handler: FakeHandler) {
  const bus = new RecordingBus();
  const host = new RuntimeHostProcess({
    directHandlerCalls: true,
    settings: testSettings({ handlers: [{ type: handler.handlerType, config: {} }] }),
    bus,
    handlerSource: new FakeHandlerSource([handler]),
    versionFacts: COMPATIBLE_VERSION_FACTS,
    providers: deterministicProviders(),
  });
  cleanup.add(() => host.stop(), host);
  await host.start();
  return { host, bus };
}

/** Sends one envelope through the host and waits for its response on the output topic. */
async function roundTrip(handler: FakeHandler, metadata: JsonObject, headers?: Record<string, string>): Promise<OnexEnvelope> {
  const { bus } = await startedHost(handler);
  const envelope = request({ operation: `${handler.handlerType}.fake`, correlationId: CORRELATION, metadata });
  await bus.publish({ topic: INPUT_TOPIC, value: envelope, key: CORRELATION, ...(headers === undefined ? {} : { headers }) });
  await eventually(() => expect(bus.envelopesOn(OUTPUT_TOPIC)).toHaveLength(1));
  return bus.envelopesOn(OUTPUT_TOPIC)[0] as OnexEnvelope;
}

function spanOf(kind: SpanKind): ReadableSpan {
  const spans = exporter.getFinishedSpans().filter((s) => s.kind === kind);
  expect(spans).toHaveLength(1);
  return spans[0] as ReadableSpan;
}

describe('tracing through the host (SDK installed)', () => {
  it('continues the caller trace: envelope span under the caller, handler span under it, response traceparent names the envelope span', async () => {
    const response = await roundTrip(new FakeHandler('http'), { traceparent: TRACEPARENT, tracestate: 'vendor=abc' });

    const envelopeSpan = spanOf(SpanKind.CONSUMER);
    const handlerSpan = spanOf(SpanKind.CLIENT);
    expect(envelopeSpan.name).toBe(`process ${INPUT_TOPIC}`);
    expect(envelopeSpan.spanContext().traceId).toBe(TRACE_ID);
    expect(envelopeSpan.parentSpanContext?.spanId).toBe(CALLER_SPAN);
    expect(envelopeSpan.attributes).toMatchObject({ 'onex.operation': 'http.fake', 'onex.outcome': 'success', 'onex.correlation_id': CORRELATION, 'messaging.destination.name': INPUT_TOPIC });

    expect(handlerSpan.name).toBe('execute http');
    expect(handlerSpan.spanContext().traceId).toBe(TRACE_ID);
    expect(handlerSpan.parentSpanContext?.spanId).toBe(envelopeSpan.spanContext().spanId);
    expect(handlerSpan.attributes).toEqual({ 'onex.handler_type': 'http', 'onex.operation': 'http.fake', 'onex.outcome': 'success' });

    expect(response.success).toBe(true);
    expect(response.metadata).toEqual({ traceparent: `00-${TRACE_ID}-${envelopeSpan.spanContext().spanId}-01`, tracestate: 'vendor=abc' });
  });

  it('reads the trace context from transport headers when the metadata carries none', async () => {
    const response = await roundTrip(new FakeHandler('http'), {}, { traceparent: TRACEPARENT });
    const envelopeSpan = spanOf(SpanKind.CONSUMER);
    expect(envelopeSpan.parentSpanContext?.spanId).toBe(CALLER_SPAN);
    expect(response.metadata.traceparent).toBe(`00-${TRACE_ID}-${envelopeSpan.spanContext().spanId}-01`);
  });

  it('drops a malformed traceparent without failing the envelope: the trace starts at the host', async () => {
    const response = await roundTrip(new FakeHandler('http'), { traceparent: '00-NOT-A-TRACE-01', tenant_id: 'acme' });
    expect(response.success).toBe(true);
    const envelopeSpan = spanOf(SpanKind.CONSUMER);
    expect(envelopeSpan.parentSpanContext).toBeUndefined();
    expect(response.metadata).toEqual({ tenant_id: 'acme', traceparent: `00-${envelopeSpan.spanContext().traceId}-${envelopeSpan.spanContext().spanId}-01` });
  });

  it('marks a failed handler call and its envelope as errors, with the code and not the message', async () => {
    const handler = new FakeHandler('db', {
      behaviour: () => {
        throw new HandlerExecutionError('relation "secret_table" does not exist', { handlerType: 'db' });
      },
    });
    const response = await roundTrip(handler, { traceparent: TRACEPARENT });
    expect(response.success).toBe(false);
    for (const span of [spanOf(SpanKind.CLIENT), spanOf(SpanKind.CONSUMER)]) {
      expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'HANDLER_EXECUTION_ERROR' });
      expect(span.attributes).toMatchObject({ 'onex.outcome': 'error', 'onex.error_code': 'HANDLER_EXECUTION_ERROR', 'error.type': 'HANDLER_EXECUTION_ERROR' });
      expect(JSON.stringify(span.attributes)).not.toContain('secret_table');
    }
  });

  it('gives every retry attempt its own handler span under the one envelope span', async () => {
    let calls = 0;
    const handler = new FakeHandler('http', {
      behaviour: () => {
        calls += 1;
        if (calls === 1) throw new InfraConnectionError('connection refused', { transportType: 'http', retryable: true });
        return { ok: true };
      },
    });
    const bus = new RecordingBus();
    const host = new RuntimeHostProcess({
      directHandlerCalls: true,
      settings: testSettings({ handlers: [{ type: 'http', config: {} }], retryPolicies: { http: { maxRetries: 1, backoffStrategy: 'fixed', baseDelayMs: 1, maxDelayMs: 1 } } }),
      bus,
      handlerSource: new FakeHandlerSource([handler]),
      versionFacts: COMPATIBLE_VERSION_FACTS,
      providers: deterministicProviders(),
    });
    cleanup.add(() => host.stop(), host);
    await host.start();
    await bus.publishEnvelope(request({ operation: 'http.fake', correlationId: CORRELATION, metadata: { traceparent: TRACEPARENT } }), INPUT_TOPIC);
    await eventually(() => expect(bus.envelopesOn(OUTPUT_TOPIC)).toHaveLength(1));

    const envelopeSpan = spanOf(SpanKind.CONSUMER);
    const attempts = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CLIENT);
    expect(attempts.map((s) => s.attributes['onex.outcome'])).toEqual(['error', 'success']);
    for (const s of attempts) expect(s.parentSpanContext?.spanId).toBe(envelopeSpan.spanContext().spanId);
    expect(envelopeSpan.attributes).toMatchObject({ 'onex.attempts': 2, 'onex.outcome': 'success' });
  });
});

describe('tracing without an SDK', () => {
  it('carries the caller trace context through unchanged and adds none when there was none', async () => {
    trace.disable();
    context.disable();
    try {
      const carried = await roundTrip(new FakeHandler('http'), { traceparent: TRACEPARENT, tracestate: 'vendor=abc' });
      expect(carried.metadata).toEqual({ traceparent: TRACEPARENT, tracestate: 'vendor=abc' });
      await cleanup.run();
      const none = await roundTrip(new FakeHandler('http'), {});
      expect(none.metadata).toEqual({});
      expect(exporter.getFinishedSpans()).toEqual([]);
    } finally {
      context.setGlobalContextManager(contextManager);
      trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    }
  });
});

describe('trace context on Kafka records', () => {
  it('writes a valid traceparent and tracestate as record headers, and leaves a malformed one out', () => {
    const good = request({ operation: 'http.fake', correlationId: CORRELATION, metadata: { traceparent: TRACEPARENT, tracestate: 'vendor=abc' } });
    expect(envelopeRecord(good, OUTPUT_TOPIC).headers).toMatchObject({ traceparent: TRACEPARENT, tracestate: 'vendor=abc' });
    const bad = request({ operation: 'http.fake', correlationId: CORRELATION, metadata: { traceparent: 'garbage' } });
    expect(envelopeRecord(bad, OUTPUT_TOPIC).headers).not.toHaveProperty('traceparent');
  });
});
