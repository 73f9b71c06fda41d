/**
 * W3C trace context through a real broker: a plain kafkajs producer writes an envelope whose
 * record carries a `traceparent`, the host built from a contract (Kafka bus) processes it
 * with an in-memory OpenTelemetry SDK installed the way a user's preload would, and the
 * response record on the output topic continues the caller's trace in its headers and its
 * metadata. A failure dead-lettered after its retries keeps the caller's context too.
 */
import { InfraConnectionError, parseRuntimeHostContract } from '@onex/core';
import { HANDLER_CATALOG, createRuntimeHostFromContract, type RuntimeHostProcess } from '@onex/infra';
import { SpanKind, context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeHandler, FakeHandlerSource } from '../runtime/fakes.js';
import { KafkaKit, waitFor, wireEnvelope, type ReadRecord, type TopicSet } from '../helpers/kafka-kit.js';
import { KAFKA_BROKERS, kafkaServerAvailable } from '../helpers/kafka-server.js';

const available = await kafkaServerAvailable();

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${CALLER_SPAN}-01`;

const exporter = new InMemorySpanExporter();
const contextManager = new AsyncLocalStorageContextManager();

function contractFor(t: TopicSet) {
  return parseRuntimeHostContract(
    [
      'runtime:',
      '  name: "kafka-trace-it"',
      '  version: "1.0.0"',
      '  event_bus:',
      '    kind: kafka',
      '    config:',
      '      bootstrap_servers: "${KAFKA_IT_BROKERS}"',
      `      consumer_group: "${t.group}"`,
      '      commit_interval_ms: 50',
      '      session_timeout_ms: 10000',
      '      heartbeat_interval_ms: 1000',
      '      topics:',
      `        input: "${t.input}"`,
      `        output: "${t.output}"`,
      `        dead_letter: "${t.deadLetter}"`,
      '  handlers:',
      '    - type: http',
      '      config:',
      '        timeout_ms: 2000',
      '        retry_policy: { max_retries: 1, backoff_strategy: fixed, base_delay_ms: 20, max_delay_ms: 20 }',
      '  nodes: []',
      '  ingress:',
      '    enabled: false',
    ].join('\n'),
    { catalog: HANDLER_CATALOG },
  ).contract;
}

const parse = (r: ReadRecord): Record<string, unknown> => JSON.parse(r.value) as Record<string, unknown>;

/** The finished spans of `kind` in the trace `traceId`. */
function spansOf(kind: SpanKind, traceId = TRACE_ID): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((s) => s.kind === kind && s.spanContext().traceId === traceId);
}

describe.skipIf(!available)('trace context over a real Kafka broker (SDK installed)', { timeout: 120_000 }, () => {
  const kit = new KafkaKit();
  const hosts: RuntimeHostProcess[] = [];

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
    await Promise.allSettled(hosts.splice(0).map((h) => h.stop()));
    await kit.close();
    exporter.reset();
  });

  async function startHost(t: TopicSet, handler: FakeHandler): Promise<RuntimeHostProcess> {
    const host = await createRuntimeHostFromContract({ directHandlerCalls: true, contract: contractFor(t), env: { KAFKA_IT_BROKERS: KAFKA_BROKERS }, handlerSource: new FakeHandlerSource([handler]) });
    hosts.push(host);
    await host.start();
    await waitFor(() => expect(host.health().ready).toBe(true), 30_000);
    return host;
  }

  it.each<{ carrier: string; headers: Record<string, string>; metadata: Record<string, string> }>([
    { carrier: 'record headers only', headers: { traceparent: TRACEPARENT, tracestate: 'vendor=abc' }, metadata: {} },
    { carrier: 'envelope metadata', headers: {}, metadata: { traceparent: TRACEPARENT, tracestate: 'vendor=abc' } },
  ])('continues the caller trace carried in $carrier: the response record names the envelope span in its headers and metadata', async ({ headers, metadata }) => {
    const t = await kit.topics(1, 'trace');
    await startHost(t, new FakeHandler('http'));
    const out = await kit.reader(t.output);
    const producer = await kit.producer();
    const sent = wireEnvelope({ operation: 'http.fake', payload: { n: 1 }, metadata });
    await producer.send({ topic: t.input, messages: [{ key: sent.correlation, value: sent.text, headers }] });
    await waitFor(() => expect(out).toHaveLength(1));
    await waitFor(() => expect(spansOf(SpanKind.CONSUMER)).toHaveLength(1));

    const [envelopeSpan] = spansOf(SpanKind.CONSUMER) as [ReadableSpan];
    expect(envelopeSpan.name).toBe(`process ${t.input}`);
    expect(envelopeSpan.parentSpanContext?.spanId).toBe(CALLER_SPAN);
    expect(envelopeSpan.attributes).toMatchObject({ 'messaging.system': 'kafka', 'messaging.destination.name': t.input, 'onex.outcome': 'success' });
    const handlerSpans = spansOf(SpanKind.CLIENT);
    expect(handlerSpans).toHaveLength(1);
    expect(handlerSpans[0]?.parentSpanContext?.spanId).toBe(envelopeSpan.spanContext().spanId);

    const continued = `00-${TRACE_ID}-${envelopeSpan.spanContext().spanId}-01`;
    const record = out[0] as ReadRecord;
    expect(parse(record)).toMatchObject({ causation_id: sent.id, success: true, metadata: { traceparent: continued, tracestate: 'vendor=abc' } });
    expect(record.headers).toMatchObject({ traceparent: continued, tracestate: 'vendor=abc' });
  });

  it('a failure dead-lettered after its retries: error response continues the trace, the dead-letter record keeps the caller context', async () => {
    const t = await kit.topics(1, 'tracedlq');
    const handler = new FakeHandler('http', {
      behaviour: () => {
        throw new InfraConnectionError('dependency down', { transportType: 'http', target: 'dep:80' });
      },
    });
    await startHost(t, handler);
    const out = await kit.reader(t.output);
    const dlq = await kit.reader(t.deadLetter);
    const producer = await kit.producer();
    const sent = wireEnvelope({ operation: 'http.fake' });
    await producer.send({ topic: t.input, messages: [{ key: sent.correlation, value: sent.text, headers: { traceparent: TRACEPARENT } }] });
    await waitFor(() => expect(out).toHaveLength(1));
    await waitFor(() => expect(dlq).toHaveLength(1));
    await waitFor(() => expect(spansOf(SpanKind.CONSUMER)).toHaveLength(1));

    const [envelopeSpan] = spansOf(SpanKind.CONSUMER) as [ReadableSpan];
    expect(envelopeSpan.parentSpanContext?.spanId).toBe(CALLER_SPAN);
    expect(envelopeSpan.attributes).toMatchObject({ 'onex.outcome': 'error', 'onex.attempts': 2, 'onex.error_code': 'INFRA_CONNECTION_ERROR' });
    // Each attempt is its own handler span under the envelope span.
    const attempts = spansOf(SpanKind.CLIENT);
    expect(attempts).toHaveLength(2);
    for (const s of attempts) expect(s.parentSpanContext?.spanId).toBe(envelopeSpan.spanContext().spanId);

    const continued = `00-${TRACE_ID}-${envelopeSpan.spanContext().spanId}-01`;
    expect(parse(out[0] as ReadRecord)).toMatchObject({ success: false, error: { code: 'INFRA_CONNECTION_ERROR' }, metadata: { traceparent: continued } });
    expect((out[0] as ReadRecord).headers.traceparent).toBe(continued);
    // The dead-letter record replays the input as it came: its headers are the original ones,
    // so whoever replays or inspects it joins the caller's trace.
    const dead = dlq[0] as ReadRecord;
    expect(parse(dead)).toMatchObject({ attempts: 2, error: { code: 'INFRA_CONNECTION_ERROR' }, headers: { traceparent: TRACEPARENT } });
    expect(dead.headers).toMatchObject({ traceparent: TRACEPARENT, 'onex-dead-letter-code': 'INFRA_CONNECTION_ERROR' });
  });
});
