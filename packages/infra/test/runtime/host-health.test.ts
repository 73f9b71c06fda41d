/**
 * Health that tells the truth, through a real host on the in-memory bus with its ingress on
 * a free port: handler lifecycle states, last error, in-flight calls, required vs optional
 * handlers, circuit state, readiness failing before the drain, and liveness from the loop.
 */
import { HandlerExecutionError, type HandlerType } from '@onex/core';
import { deterministicProviders } from '@onex/core/testing';
import type { HandlerHealth } from '@onex/spi';
import { afterEach, describe, expect, it } from 'vitest';
import { startIngressServer } from '../../src/runtime/ingress-server.js';
import { EventLoopMonitor } from '../../src/runtime/event-loop-monitor.js';
import type { HandlerCircuitState, HandlerCircuitView } from '../../src/runtime/handler-lifecycle.js';
import { RuntimeHostProcess, type RuntimeHostSettings } from '../../src/runtime/runtime-host-process.js';
import { ManualScheduler } from '../kafka/manual-scheduler.js';
import { COMPATIBLE_VERSION_FACTS, Cleanup, FakeHandler, FakeHandlerSource, Gate, INPUT_TOPIC, OUTPUT_TOPIC, RecordingBus, eventually, requestFactory, testSettings, type FakeHandlerOptions } from './fakes.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());
const request = requestFactory();
const CORRELATION = '1a2b3c4d-0000-4000-8000-000000000001';

/** A fake handler whose health check answers what the test sets. */
class SwitchableHandler extends FakeHandler {
  healthy = true;

  constructor(type: HandlerType, options: FakeHandlerOptions = {}) {
    super(type, options);
  }

  override async healthCheck(): Promise<HandlerHealth> {
    return this.healthy ? { healthy: true, handler_type: this.handlerType } : { healthy: false, handler_type: this.handlerType, error: 'sealed' };
  }
}

/** A manual clock that can also jump without firing timers: what a blocked event loop looks like to them. */
class JumpScheduler extends ManualScheduler {
  #offset = 0;

  override now(): number {
    return super.now() + this.#offset;
  }

  jump(ms: number): void {
    this.#offset += ms;
  }
}

class FixedCircuits implements HandlerCircuitView {
  readonly states = new Map<string, HandlerCircuitState>();
  stateOf(handlerType: string): HandlerCircuitState | undefined {
    return this.states.get(handlerType);
  }
}

interface Setup {
  readonly handlers: readonly FakeHandler[];
  readonly optional?: readonly string[];
  readonly scheduler?: ManualScheduler;
  readonly circuits?: HandlerCircuitView;
  readonly settings?: Partial<RuntimeHostSettings>;
}

async function serve(setup: Setup) {
  const bus = new RecordingBus();
  const host = new RuntimeHostProcess({
    directHandlerCalls: true,
    settings: testSettings({ handlers: setup.handlers.map((h) => ({ type: h.handlerType, config: {}, required: !(setup.optional ?? []).includes(h.handlerType) })), ...setup.settings }),
    bus,
    handlerSource: new FakeHandlerSource(setup.handlers),
    versionFacts: COMPATIBLE_VERSION_FACTS,
    providers: deterministicProviders(),
    ...(setup.scheduler === undefined ? {} : { scheduler: setup.scheduler }),
    ...(setup.circuits === undefined ? {} : { circuits: setup.circuits }),
  });
  cleanup.add(() => host.stop(), host);
  await host.start();
  const server = await startIngressServer(host, { port: 0 });
  cleanup.add(() => server.close(), server);
  const get = async (path: string): Promise<{ status: number; json: Record<string, unknown> }> => {
    const res = await fetch(`${server.url}${path}`);
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  return { host, bus, get };
}

describe('/health/handlers', () => {
  it('tracks each handler through the lifecycle: HEALTHY, EXECUTING with its in-flight calls, SHUTDOWN', async () => {
    const gate = new Gate();
    const handler = new FakeHandler('http', { executeGate: gate });
    const { host, bus, get } = await serve({ handlers: [handler] });
    expect((await get('/health/handlers')).json.handlers).toMatchObject([{ handler_type: 'http', lifecycle_state: 'HEALTHY', in_flight: 0, required: true, circuit: null, last_error: null }]);

    await bus.publishEnvelope(request({ operation: 'http.fake', correlationId: CORRELATION }), INPUT_TOPIC);
    await bus.publishEnvelope(request({ operation: 'http.fake', correlationId: CORRELATION }), INPUT_TOPIC);
    await eventually(() => expect(handler.active).toBe(2));
    expect((await get('/health/handlers')).json.handlers).toMatchObject([{ lifecycle_state: 'EXECUTING', in_flight: 2 }]);

    gate.open();
    await eventually(() => expect(bus.envelopesOn(OUTPUT_TOPIC)).toHaveLength(2));
    expect((await get('/health/handlers')).json.handlers).toMatchObject([{ lifecycle_state: 'HEALTHY', in_flight: 0 }]);

    await host.stop();
    expect((await host.handlerStatuses())[0]).toMatchObject({ lifecycle_state: 'SHUTDOWN', in_flight: 0 });
  });

  it('shows the last error code and when it happened, by the injected clock', async () => {
    const scheduler = new ManualScheduler(Date.UTC(2026, 0, 15, 9, 30, 0));
    const handler = new FakeHandler('db', {
      behaviour: () => {
        throw new HandlerExecutionError('boom', { handlerType: 'db' });
      },
    });
    const { bus, get } = await serve({ handlers: [handler], scheduler });
    await scheduler.advance(1_500);
    await bus.publishEnvelope(request({ operation: 'db.fake', correlationId: CORRELATION }), INPUT_TOPIC);
    await eventually(() => expect(bus.envelopesOn(OUTPUT_TOPIC)).toHaveLength(1));
    expect((await get('/health/handlers')).json.handlers).toMatchObject([{ handler_type: 'db', last_error: { code: 'HANDLER_EXECUTION_ERROR', at: '2026-01-15T09:30:01.500Z' }, in_flight: 0 }]);
  });
});

describe('/health/ready and required handlers', () => {
  it('is 503 when a required handler fails its health check, and says which', async () => {
    const db = new SwitchableHandler('db');
    const { host, get } = await serve({ handlers: [new FakeHandler('http'), db] });
    expect((await get('/health/ready')).status).toBe(200);

    db.healthy = false;
    await host.handlerHealth();
    const ready = await get('/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.json).toMatchObject({ status: 'not_ready', not_ready_reason: 'required handler "db" failed its last health check: sealed' });
    expect((await get('/health/handlers')).json.handlers).toMatchObject([{ handler_type: 'http', healthy: true }, { handler_type: 'db', healthy: false, health_error: 'sealed', lifecycle_state: 'INITIALIZED' }]);

    db.healthy = true;
    await host.handlerHealth();
    expect((await get('/health/ready')).status).toBe(200);
  });

  it('stays 200 when only an optional handler is unhealthy, which /health/handlers still shows', async () => {
    const vault = new SwitchableHandler('vault');
    vault.healthy = false;
    const { host, get } = await serve({ handlers: [new FakeHandler('http'), vault], optional: ['vault'] });
    await host.handlerHealth();
    expect((await get('/health/ready')).status).toBe(200);
    const handlers = await get('/health/handlers');
    expect(handlers.status).toBe(200);
    expect(handlers.json.handlers).toMatchObject([{ handler_type: 'http', required: true }, { handler_type: 'vault', required: false, healthy: false }]);
  });

  it('is 503 while a required handler breaker is open, not for an optional one', async () => {
    const circuits = new FixedCircuits();
    const { get } = await serve({ handlers: [new FakeHandler('http'), new FakeHandler('consul')], optional: ['consul'], circuits });
    circuits.states.set('consul', 'open');
    circuits.states.set('http', 'half_open');
    expect((await get('/health/ready')).status).toBe(200);
    expect((await get('/health/handlers')).json.handlers).toMatchObject([{ handler_type: 'http', circuit: 'half_open' }, { handler_type: 'consul', circuit: 'open' }]);

    circuits.states.set('http', 'open');
    const ready = await get('/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.json.not_ready_reason).toBe('the circuit breaker of required handler "http" is open');
  });

  it('turns false when stop() begins, before the drain, and keeps serving meanwhile', async () => {
    const scheduler = new ManualScheduler();
    const { host, bus, get } = await serve({ handlers: [new FakeHandler('http')], scheduler, settings: { readyDrainDelayMs: 2_000 } });
    expect((await get('/health/ready')).status).toBe(200);

    const stopping = host.stop();
    await eventually(() => expect(host.health().ready).toBe(false));
    const ready = await get('/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.json).toMatchObject({ state: 'running', not_ready_reason: 'the host is stopping (readiness fails before the drain starts)' });
    // Still running: what a load balancer sent before it noticed is served.
    await bus.publishEnvelope(request({ operation: 'http.fake', correlationId: CORRELATION }), INPUT_TOPIC);
    await eventually(() => expect(bus.envelopesOn(OUTPUT_TOPIC)).toHaveLength(1));
    expect(bus.envelopesOn(OUTPUT_TOPIC)[0]?.success).toBe(true);

    await scheduler.advance(2_000);
    await stopping;
    expect(host.state).toBe('stopped');
  });
});

describe('/health/live', () => {
  it('is 503 while the event loop runs later than the limit, and 200 again once it keeps time', async () => {
    const scheduler = new JumpScheduler();
    const { get } = await serve({ handlers: [new FakeHandler('http')], scheduler });
    await scheduler.advance(1_000);
    expect((await get('/health/live')).json).toEqual({ status: 'alive', state: 'running', event_loop_delay_ms: 0 });

    // Eight seconds pass with no tick run (the loop was blocked): the next tick is 7.5 s overdue.
    scheduler.jump(8_000);
    const dead = await get('/health/live');
    expect(dead.status).toBe(503);
    expect(dead.json).toEqual({ status: 'dead', state: 'running', event_loop_delay_ms: 7_500 });

    // The late tick reports the block; the next on-time tick clears it.
    await scheduler.advance(500);
    expect((await get('/health/live')).status).toBe(503);
    await scheduler.advance(500);
    expect((await get('/health/live')).json).toEqual({ status: 'alive', state: 'running', event_loop_delay_ms: 0 });
  });
});

describe('EventLoopMonitor', () => {
  it('is responsive up to the limit and not beyond it', () => {
    const scheduler = new JumpScheduler();
    const monitor = new EventLoopMonitor({ scheduler, intervalMs: 100, maxDelayMs: 1_000 });
    expect(monitor.check()).toEqual({ responsive: true, delayMs: 0, maxDelayMs: 1_000 });
    monitor.start();
    scheduler.jump(1_100);
    expect(monitor.check()).toEqual({ responsive: true, delayMs: 1_000, maxDelayMs: 1_000 });
    scheduler.jump(1);
    expect(monitor.check()).toEqual({ responsive: false, delayMs: 1_001, maxDelayMs: 1_000 });
    monitor.stop();
    expect(monitor.check().responsive).toBe(true);
  });
});
