/**
 * The policy stack as the host applies it, on the in-memory bus: expired envelopes are
 * never executed, retries stop at the deadline and never retry the stack's own refusals,
 * and a slow handler's bulkhead keeps its envelopes from starving another handler's.
 */
import { InfraConnectionError, RUNTIME_HOST_DEFAULTS, type HandlerPolicies } from '@onex/core';
import { afterEach, describe, expect, it } from 'vitest';
import { RuntimeHostProcess } from '../../src/runtime/runtime-host-process.js';
import type { HandlerRequest } from '../../src/runtime/handler-bootstrap-source.js';
import type { Scheduler } from '../../src/runtime/scheduler.js';
import { COMPATIBLE_VERSION_FACTS, Cleanup, FakeHandler, FakeHandlerSource, Gate, INPUT_TOPIC, OUTPUT_TOPIC, RecordingBus, eventually, requestFactory, testSettings } from '../runtime/fakes.js';
import { ManualScheduler } from '../kafka/manual-scheduler.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());
const request = requestFactory(0xa000);
/** The request factory's clock. */
const T0 = Date.parse('2023-06-01T12:00:00.000Z');

function policies(extra: Partial<HandlerPolicies> = {}): HandlerPolicies {
  return { timeoutMs: 10_000, circuitBreaker: RUNTIME_HOST_DEFAULTS.circuitBreaker, ...extra };
}

async function startHost(handlers: FakeHandler[], requests: HandlerRequest[], options: { scheduler?: Scheduler; maxInFlight?: number } = {}) {
  const bus = new RecordingBus();
  const attempts: number[] = [];
  const host = new RuntimeHostProcess({
    directHandlerCalls: true,
    settings: testSettings({ handlers: requests, maxInFlight: options.maxInFlight ?? 16 }),
    bus,
    handlerSource: new FakeHandlerSource(handlers),
    versionFacts: COMPATIBLE_VERSION_FACTS,
    resilienceObserver: {
      attempt: (_h, _op, n) => attempts.push(n),
      retryScheduled: () => undefined,
      rateLimitWait: () => undefined,
      rateLimited: () => undefined,
      circuitStateChanged: () => undefined,
      circuitRejected: () => undefined,
      bulkheadRejected: () => undefined,
      timedOut: () => undefined,
      expired: () => undefined,
    },
    ...(options.scheduler ? { scheduler: options.scheduler } : {}),
  });
  cleanup.add(() => host.stop(), host);
  await host.start();
  return { host, bus, attempts, outputs: () => bus.envelopesOn(OUTPUT_TOPIC) };
}

describe('deadlines at the host', () => {
  it('answers an expired envelope with EXPIRED and never executes it', async () => {
    const http = new FakeHandler('http');
    const scheduler = new ManualScheduler(T0 + 6_000);
    const { bus, outputs } = await startHost([http], [{ type: 'http', config: {}, policies: policies() }], { scheduler });
    const envelope = request({ operation: 'http.get', ttlSeconds: 5 });
    await bus.publishEnvelope(envelope, INPUT_TOPIC);
    await eventually(() => expect(outputs()).toHaveLength(1));
    expect(outputs()[0]).toMatchObject({ success: false, causationId: envelope.envelopeId, error: { code: 'EXPIRED', retryable: false, may_have_run: false } });
    expect(http.calls).toHaveLength(0);
  });

  it('does not start a retry whose backoff would end past the deadline: the last failure is the answer', async () => {
    const http = new FakeHandler('http', {
      behaviour: () => {
        throw new InfraConnectionError('refused', { transportType: 'http' });
      },
    });
    const scheduler = new ManualScheduler(T0);
    const retry = { maxRetries: 5, backoffStrategy: 'fixed', baseDelayMs: 4_000, maxDelayMs: 4_000 } as const;
    // ManualScheduler.random() is 0.5: every backoff is 2000 ms; the deadline (5 s) leaves room for two.
    const { bus, outputs, attempts } = await startHost([http], [{ type: 'http', config: {}, policies: policies({ retryPolicy: retry, circuitBreaker: { ...RUNTIME_HOST_DEFAULTS.circuitBreaker, enabled: false } }) }], { scheduler });
    await bus.publishEnvelope(request({ operation: 'http.get', ttlSeconds: 5 }), INPUT_TOPIC);
    for (let i = 0; i < 5; i += 1) await scheduler.advance(2_000);
    await eventually(() => expect(outputs()).toHaveLength(1));
    expect(outputs()[0]).toMatchObject({ success: false, error: { code: 'INFRA_CONNECTION_ERROR' } });
    expect(attempts).toEqual([1, 2, 3]);
  });
});

describe('retries and the policy stack', () => {
  it('does not retry a call the open breaker refused', async () => {
    const http = new FakeHandler('http', {
      behaviour: () => {
        throw new InfraConnectionError('refused', { transportType: 'http' });
      },
    });
    const retry = { maxRetries: 3, backoffStrategy: 'fixed', baseDelayMs: 1, maxDelayMs: 1 } as const;
    const { bus, outputs } = await startHost([http], [{ type: 'http', config: {}, policies: policies({ retryPolicy: retry, circuitBreaker: { ...RUNTIME_HOST_DEFAULTS.circuitBreaker, threshold: 2 } }) }]);
    await bus.publishEnvelope(request({ operation: 'http.get' }), INPUT_TOPIC);
    await eventually(() => expect(outputs()).toHaveLength(1));
    // Two transport failures opened it; the third attempt was refused and not retried.
    expect(outputs()[0]).toMatchObject({ success: false, error: { code: 'INFRA_UNAVAILABLE', policy: 'circuit_breaker', retryable: true } });
    expect(http.calls).toHaveLength(2);
  });
});

describe('bulkhead isolation', () => {
  it('a slow http dependency does not starve db envelopes: its surplus is refused and frees the host slots', async () => {
    const gate = new Gate();
    const http = new FakeHandler('http', { executeGate: gate });
    const db = new FakeHandler('db');
    const { bus, outputs, host } = await startHost(
      [http, db],
      [
        { type: 'http', config: {}, policies: policies({ bulkhead: { maxConcurrent: 2, maxQueue: 0 } }) },
        { type: 'db', config: {}, policies: policies() },
      ],
      { maxInFlight: 3 },
    );
    for (let i = 0; i < 6; i += 1) await bus.publishEnvelope(request({ operation: 'http.get' }), INPUT_TOPIC);
    const dbEnvelopes = [request({ operation: 'db.query' }), request({ operation: 'db.query' })];
    for (const e of dbEnvelopes) await bus.publishEnvelope(e, INPUT_TOPIC);
    // While http hangs on its two places, the db envelopes behind six http ones are answered.
    await eventually(() => expect(outputs().filter((o) => o.operation === 'db.query' && o.success)).toHaveLength(2));
    expect(outputs().filter((o) => o.error?.code === 'INFRA_UNAVAILABLE')).toHaveLength(4);
    expect(http.maxActive).toBe(2);
    expect(host.circuitStates()).toEqual({ http: 'closed', db: 'closed' });
    gate.open();
    await eventually(() => expect(outputs()).toHaveLength(8));
  });
});

describe('breakers, readiness and metrics, connected by default', () => {
  it('an open breaker on a required handler takes the host out of readiness, shows on its handler status and in its metrics; an optional one does not', async () => {
    const refuse = () => {
      throw new InfraConnectionError('refused', { transportType: 'http' });
    };
    const http = new FakeHandler('http', { behaviour: refuse });
    const db = new FakeHandler('db', { behaviour: refuse });
    const breaker = { ...RUNTIME_HOST_DEFAULTS.circuitBreaker, threshold: 2 };
    const bus = new RecordingBus();
    // No resilienceObserver and no circuits view: the host's own metrics and breakers are used.
    const host = new RuntimeHostProcess({
      directHandlerCalls: true,
      settings: testSettings({ handlers: [{ type: 'http', config: {}, policies: policies({ circuitBreaker: breaker }) }, { type: 'db', config: {}, required: false, policies: policies({ circuitBreaker: breaker }) }] }),
      bus,
      handlerSource: new FakeHandlerSource([http, db]),
      versionFacts: COMPATIBLE_VERSION_FACTS,
    });
    cleanup.add(() => host.stop(), host);
    await host.start();
    await eventually(() => expect(host.health().ready).toBe(true));

    for (let i = 0; i < 2; i += 1) await bus.publishEnvelope(request({ operation: 'db.query' }), INPUT_TOPIC);
    await eventually(() => expect(bus.envelopesOn(OUTPUT_TOPIC)).toHaveLength(2));
    expect(host.circuitStates()).toMatchObject({ db: 'open', http: 'closed' });
    // db is optional: its open breaker shows, but the host stays ready.
    expect(host.health().ready).toBe(true);

    for (let i = 0; i < 2; i += 1) await bus.publishEnvelope(request({ operation: 'http.get' }), INPUT_TOPIC);
    await eventually(() => expect(bus.envelopesOn(OUTPUT_TOPIC)).toHaveLength(4));
    expect(host.health().ready).toBe(false);
    expect(await host.handlerStatuses()).toEqual(
      expect.arrayContaining([expect.objectContaining({ handler_type: 'http', required: true, circuit: 'open' }), expect.objectContaining({ handler_type: 'db', required: false, circuit: 'open' })]),
    );
    const metrics = await host.metrics.registry?.getSingleMetricAsString('onex_circuit_state');
    expect(metrics).toContain('onex_circuit_state{handler_type="http",state="open"} 1');
    expect(metrics).toContain('onex_circuit_state{handler_type="db",state="open"} 1');
  });
});
