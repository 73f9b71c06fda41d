import {
  HandlerConfigurationError,
  HandlerExecutionError,
  InfraConnectionError,
  OnexError,
  toWireEnvelope,
  type OnexEnvelope,
} from '@onex/core';
import { deterministicProviders } from '@onex/core/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RuntimeHostProcess, type RuntimeHostSettings } from '../../src/runtime/runtime-host-process.js';
import {
  COMPATIBLE_VERSION_FACTS,
  Cleanup,
  FakeHandler,
  FakeHandlerSource,
  Gate,
  INPUT_TOPIC,
  OUTPUT_TOPIC,
  RecordingBus,
  detId,
  eventually,
  isSettled,
  requestFactory,
  settle,
  testSettings,
  type EventLog,
} from './fakes.js';

const cleanup = new Cleanup();
afterEach(async () => {
  vi.useRealTimers();
  await cleanup.run();
});

const TIMESTAMP = '2024-01-01T00:00:00.000Z';

interface HostSetup {
  readonly handlers?: readonly FakeHandler[];
  readonly settings?: Partial<RuntimeHostSettings>;
  readonly log?: EventLog;
  readonly deterministic?: boolean;
}

function makeHost(setup: HostSetup = {}) {
  const handlers = setup.handlers ?? [new FakeHandler('http', setup.log ? { log: setup.log } : {})];
  const bus = new RecordingBus(setup.log ? { log: setup.log } : {});
  const source = new FakeHandlerSource(handlers);
  const host = new RuntimeHostProcess({
    directHandlerCalls: true,
    settings: testSettings({ handlers: handlers.map((h) => ({ type: h.handlerType, config: { timeoutMs: 1000 } })), ...setup.settings }),
    bus,
    handlerSource: source,
    versionFacts: COMPATIBLE_VERSION_FACTS,
    ...(setup.deterministic === false ? {} : { providers: deterministicProviders() }),
  });
  cleanup.add(() => host.stop(), host);
  return { host, bus, source, handler: handlers[0] as FakeHandler };
}

/** Starts the host and collects what it publishes on its output topic. */
async function started(setup: HostSetup = {}) {
  const made = makeHost(setup);
  await made.host.start();
  return { ...made, outputs: () => made.bus.envelopesOn(OUTPUT_TOPIC) };
}

const request = requestFactory();
const CORRELATION = 'c0ffee00-0000-4000-8000-000000000001';

describe('RuntimeHostProcess: lifecycle', () => {
  it('moves created → starting → running → draining → stopped, visible in health()', async () => {
    const initializeGate = new Gate();
    const executeGate = new Gate();
    const handler = new FakeHandler('http', { initializeGate, executeGate });
    const { host, bus } = makeHost({ handlers: [handler] });
    expect(host.health()).toEqual({ state: 'created', live: true, ready: false, in_flight: 0, max_in_flight: 16, processed: 0, failed: 0, replayed: 0, not_ready_reason: 'the host is created', event_loop_delay_ms: 0 });

    const starting = host.start();
    expect(host.health()).toMatchObject({ state: 'starting', ready: false });
    await eventually(() => expect(handler.initializeCount).toBe(1));
    expect(host.state).toBe('starting');
    initializeGate.open();
    await starting;
    expect(host.health()).toMatchObject({ state: 'running', live: true, ready: true });

    await bus.publishEnvelope(request({ operation: 'http.get', correlationId: CORRELATION }), INPUT_TOPIC);
    await eventually(() => expect(host.health().in_flight).toBe(1));
    const stopping = host.stop();
    await eventually(() => expect(host.health()).toMatchObject({ state: 'draining', live: true, ready: false, in_flight: 1 }));

    executeGate.open();
    await stopping;
    expect(host.health()).toEqual({ state: 'stopped', live: false, ready: false, in_flight: 0, max_in_flight: 16, processed: 1, failed: 0, replayed: 0, not_ready_reason: 'the host is stopped', event_loop_delay_ms: 0 });
  });

  it('treats a second start() and a second stop() as harmless', async () => {
    const { host, bus, handler, source } = makeHost();
    const first = host.start();
    const second = host.start();
    expect(second).toBe(first);
    await Promise.all([first, second]);
    await host.start();
    expect(source.created).toEqual(['http']);
    expect(handler.initializeCount).toBe(1);

    await Promise.all([host.stop(), host.stop()]);
    await host.stop();
    expect(host.state).toBe('stopped');
    expect(handler.shutdownCount).toBe(1);
    expect(bus.shutdownCalls).toBe(1);
  });

  it('initializes each handler exactly once with its config, and shuts each down exactly once', async () => {
    const http = new FakeHandler('http');
    const db = new FakeHandler('db');
    const { host } = makeHost({ handlers: [http, db] });
    await host.start();
    expect(http.initializeConfigs).toEqual([{ timeoutMs: 1000 }]);
    expect(db.initializeConfigs).toEqual([{ timeoutMs: 1000 }]);
    expect(await host.handlerHealth()).toEqual([
      { healthy: true, handler_type: 'http', executed: 0 },
      { healthy: true, handler_type: 'db', executed: 0 },
    ]);
    await host.stop();
    expect([http.shutdownCount, db.shutdownCount]).toEqual([1, 1]);
  });

  it('when a later handler fails to initialize: ends `failed`, shuts down the earlier ones once, rejects with the typed error', async () => {
    const log: EventLog = [];
    const http = new FakeHandler('http', { log });
    const db = new FakeHandler('db', {
      log,
      initializeError: new InfraConnectionError('Could not connect to PostgreSQL at 127.0.0.1:5432', { transportType: 'db', target: '127.0.0.1:5432' }),
    });
    const vault = new FakeHandler('vault', { log });
    const { host, bus, source } = makeHost({ handlers: [http, db, vault] });

    const error = await host.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InfraConnectionError);
    expect(error).toMatchObject({ code: 'INFRA_CONNECTION_ERROR', message: 'Could not connect to PostgreSQL at 127.0.0.1:5432' });
    expect(host.health()).toMatchObject({ state: 'failed', live: false, ready: false });
    expect(source.created).toEqual(['http', 'db']);
    expect(log).toEqual(['initialize:http', 'initialize:db', 'shutdown:db', 'shutdown:http']);
    expect(vault.initializeCount).toBe(0);
    expect(bus.shutdownCalls).toBe(1);

    await host.stop();
    await host.stop();
    expect(host.state).toBe('failed');
    expect([http.shutdownCount, db.shutdownCount, vault.shutdownCount]).toEqual([1, 1, 0]);
    // A failed host accepts nothing.
    expect((await host.submit({ operation: 'http.get' }, 1000)).status).toBe('unavailable');
  });

  it('turns a raw exception from initialize into a typed error', async () => {
    const db = new FakeHandler('db', { initializeError: new Error('socket hang up') });
    const { host } = makeHost({ handlers: [db] });
    const error = await host.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OnexError);
    expect(error).toMatchObject({ code: 'INTERNAL_ERROR' });
    expect((error as Error).message).toContain('socket hang up');
    expect(host.state).toBe('failed');
    expect(db.shutdownCount).toBe(1);
  });

  it('fails to start when the contract asks for a handler type the source does not offer, naming the available ones', async () => {
    const http = new FakeHandler('http');
    const { host } = makeHost({ handlers: [http], settings: { handlers: [{ type: 'http', config: {} }, { type: 'vault', config: {} }] } });
    const error = await host.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(HandlerConfigurationError);
    expect(error).toMatchObject({ code: 'HANDLER_CONFIGURATION_ERROR', handlerType: 'vault', details: { available_handlers: ['http'] } });
    expect(host.state).toBe('failed');
    expect([http.initializeCount, http.shutdownCount]).toEqual([1, 1]);
  });
});

describe('RuntimeHostProcess: envelopes that are not valid', () => {
  it('answers malformed JSON with an ENVELOPE_VALIDATION_ERROR envelope and a host-assigned correlation id', async () => {
    const { bus, outputs, handler } = await started();
    await bus.publish({ topic: INPUT_TOPIC, value: '{"operation": "http.get", ' });

    await eventually(() => expect(outputs()).toHaveLength(1));
    expect(outputs()[0]).toEqual({
      envelopeId: detId(44),
      envelopeVersion: '1.0.0',
      correlationId: detId(43),
      causationId: undefined,
      operation: 'envelope.invalid',
      payload: null,
      metadata: {},
      timestamp: TIMESTAMP,
      isResponse: true,
      success: false,
      error: {
        code: 'ENVELOPE_VALIDATION_ERROR',
        message: expect.stringContaining('Envelope is not valid JSON') as string,
        retryable: false,
        hint: expect.any(String) as string,
        issues: [{ path: '<root>', message: 'malformed JSON' }],
      },
    });
    expect(handler.calls).toHaveLength(0);
  });

  it('answers an invalid envelope with ENVELOPE_VALIDATION_ERROR, echoing the ids it could salvage', async () => {
    const { bus, outputs, handler } = await started();
    const envelopeId = 'abcdef00-0000-4000-8000-000000000007';
    await bus.publish({
      topic: INPUT_TOPIC,
      value: JSON.stringify({ envelope_id: envelopeId, correlation_id: CORRELATION, operation: 'HTTP GET', payload: {}, colour: 'blue' }),
    });

    await eventually(() => expect(outputs()).toHaveLength(1));
    const response = outputs()[0] as OnexEnvelope;
    expect(response).toMatchObject({
      envelopeId: detId(43),
      correlationId: CORRELATION,
      causationId: envelopeId,
      operation: 'envelope.invalid',
      isResponse: true,
      success: false,
      payload: null,
      timestamp: TIMESTAMP,
      error: { code: 'ENVELOPE_VALIDATION_ERROR', retryable: false },
    });
    expect(response.error?.issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'operation' }),
        { path: '<root>', message: 'unknown field(s) "colour"' },
      ]),
    );
    expect(response.error?.message).toContain('operation');
    expect(handler.calls).toHaveLength(0);
  });

  it('drops nothing: every message, valid or not, gets exactly one answer', async () => {
    const { bus, outputs, host } = await started();
    const good = request({ operation: 'http.get', correlationId: CORRELATION });
    await bus.publish({ topic: INPUT_TOPIC, value: 'not json at all' });
    await bus.publish({ topic: INPUT_TOPIC, value: '[1, 2, 3]' });
    await bus.publish({ topic: INPUT_TOPIC, value: new TextEncoder().encode('{"payload": {}}') });
    await bus.publishEnvelope(good, INPUT_TOPIC);

    await eventually(() => expect(outputs()).toHaveLength(4));
    const answers = outputs();
    expect(answers.filter((r) => r.success === false).map((r) => r.error?.code)).toEqual([
      'ENVELOPE_VALIDATION_ERROR',
      'ENVELOPE_VALIDATION_ERROR',
      'ENVELOPE_VALIDATION_ERROR',
    ]);
    expect(answers.find((r) => r.success === true)?.causationId).toBe(good.envelopeId);
    // Every answer is correlated, so a sender can always find it.
    for (const answer of answers) expect(answer.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(host.health()).toMatchObject({ processed: 4, failed: 3 });
  });
});

describe('RuntimeHostProcess: correlation ids', () => {
  it('preserves a correlation id exactly and does not spend an id on it', async () => {
    const { bus, outputs, handler } = await started();
    const sent = Object.freeze(request({ operation: 'http.get', correlationId: CORRELATION, payload: { q: 1 } }));
    await bus.publishEnvelope(sent, INPUT_TOPIC);

    await eventually(() => expect(outputs()).toHaveLength(1));
    expect(handler.calls[0]?.envelope.correlationId).toBe(CORRELATION);
    expect(handler.calls[0]?.context.correlationId).toBe(CORRELATION);
    expect(outputs()[0]).toMatchObject({ envelopeId: detId(43), correlationId: CORRELATION, causationId: sent.envelopeId, success: true });
  });

  it('assigns a correlation id from the host id provider only when the envelope has none, without mutating it', async () => {
    const { bus, outputs, handler } = await started();
    const sent = Object.freeze(request({ operation: 'http.get' }));
    await bus.publishEnvelope(sent, INPUT_TOPIC);

    await eventually(() => expect(outputs()).toHaveLength(1));
    expect(sent.correlationId).toBeUndefined();
    expect(handler.calls[0]?.envelope.correlationId).toBe(detId(43));
    expect(handler.calls[0]?.context).toEqual({ correlationId: detId(43), envelopeId: sent.envelopeId, operation: 'http.get', nodeSlug: undefined, access: 'read_write', signal: undefined });
    expect(outputs()[0]).toMatchObject({ envelopeId: detId(44), correlationId: detId(43), causationId: sent.envelopeId });
  });

  it('assigns ids in order for a raw request without envelope_id or correlation_id', async () => {
    const { bus, outputs } = await started();
    await bus.publish({ topic: INPUT_TOPIC, value: JSON.stringify({ operation: 'http.get', payload: { a: 1 } }) });

    await eventually(() => expect(outputs()).toHaveLength(1));
    // envelope_id first (parse), then correlation_id (host), then the response id.
    expect(toWireEnvelope(outputs()[0] as OnexEnvelope)).toStrictEqual({
      envelope_id: detId(45),
      envelope_version: '1.0.0',
      correlation_id: detId(44),
      causation_id: detId(43),
      operation: 'http.get',
      payload: { handled_by: 'http', operation: 'http.get', echo: { a: 1 } },
      metadata: {},
      timestamp: TIMESTAMP,
      is_response: true,
      success: true,
    });
  });
});

describe('RuntimeHostProcess: routing errors', () => {
  it('answers an envelope for an unregistered handler type with HANDLER_NOT_FOUND listing the available handlers', async () => {
    const { bus, outputs } = await started({ handlers: [new FakeHandler('http'), new FakeHandler('db')] });
    const sent = request({ operation: 'vault.read', correlationId: CORRELATION, payload: { path: 'secret/x' } });
    await bus.publishEnvelope(sent, INPUT_TOPIC);

    await eventually(() => expect(outputs()).toHaveLength(1));
    expect(outputs()[0]).toMatchObject({ success: false, payload: null, correlationId: CORRELATION, causationId: sent.envelopeId });
    expect(outputs()[0]?.error).toEqual({
      code: 'HANDLER_NOT_FOUND',
      message: "No handler registered for type 'vault'",
      handler_type: 'vault',
      operation: 'vault.read',
      available_handlers: ['db', 'http'],
      retryable: false,
      hint: expect.stringContaining('Available handlers: db, http') as string,
    });
  });

  it('isolates failures per envelope: one failing envelope does not affect the others', async () => {
    const handler = new FakeHandler('http', {
      behaviour: (envelope) => {
        const kind = (envelope.payload as { kind?: string }).kind;
        if (kind === 'raw') throw new Error('kaboom');
        if (kind === 'typed') throw new HandlerExecutionError('upstream said no', { handlerType: 'http', operation: envelope.operation });
        return { ok: kind ?? null };
      },
    });
    const { bus, outputs, host } = await started({ handlers: [handler] });
    const kinds = ['a', 'raw', 'b', 'typed', 'c'];
    const sent = kinds.map((kind) => request({ operation: 'http.post', correlationId: CORRELATION, payload: { kind } }));
    for (const envelope of sent) await bus.publishEnvelope(envelope, INPUT_TOPIC);

    await eventually(() => expect(outputs()).toHaveLength(5));
    const byCause = new Map(outputs().map((r) => [r.causationId, r]));
    const answer = (i: number) => byCause.get(sent[i]?.envelopeId);
    expect([0, 2, 4].map((i) => answer(i)?.payload)).toEqual([{ ok: 'a' }, { ok: 'b' }, { ok: 'c' }]);
    expect(answer(1)).toMatchObject({ success: false, error: { code: 'INTERNAL_ERROR', message: 'Unexpected failure: kaboom', handler_type: 'http', operation: 'http.post' } });
    expect(answer(3)).toMatchObject({ success: false, error: { code: 'HANDLER_EXECUTION_ERROR', message: 'upstream said no' } });
    // No raw exception reaches the bus: no stack trace, no cause.
    for (const i of [1, 3]) {
      expect(Object.keys(answer(i)?.error ?? {})).not.toContain('stack');
      expect(JSON.stringify(answer(i)?.error)).not.toMatch(/\n\s+at /);
    }
    expect(host.health()).toMatchObject({ state: 'running', processed: 5, failed: 2 });
  });
});

describe('RuntimeHostProcess: concurrency', () => {
  it('never runs more than max_in_flight envelopes at once, and answers all of them', async () => {
    const executeGate = new Gate();
    const handler = new FakeHandler('http', { executeGate });
    const { bus, outputs, host } = await started({ handlers: [handler], settings: { maxInFlight: 3 } });
    const sent = Array.from({ length: 10 }, (_, i) => request({ operation: 'http.get', correlationId: CORRELATION, payload: { i } }));
    for (const envelope of sent) await bus.publishEnvelope(envelope, INPUT_TOPIC);

    await eventually(() => expect(handler.active).toBe(3));
    await settle(10);
    expect(handler.active).toBe(3);
    expect(handler.calls).toHaveLength(3);
    expect(host.health()).toMatchObject({ in_flight: 3, max_in_flight: 3 });
    // The first envelopes start first.
    expect(handler.calls.map((c) => c.envelope.envelopeId)).toEqual(sent.slice(0, 3).map((e) => e.envelopeId));

    executeGate.open();
    await eventually(() => expect(outputs()).toHaveLength(10));
    expect(handler.maxActive).toBe(3);
    expect(host.peakInFlight).toBe(3);
    expect(new Set(outputs().map((r) => r.causationId))).toEqual(new Set(sent.map((e) => e.envelopeId)));
    expect(outputs().every((r) => r.success === true)).toBe(true);
    expect(host.health()).toMatchObject({ in_flight: 0, processed: 10, failed: 0 });
  });
});

describe('RuntimeHostProcess: stop and drain', () => {
  it('waits for in-flight envelopes; their responses are published before any handler shuts down', async () => {
    const log: EventLog = [];
    const executeGate = new Gate();
    const handler = new FakeHandler('http', { log, executeGate });
    const { bus, host, outputs } = await started({ handlers: [handler], log });
    const sent = [1, 2, 3].map((i) => request({ operation: 'http.get', correlationId: CORRELATION, payload: { i } }));
    for (const envelope of sent) await bus.publishEnvelope(envelope, INPUT_TOPIC);
    await eventually(() => expect(handler.active).toBe(3));

    const stopping = host.stop();
    expect(await isSettled(stopping)).toBe(false);
    expect(handler.shutdownCount).toBe(0);
    expect(host.state).toBe('draining');

    executeGate.open();
    await stopping;
    expect(outputs().map((r) => r.causationId).sort()).toEqual(sent.map((e) => e.envelopeId).sort());
    const shutdownAt = log.indexOf('shutdown:http');
    expect(shutdownAt).toBeGreaterThan(-1);
    for (const envelope of sent) {
      const publishedAt = log.indexOf(`published:${OUTPUT_TOPIC}:${envelope.envelopeId}`);
      expect(publishedAt).toBeGreaterThan(-1);
      expect(publishedAt).toBeLessThan(shutdownAt);
    }
    expect(handler.shutdownCount).toBe(1);
  });

  it('processes what the bus already accepted before it stops, not only what is executing', async () => {
    const executeGate = new Gate();
    const handler = new FakeHandler('http', { executeGate });
    const { bus, host, outputs } = await started({ handlers: [handler], settings: { maxInFlight: 1 } });
    const sent = [1, 2, 3, 4].map((i) => request({ operation: 'http.get', correlationId: CORRELATION, payload: { i } }));
    for (const envelope of sent) await bus.publishEnvelope(envelope, INPUT_TOPIC);
    await eventually(() => expect(handler.active).toBe(1));

    const stopping = host.stop();
    await settle();
    executeGate.open();
    await stopping;
    expect(outputs().map((r) => r.causationId)).toEqual(sent.map((e) => e.envelopeId));
    expect(handler.maxActive).toBe(1);
  });

  it('gives up after drainTimeoutMs when a handler never finishes, and still shuts everything down', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const never = new Gate();
    const handler = new FakeHandler('http', { executeGate: never });
    const { bus, host } = await started({ handlers: [handler], settings: { drainTimeoutMs: 1000 } });
    const waiting = host.submit({ operation: 'http.get', correlation_id: CORRELATION }, 60_000);
    await settle();
    expect(handler.active).toBe(1);

    const stopping = host.stop();
    await vi.advanceTimersByTimeAsync(999);
    expect(await isSettled(stopping)).toBe(false);
    expect(host.state).toBe('draining');
    await vi.advanceTimersByTimeAsync(1);
    await stopping;
    expect(host.state).toBe('stopped');
    expect(handler.shutdownCount).toBe(1);
    expect(bus.shutdownCalls).toBe(1);

    // The caller waiting for that envelope gets an answer instead of a hang.
    const answer = await waiting;
    expect(answer.status).toBe('unavailable');
    expect(answer.envelope).toMatchObject({ correlationId: CORRELATION, success: false, error: { code: 'SHUTTING_DOWN', retryable: true } });
  });

  it('gives up after drainTimeoutMs even with envelopes queued behind a handler that never finishes', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const never = new Gate();
    const handler = new FakeHandler('http', { executeGate: never });
    const { bus, host } = await started({ handlers: [handler], settings: { drainTimeoutMs: 1000, maxInFlight: 1 } });
    for (const i of [1, 2, 3]) await bus.publishEnvelope(request({ operation: 'http.get', correlationId: CORRELATION, payload: { i } }), INPUT_TOPIC);
    await settle();
    expect(handler.active).toBe(1);

    const stopping = host.stop();
    await vi.advanceTimersByTimeAsync(999);
    expect(await isSettled(stopping)).toBe(false);
    // (Fake timers run a 0 ms timer set during a tick 1 ms later, hence the small margin.)
    await vi.advanceTimersByTimeAsync(10);
    expect(await isSettled(stopping)).toBe(true);
    await stopping;
    expect(host.state).toBe('stopped');
    expect(handler.calls).toHaveLength(1);
    expect(handler.shutdownCount).toBe(1);
    expect(bus.shutdownCalls).toBe(1);
  });

  it('leaves no timer behind after a quick drain, so the process can exit once the host stopped', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    const { bus, host, outputs } = await started({ settings: { drainTimeoutMs: 30_000 } });
    await bus.publishEnvelope(request({ operation: 'http.get', correlationId: CORRELATION }), INPUT_TOPIC);
    await settle();
    expect(outputs()).toHaveLength(1);

    await host.stop();
    expect(host.state).toBe('stopped');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('stop() before start() leaves nothing running', async () => {
    const { host, handler, source } = makeHost();
    await host.stop();
    expect(host.state).toBe('stopped');
    expect(source.created).toEqual([]);
    expect(handler.shutdownCount).toBe(0);
    await expect(host.start()).rejects.toMatchObject({ code: 'RUNTIME_HOST_ERROR' });
    expect(host.state).toBe('stopped');
    expect(source.created).toEqual([]);
  });
});

describe('RuntimeHostProcess.submit', () => {
  it('publishes to the input topic and resolves to the correlated response', async () => {
    const { host, bus, outputs } = await started();
    const sent = request({ operation: 'http.get', correlationId: CORRELATION, payload: { id: 7 } });
    const result = await host.submit(toWireEnvelope(sent), 5000);

    expect(result.status).toBe('ok');
    expect(result.envelope).toMatchObject({
      correlationId: CORRELATION,
      causationId: sent.envelopeId,
      isResponse: true,
      success: true,
      payload: { handled_by: 'http', operation: 'http.get', echo: { id: 7 } },
    });
    // The response is the one the host published on its output topic.
    await eventually(() => expect(outputs()).toEqual([result.envelope]));
    expect(bus.envelopesOn(INPUT_TOPIC).map((e) => e.envelopeId)).toEqual([sent.envelopeId]);
  });

  it('accepts a plain request object and JSON text, assigning the correlation id when missing', async () => {
    const { host } = await started();
    const plain = await host.submit({ operation: 'http.post', payload: { a: 1 }, handler_type: 'http' }, 5000);
    expect(plain.status).toBe('ok');
    expect(plain.envelope).toMatchObject({ correlationId: detId(44), causationId: detId(43), handlerType: 'http', success: true });

    const text = await host.submit(JSON.stringify({ operation: 'http.get', correlation_id: CORRELATION }), 5000);
    expect(text.status).toBe('ok');
    expect(text.envelope.correlationId).toBe(CORRELATION);
  });

  it('answers invalid input at once with an ENVELOPE_VALIDATION_ERROR envelope and publishes nothing', async () => {
    const { host, bus } = await started();
    const result = await host.submit('{"operation": 42}', 5000);
    expect(result.status).toBe('invalid');
    expect(result.envelope).toMatchObject({ success: false, isResponse: true, error: { code: 'ENVELOPE_VALIDATION_ERROR' } });
    expect(result.envelope.correlationId).toBe(detId(43));
    expect(bus.published).toEqual([]);
  });

  it('answers `unavailable` with SHUTTING_DOWN when the host is not running', async () => {
    const { host, bus, handler } = makeHost();
    const before = await host.submit({ operation: 'http.get', correlation_id: CORRELATION }, 5000);
    expect(before.status).toBe('unavailable');
    expect(before.envelope).toMatchObject({ correlationId: CORRELATION, success: false, error: { code: 'SHUTTING_DOWN', retryable: true } });

    await host.start();
    await host.stop();
    const after = await host.submit({ operation: 'http.get' }, 5000);
    expect(after.status).toBe('unavailable');
    expect(after.envelope.error?.code).toBe('SHUTTING_DOWN');
    expect(handler.calls).toHaveLength(0);
    expect(bus.published).toEqual([]);
  });

  it('answers `timeout` with INFRA_TIMEOUT when no response comes in time', async () => {
    const executeGate = new Gate();
    const { host } = await started({ handlers: [new FakeHandler('http', { executeGate })] });
    const result = await host.submit({ operation: 'http.get', correlation_id: CORRELATION }, 20);
    expect(result.status).toBe('timeout');
    expect(result.envelope).toMatchObject({ correlationId: CORRELATION, success: false, error: { code: 'INFRA_TIMEOUT', retryable: true } });
    executeGate.open();
  });
});
