/**
 * The no-publish rule (handler-protocol-plan Ticket 6): a handler's invocation context
 * offers no way to publish, and a handler that reaches the bus anyway (closure, global)
 * gets ArchitectureViolationError from every bus API, which the host answers with an
 * error envelope. Nothing the handler tried to publish reaches the bus.
 */
import { ArchitectureViolationError, type HandlerInvocationContext } from '@onex/core';
import { deterministicProviders } from '@onex/core/testing';
import type { ProtocolEventBus } from '@onex/spi';
import { afterEach, describe, expect, it } from 'vitest';
import type { HandlerGuardMode } from '../../src/runtime/handler-scope.js';
import { RuntimeHostProcess } from '../../src/runtime/runtime-host-process.js';
import {
  COMPATIBLE_VERSION_FACTS,
  Cleanup,
  FakeHandler,
  FakeHandlerSource,
  INPUT_TOPIC,
  OUTPUT_TOPIC,
  RecordingBus,
  collect,
  envelopes,
  eventually,
  requestFactory,
  settle,
  testSettings,
  type FakeHandlerOptions,
} from './fakes.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const SIDE_TOPIC = 'onex.test.sneaky.evt.v1';
const CORRELATION = 'c0ffee00-0000-4000-8000-0000000000aa';
const request = requestFactory();

/**
 * A started host whose single `http` handler runs `behaviour` with the bus in its
 * closure. The full (`async`) guard unless told otherwise.
 */
async function hostWithHandler(behaviour: (bus: ProtocolEventBus) => FakeHandlerOptions['behaviour'], handlerGuard: HandlerGuardMode = 'async') {
  const bus = new RecordingBus();
  const handler = new FakeHandler('http', { behaviour: behaviour(bus) });
  const host = new RuntimeHostProcess({
    directHandlerCalls: true,
    settings: testSettings(),
    bus,
    handlerSource: new FakeHandlerSource([handler]),
    versionFacts: COMPATIBLE_VERSION_FACTS,
    providers: deterministicProviders(),
    handlerGuard,
  });
  cleanup.add(() => host.stop(), host);
  const outputs = await collect(bus, OUTPUT_TOPIC);
  const side = await collect(bus, SIDE_TOPIC);
  await host.start();
  return { bus, handler, host, outputs, side };
}

async function thrownBy(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('no-publish: the handler invocation context', () => {
  it('has no publish, emit, bus or send capability and is frozen', async () => {
    let seen: HandlerInvocationContext | undefined;
    const { bus, outputs } = await hostWithHandler(() => (_envelope, context) => {
      seen = context;
      return { ok: true };
    });
    await bus.publishEnvelope(request({ operation: 'http.get', correlationId: CORRELATION }), INPUT_TOPIC);
    await eventually(() => expect(outputs).toHaveLength(1));

    const context = seen as HandlerInvocationContext;
    expect(Object.keys(context).sort()).toEqual(['access', 'correlationId', 'envelopeId', 'nodeSlug', 'operation', 'signal']);
    // Neither own nor inherited: nothing on the prototype chain either.
    const everyName = new Set<string>();
    for (let o: object | null = context; o !== null; o = Object.getPrototypeOf(o) as object | null) {
      for (const name of Object.getOwnPropertyNames(o)) everyName.add(name);
    }
    for (const name of everyName) expect(name).not.toMatch(/publish|emit|bus|send|dispatch|producer/i);
    for (const value of Object.values(context)) expect(typeof value === 'string' || value === undefined).toBe(true);

    expect(Object.isFrozen(context)).toBe(true);
    expect(() => Object.assign(context, { publish: () => undefined })).toThrow(TypeError);
    expect('publish' in context).toBe(false);
  });
});

describe('no-publish: a handler that captured the bus', () => {
  it('gets ArchitectureViolationError from publishEnvelope; the host answers with an error envelope and publishes nothing else', async () => {
    let caught: unknown;
    const { bus, outputs, side, host } = await hostWithHandler((captured) => async (envelope) => {
      caught = await thrownBy(() => captured.publishEnvelope({ ...envelope, operation: 'sneaky.event' }, SIDE_TOPIC));
      throw caught;
    });
    const sent = request({ operation: 'http.get', correlationId: CORRELATION });
    await bus.publishEnvelope(sent, INPUT_TOPIC);
    await eventually(() => expect(outputs).toHaveLength(1));

    expect(caught).toBeInstanceOf(ArchitectureViolationError);
    expect(caught).toMatchObject({ code: 'ARCHITECTURE_VIOLATION', handlerType: 'http' });
    expect((caught as Error).message).toContain('handlers must not publish');

    const [response] = envelopes(outputs);
    expect(response).toMatchObject({
      correlationId: CORRELATION,
      causationId: sent.envelopeId,
      isResponse: true,
      success: false,
      payload: null,
      error: { code: 'ARCHITECTURE_VIOLATION', handler_type: 'http', operation: 'http.get', retryable: false },
    });

    await settle();
    // Exactly the request and its response went through the bus: nothing on the side topic.
    expect(bus.published.map((m) => m.topic)).toEqual([INPUT_TOPIC, OUTPUT_TOPIC]);
    expect(side).toEqual([]);
    expect(bus.depth(SIDE_TOPIC)).toBe(0);
    expect(host.health()).toMatchObject({ processed: 1, failed: 1 });
  });

  it('cannot publish raw messages, subscribe or start consuming either', async () => {
    const errors: unknown[] = [];
    const { bus, outputs, side } = await hostWithHandler((captured) => async () => {
      const raw = captured as RecordingBus;
      errors.push(await thrownBy(() => raw.publish({ topic: SIDE_TOPIC, value: '{"operation":"sneaky.event"}' })));
      errors.push(await thrownBy(() => captured.subscribe(SIDE_TOPIC, async () => undefined)));
      errors.push(await thrownBy(() => captured.startConsuming()));
      // Swallowing the violations does not help: still nothing gets published.
      return { swallowed: errors.length };
    });
    await bus.publishEnvelope(request({ operation: 'http.get', correlationId: CORRELATION }), INPUT_TOPIC);
    await eventually(() => expect(outputs).toHaveLength(1));

    expect(errors).toHaveLength(3);
    for (const error of errors) expect(error).toMatchObject({ code: 'ARCHITECTURE_VIOLATION' });
    expect((errors[0] as Error).message).toContain('(publish)');
    expect((errors[1] as Error).message).toContain('(subscribe)');
    expect((errors[2] as Error).message).toContain('(startConsuming)');
    await settle();
    expect(side).toEqual([]);
    expect(bus.published.map((m) => m.topic)).toEqual([INPUT_TOPIC, OUTPUT_TOPIC]);
    // The host's input, and the test's output and side collectors: the handler added none.
    expect((await bus.healthCheck()).subscriptions).toBe(3);
  });

  it('cannot escape the rule by deferring the publish past the end of execute', async () => {
    const deferred: Promise<unknown>[] = [];
    const { bus, outputs, side } = await hostWithHandler((captured) => async (envelope) => {
      deferred.push(
        new Promise((resolve) => {
          setTimeout(() => {
            thrownBy(() => captured.publishEnvelope(envelope, SIDE_TOPIC)).then(resolve, resolve);
          }, 1);
        }),
      );
      return { scheduled: true };
    });
    await bus.publishEnvelope(request({ operation: 'http.get', correlationId: CORRELATION }), INPUT_TOPIC);
    await eventually(() => expect(outputs).toHaveLength(1));
    expect(envelopes(outputs)[0]?.success).toBe(true);

    const error = await deferred[0];
    expect(error).toBeInstanceOf(ArchitectureViolationError);
    await settle();
    expect(side).toEqual([]);
  });

  it('leaves the host free to publish: the guard applies to handler call stacks only', async () => {
    const { bus, outputs, side } = await hostWithHandler(() => () => ({ ok: true }));
    await bus.publishEnvelope(request({ operation: 'http.get', correlationId: CORRELATION }), INPUT_TOPIC);
    await eventually(() => expect(outputs).toHaveLength(1));
    // Outside a handler, the same bus accepts publishes.
    await bus.publish({ topic: SIDE_TOPIC, value: 'from the test, not a handler' });
    await eventually(() => expect(side).toHaveLength(1));
  });
});

describe('no-publish: the default (sync) guard', () => {
  it('refuses a publish made on the synchronous call stack of execute', async () => {
    let caught: unknown;
    const { bus, outputs, side } = await hostWithHandler(
      (captured) => (envelope) => {
        // No await before the call: this is the handler's own call stack.
        const attempt = captured.publishEnvelope({ ...envelope, operation: 'sneaky.event' }, SIDE_TOPIC);
        return attempt.then(
          () => ({ published: true }),
          (error: unknown) => {
            caught = error;
            throw error;
          },
        );
      },
      'sync',
    );
    await bus.publishEnvelope(request({ operation: 'http.get', correlationId: CORRELATION }), INPUT_TOPIC);
    await eventually(() => expect(outputs).toHaveLength(1));
    expect(caught).toBeInstanceOf(ArchitectureViolationError);
    expect(envelopes(outputs)[0]?.error).toMatchObject({ code: 'ARCHITECTURE_VIOLATION', handler_type: 'http' });
    await settle();
    expect(side).toEqual([]);
  });
});

