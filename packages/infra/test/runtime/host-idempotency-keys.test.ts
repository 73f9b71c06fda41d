/**
 * An envelope_id is an idempotency key for one request. The host answers a resend of the
 * same request (same operation, target, handler type and payload, whatever its key order,
 * timestamp or metadata) with the stored answer, and refuses the same id carrying a
 * different request with IDEMPOTENCY_KEY_CONFLICT: dead-lettered on a bus, HTTP 409 at
 * the ingress, and never overwriting the first answer.
 */
import type { OnexEnvelope, WireEnvelope } from '@onex/core';
import { afterEach, describe, expect, it } from 'vitest';
import { InMemoryIdempotencyStore } from '../../src/idempotency/in-memory-idempotency-store.js';
import { startIngressServer } from '../../src/runtime/ingress-server.js';
import { RuntimeHostProcess } from '../../src/runtime/runtime-host-process.js';
import { COMPATIBLE_VERSION_FACTS, Cleanup, FakeHandler, FakeHandlerSource, Gate, INPUT_TOPIC, OUTPUT_TOPIC, SettlementRecordingBus, eventually, requestFactory, testSettings } from './fakes.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const request = requestFactory(0xa000);
const ENVELOPE_ID = '00000000-0000-4000-8000-0000000000c1';
const CORRELATION_ID = '00000000-0000-4000-8000-0000000000c2';

/** A request envelope with the fixed id and correlation under test. */
function keyed(init: Parameters<typeof request>[0]): OnexEnvelope {
  return { ...request({ correlationId: CORRELATION_ID, ...init }), envelopeId: ENVELOPE_ID };
}

async function startHost(handler: FakeHandler, store = new InMemoryIdempotencyStore()) {
  const bus = new SettlementRecordingBus();
  const host = new RuntimeHostProcess({
    directHandlerCalls: true,
    settings: testSettings(),
    bus,
    handlerSource: new FakeHandlerSource([handler]),
    versionFacts: COMPATIBLE_VERSION_FACTS,
    hostId: 'host-under-test',
    idempotencyStore: store,
  });
  cleanup.add(() => host.stop(), host);
  await host.start();
  return { host, bus, outputs: (): OnexEnvelope[] => bus.envelopesOn(OUTPUT_TOPIC) };
}

describe('host: envelope_id reused', () => {
  it('answers the same request again from the store, whatever its key order, timestamp and metadata', async () => {
    const handler = new FakeHandler('http');
    const { host, bus, outputs } = await startHost(handler);
    const first = keyed({ operation: 'http.get', payload: { a: 1, b: { c: [1, 2], d: 'x' } } });
    const resend: OnexEnvelope = {
      ...first,
      payload: { b: { d: 'x', c: [1, 2] }, a: 1 },
      timestamp: '2024-01-01T00:00:00.000Z',
      metadata: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
      handlerType: 'http',
    };
    await bus.publishEnvelope(first, INPUT_TOPIC);
    await eventually(() => expect(outputs()).toHaveLength(1));
    await bus.publishEnvelope(resend, INPUT_TOPIC);
    await eventually(() => expect(outputs()).toHaveLength(2));
    expect(handler.calls).toHaveLength(1);
    const [answer, replay] = outputs();
    expect(answer?.success).toBe(true);
    // The stored answer itself; only the trace context the replay goes out under is the resend's.
    expect({ ...replay, metadata: {} }).toEqual({ ...answer, metadata: {} });
    expect(host.health().replayed).toBe(1);
  });

  it.each([
    ['payload', { payload: { a: 2 } }],
    ['operation', { operation: 'http.post' }],
    ['target_node', { targetNode: 'some-node' }],
    ['handler_type', { handlerType: 'db' }],
  ] as const)('refuses the same envelope_id with another %s, dead-letters it, and leaves the first answer untouched', async (_field, change) => {
    const handler = new FakeHandler('http');
    const { bus, outputs } = await startHost(handler);
    const first = keyed({ operation: 'http.get', payload: { a: 1 } });
    await bus.publishEnvelope(first, INPUT_TOPIC);
    await eventually(() => expect(outputs()).toHaveLength(1));
    const [answer] = outputs();

    await bus.publishEnvelope({ ...first, ...change }, INPUT_TOPIC);
    await eventually(() => expect(outputs()).toHaveLength(2));
    expect(outputs()[1]).toMatchObject({
      isResponse: true,
      success: false,
      causationId: ENVELOPE_ID,
      correlationId: first.correlationId,
      payload: null,
      error: { code: 'IDEMPOTENCY_KEY_CONFLICT', retryable: false },
    });
    expect(bus.settlements[1]).toMatchObject({ kind: 'dead_letter', reason: { code: 'IDEMPOTENCY_KEY_CONFLICT', attempts: 1 } });
    expect(handler.calls).toHaveLength(1);

    // The first request, resent, still gets its own answer.
    await bus.publishEnvelope(first, INPUT_TOPIC);
    await eventually(() => expect(outputs()).toHaveLength(3));
    expect(outputs()[2]).toEqual(answer);
    expect(handler.calls).toHaveLength(1);
  });

  it('refuses a different request under the id of one still executing, and lets the first finish', async () => {
    const gate = new Gate();
    const handler = new FakeHandler('http', { executeGate: gate });
    const { host } = await startHost(handler);
    const wire = { envelope_id: ENVELOPE_ID, operation: 'http.get', payload: { n: 1 } };
    const first = host.submit(wire, 5_000);
    await eventually(() => expect(handler.calls).toHaveLength(1));
    const other = await host.submit({ ...wire, payload: { n: 2 } }, 5_000);
    expect(other.status).toBe('conflict');
    expect(other.envelope.error).toMatchObject({ code: 'IDEMPOTENCY_KEY_CONFLICT', retryable: false });
    gate.open();
    const answered = await first;
    expect(answered.status).toBe('ok');
    expect(answered.envelope.payload).toMatchObject({ echo: { n: 1 } });
    expect(handler.calls).toHaveLength(1);
  });
});

describe('ingress: envelope_id reused', () => {
  async function post(url: string, body: WireEnvelope | Record<string, unknown>): Promise<{ status: number; json: Record<string, unknown> }> {
    const res = await fetch(`${url}/v1/envelopes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  }

  it('answers 200 with the stored answer for the same request, 409 for a different one, and keeps the first answer', async () => {
    const handler = new FakeHandler('http');
    const { host } = await startHost(handler);
    const server = await startIngressServer(host, { port: 0 });
    cleanup.add(() => server.close(), server);

    const wire = { envelope_id: ENVELOPE_ID, operation: 'http.get', payload: { a: 1, b: 2 } };
    const first = await post(server.url, wire);
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ success: true, causation_id: ENVELOPE_ID });

    const same = await post(server.url, { ...wire, payload: { b: 2, a: 1 } });
    expect(same.status).toBe(200);
    expect(same.json).toEqual(first.json);

    const different = await post(server.url, { ...wire, payload: { a: 1, b: 3 } });
    expect(different.status).toBe(409);
    expect(different.json).toMatchObject({ success: false, causation_id: ENVELOPE_ID, error: { code: 'IDEMPOTENCY_KEY_CONFLICT', retryable: false } });

    const again = await post(server.url, wire);
    expect(again.status).toBe(200);
    expect(again.json).toEqual(first.json);
    expect(handler.calls).toHaveLength(1);
  });
});
