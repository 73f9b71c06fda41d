/**
 * What the host does for at-least-once delivery, on the in-memory bus: a redelivered
 * envelope is answered from the idempotency store, retryable failures are retried under
 * the handler's policy (never past a stop), an interrupted earlier execution follows the
 * contract's policy, and transport headers never override the body.
 */
import { InfraConnectionError, type OnexEnvelope } from '@onex/core';
import { afterEach, describe, expect, it } from 'vitest';
import { InMemoryIdempotencyStore } from '../../src/idempotency/in-memory-idempotency-store.js';
import type { Logger } from '../../src/logging/logger.js';
import { RuntimeHostProcess, type RuntimeHostSettings } from '../../src/runtime/runtime-host-process.js';
import { systemScheduler, type Scheduler } from '../../src/runtime/scheduler.js';
import { COMPATIBLE_VERSION_FACTS, Cleanup, FakeHandler, FakeHandlerSource, INPUT_TOPIC, OUTPUT_TOPIC, RecordingBus, RedeliveringBus, SettlementRecordingBus, eventually, requestFactory, testSettings } from './fakes.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const request = requestFactory(0x9000);
const RETRY = { maxRetries: 2, backoffStrategy: 'fixed', baseDelayMs: 1, maxDelayMs: 1 } as const;

/** A logger that keeps warnings, to assert what an operator would read. */
function recordingLogger(): { logger: Logger; warnings: Array<{ fields: Record<string, unknown>; msg: string }> } {
  const warnings: Array<{ fields: Record<string, unknown>; msg: string }> = [];
  const noop = () => undefined;
  const logger = {
    warn: (fields: Record<string, unknown>, msg: string) => warnings.push({ fields, msg }),
    info: noop,
    error: noop,
    debug: noop,
    trace: noop,
    fatal: noop,
    isLevelEnabled: () => false,
    child: () => logger,
  } as unknown as Logger;
  return { logger, warnings };
}

async function startHost(handler: FakeHandler, options: { settings?: Partial<RuntimeHostSettings>; store?: InMemoryIdempotencyStore; logger?: Logger; scheduler?: Scheduler; redelivers?: boolean; bus?: RecordingBus } = {}) {
  const bus = options.bus ?? (options.redelivers === false ? new RecordingBus() : new RedeliveringBus());
  const host = new RuntimeHostProcess({
    directHandlerCalls: true,
    settings: testSettings(options.settings),
    bus,
    handlerSource: new FakeHandlerSource([handler]),
    versionFacts: COMPATIBLE_VERSION_FACTS,
    hostId: 'host-under-test',
    ...(options.store ? { idempotencyStore: options.store } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.scheduler ? { scheduler: options.scheduler } : {}),
  });
  cleanup.add(() => host.stop(), host);
  await host.start();
  return { host, bus, outputs: () => bus.envelopesOn(OUTPUT_TOPIC) };
}

describe('host: idempotent execution', () => {
  it('answers a redelivered envelope with its first response and does not execute it again', async () => {
    const handler = new FakeHandler('http');
    const { host, bus, outputs } = await startHost(handler);
    const envelope = request({ operation: 'http.get', payload: { n: 1 }, correlationId: '00000000-0000-4000-8000-0000000000a1' });
    await bus.publishEnvelope(envelope, INPUT_TOPIC);
    await eventually(() => expect(outputs()).toHaveLength(1));
    await bus.publishEnvelope(envelope, INPUT_TOPIC);
    await eventually(() => expect(outputs()).toHaveLength(2));
    expect(handler.calls).toHaveLength(1);
    const [first, second] = outputs();
    expect(second?.envelopeId).toBe(first?.envelopeId);
    expect(second?.payload).toEqual(first?.payload);
    expect(host.health().replayed).toBe(1);
  });

  it('on a bus that never redelivers, spares the store: a second publish is a new request', async () => {
    const handler = new FakeHandler('http');
    const { bus, outputs } = await startHost(handler, { redelivers: false });
    const envelope = request({ operation: 'http.get', payload: {} });
    await bus.publishEnvelope(envelope, INPUT_TOPIC);
    await bus.publishEnvelope(envelope, INPUT_TOPIC);
    await eventually(() => expect(outputs()).toHaveLength(2));
    expect(handler.calls).toHaveLength(2);
  });

  it('gives an ingress client that resends after a timeout the first result, not a second execution', async () => {
    const handler = new FakeHandler('http');
    // The ingress uses the store even on a bus that never redelivers.
    const { host } = await startHost(handler, { redelivers: false });
    const wire = { envelope_id: '00000000-0000-4000-8000-0000000000b2', operation: 'http.get', payload: { once: true } };
    const first = await host.submit(wire, 5_000);
    const again = await host.submit(wire, 5_000);
    expect(first.status).toBe('ok');
    expect(again.status).toBe('ok');
    expect(again.envelope.envelopeId).toBe(first.envelope.envelopeId);
    expect(handler.calls).toHaveLength(1);
  });

  it('re-executes an envelope whose earlier owner was cut off (reexecute), and says so', async () => {
    let now = 1_000;
    const store = new InMemoryIdempotencyStore({ now: () => now });
    const envelope = request({ operation: 'http.get', payload: {} });
    store.claim(envelope.envelopeId, 'a-host-that-died', 10);
    now += 100;
    const handler = new FakeHandler('http');
    const { logger, warnings } = recordingLogger();
    const { bus, outputs } = await startHost(handler, { store, logger });
    await bus.publishEnvelope(envelope, INPUT_TOPIC);
    await eventually(() => expect(outputs()).toHaveLength(1));
    expect(outputs()[0]?.success).toBe(true);
    expect(handler.calls).toHaveLength(1);
    expect(warnings.find((w) => w.msg.includes('executing it again'))?.fields).toMatchObject({ interrupted_owner: 'a-host-that-died', policy: 'reexecute' });
  });

  it('answers EXECUTION_INTERRUPTED and executes nothing when the policy is dead_letter', async () => {
    let now = 1_000;
    const store = new InMemoryIdempotencyStore({ now: () => now });
    const envelope = request({ operation: 'http.get', payload: {} });
    store.claim(envelope.envelopeId, 'a-host-that-died', 10);
    now += 100;
    const handler = new FakeHandler('http');
    const { bus, outputs } = await startHost(handler, { store, settings: { idempotency: { leaseMs: 30_000, onInterrupted: 'dead_letter' } } });
    await bus.publishEnvelope(envelope, INPUT_TOPIC);
    await eventually(() => expect(outputs()).toHaveLength(1));
    expect(outputs()[0]).toMatchObject({ success: false, causationId: envelope.envelopeId, error: { code: 'EXECUTION_INTERRUPTED', retryable: false } });
    expect(handler.calls).toHaveLength(0);
  });
});

describe('host: retries', () => {
  it('retries a retryable failure under the handler policy and answers the success', async () => {
    let calls = 0;
    const handler = new FakeHandler('http', {
      behaviour: () => {
        calls += 1;
        if (calls < 3) throw new InfraConnectionError('blip', { transportType: 'http' });
        return { ok: calls };
      },
    });
    const { logger, warnings } = recordingLogger();
    const { outputs, bus } = await startHost(handler, { settings: { retryPolicies: { http: RETRY } }, logger });
    await bus.publishEnvelope(request({ operation: 'http.get', payload: {} }), INPUT_TOPIC);
    await eventually(() => expect(outputs()).toHaveLength(1));
    expect(outputs()[0]).toMatchObject({ success: true, payload: { ok: 3 } });
    expect(warnings.filter((w) => w.msg === 'retryable failure; retrying').map((w) => w.fields.attempt)).toEqual([1, 2]);
  });

  it('stops after the budget and does not retry non-retryable failures or handlers without a policy', async () => {
    const failing = new FakeHandler('http', {
      behaviour: () => {
        throw new InfraConnectionError('down', { transportType: 'http' });
      },
    });
    const { outputs, bus } = await startHost(failing, { settings: { retryPolicies: { http: RETRY } } });
    await bus.publishEnvelope(request({ operation: 'http.get', payload: {} }), INPUT_TOPIC);
    await eventually(() => expect(outputs()).toHaveLength(1));
    expect(failing.calls).toHaveLength(3);
    expect(outputs()[0]).toMatchObject({ success: false, error: { code: 'INFRA_CONNECTION_ERROR' } });

    const noPolicy = new FakeHandler('http', {
      behaviour: () => {
        throw new InfraConnectionError('down', { transportType: 'http' });
      },
    });
    const second = await startHost(noPolicy);
    await second.bus.publishEnvelope(request({ operation: 'http.get', payload: {} }), INPUT_TOPIC);
    await eventually(() => expect(second.outputs()).toHaveLength(1));
    expect(noPolicy.calls).toHaveLength(1);
  });

  it('abandons a retry in its backoff when the host stops: nothing is answered, the claim is released', async () => {
    const store = new InMemoryIdempotencyStore();
    const handler = new FakeHandler('http', {
      behaviour: () => {
        throw new InfraConnectionError('down', { transportType: 'http' });
      },
    });
    const slow: Scheduler = { ...systemScheduler, random: () => 0.999 };
    const { host, outputs, bus } = await startHost(handler, { store, scheduler: slow, settings: { retryPolicies: { http: { maxRetries: 5, backoffStrategy: 'fixed', baseDelayMs: 60_000, maxDelayMs: 60_000 } } } });
    const envelope = request({ operation: 'http.get', payload: {} });
    await bus.publishEnvelope(envelope, INPUT_TOPIC);
    await eventually(() => expect(handler.calls).toHaveLength(1));
    await host.stop();
    expect(outputs()).toHaveLength(0);
    // Released: another owner may execute it at once.
    expect(store.claim(envelope.envelopeId, 'next-host', 1_000)).toEqual({ status: 'claimed' });
  });
});

describe('host: transport headers', () => {
  it('lets the body win when a header disagrees, logging both; fills a missing correlation id from the header', async () => {
    const handler = new FakeHandler('http');
    const { logger, warnings } = recordingLogger();
    const { bus, outputs } = await startHost(handler, { logger });
    const body: OnexEnvelope = request({ operation: 'http.get', payload: {}, correlationId: '00000000-0000-4000-8000-0000000000c1' });
    await bus.publish({ topic: INPUT_TOPIC, value: body, headers: { correlation_id: '00000000-0000-4000-8000-0000000000ff', envelope_id: 'not-the-id' } });
    await eventually(() => expect(outputs()).toHaveLength(1));
    expect(outputs()[0]?.correlationId).toBe('00000000-0000-4000-8000-0000000000c1');
    expect(warnings.map((w) => w.msg)).toEqual(['correlation_id header disagrees with the envelope body; the body wins', 'envelope_id header disagrees with the envelope body; the body wins']);
    expect(warnings[0]?.fields).toMatchObject({ correlation_id: '00000000-0000-4000-8000-0000000000c1', header_correlation_id: '00000000-0000-4000-8000-0000000000ff' });

    const bare = JSON.stringify({ operation: 'http.get', payload: {} });
    await bus.publish({ topic: INPUT_TOPIC, value: bare, headers: { correlation_id: '00000000-0000-4000-8000-0000000000d2' } });
    await eventually(() => expect(outputs()).toHaveLength(2));
    expect(outputs()[1]?.correlationId).toBe('00000000-0000-4000-8000-0000000000d2');
  });
});

describe('host: the answer to an unparseable message', () => {
  const HEADER_ID = '00000000-0000-4000-8000-0000000000F4';

  it('takes its correlation id from a valid correlation_id header, and the dead letter carries it', async () => {
    const bus = new SettlementRecordingBus();
    const { outputs } = await startHost(new FakeHandler('http'), { bus });
    await bus.publish({ topic: INPUT_TOPIC, value: '{"operation": "http.get", ', headers: { correlation_id: HEADER_ID } });
    await eventually(() => expect(outputs()).toHaveLength(1));
    expect(outputs()[0]).toMatchObject({ correlationId: HEADER_ID.toLowerCase(), success: false, error: { code: 'ENVELOPE_VALIDATION_ERROR' } });
    expect(bus.settlements[0]).toMatchObject({ kind: 'dead_letter', reason: { code: 'ENVELOPE_VALIDATION_ERROR', correlationId: HEADER_ID.toLowerCase() } });
  });

  it('ignores a header that is not a UUID (a fresh id), and lets a valid body id win over the header', async () => {
    const bus = new SettlementRecordingBus();
    const { outputs } = await startHost(new FakeHandler('http'), { bus });
    await bus.publish({ topic: INPUT_TOPIC, value: 'not json', headers: { correlation_id: 'order-17' } });
    await eventually(() => expect(outputs()).toHaveLength(1));
    const fresh = outputs()[0]?.correlationId;
    expect(fresh).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(bus.settlements[0]).toMatchObject({ kind: 'dead_letter', reason: { correlationId: fresh } });

    const bodyId = '00000000-0000-4000-8000-0000000000b5';
    await bus.publish({ topic: INPUT_TOPIC, value: JSON.stringify({ correlation_id: bodyId, operation: 'HTTP GET', payload: {} }), headers: { correlation_id: HEADER_ID } });
    await eventually(() => expect(outputs()).toHaveLength(2));
    expect(outputs()[1]?.correlationId).toBe(bodyId);
    expect(bus.settlements[1]).toMatchObject({ kind: 'dead_letter', reason: { correlationId: bodyId } });
  });
});

describe('host: ingress resends while the first attempt runs', () => {
  it('joins the running attempt instead of executing again', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const handler = new FakeHandler('http', { behaviour: async () => { await gate; return { done: true }; } });
    const { host } = await startHost(handler, { redelivers: false });
    const wire = { envelope_id: '00000000-0000-4000-8000-0000000000e3', operation: 'http.get', payload: {} };
    const first = host.submit(wire, 5_000);
    await eventually(() => expect(handler.calls).toHaveLength(1));
    const second = host.submit(wire, 5_000);
    release();
    const [a, b] = await Promise.all([first, second]);
    expect(a.envelope.envelopeId).toBe(b.envelope.envelopeId);
    expect(handler.calls).toHaveLength(1);
  });
});

describe('host: settlement of what it consumes', () => {
  it('settles the answers it takes off its own output topic for the ingress: nothing is reported unsettled at stop', async () => {
    const handler = new FakeHandler('http');
    const { host, bus } = await startHost(handler, { redelivers: false });
    const answer = await host.submit({ operation: 'http.get', payload: {} }, 5_000);
    expect(answer.status).toBe('ok');
    await eventually(async () => expect((await bus.healthCheck()).unsettled).toBe(0));
  });
});
