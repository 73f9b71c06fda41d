import { describe, expect, it } from 'vitest';
import {
  ComputeNode,
  EffectNode,
  HandlerConfigurationError,
  HandlerExecutionError,
  NodeRuntime,
  OnexError,
  createRequestEnvelope,
  parseEnvelope,
  serializeEnvelope,
  type EnvelopeHandler,
  type HandlerInvocationContext,
  type HandlerType,
  type JsonValue,
  type OnexEnvelope,
} from '@onex/core';
import { deterministicProviders } from '@onex/core/testing';
import { EchoHandler as LocalHandler } from './echo-handler.js';
import { CORRELATION_ID, ID_1, T0, catchOnexError, deepFreeze } from './helpers.js';

/** A fake handler that records its calls and answers with `respond`. */
class RecordingHandler implements EnvelopeHandler {
  readonly calls: Array<{ envelope: OnexEnvelope; context: HandlerInvocationContext }> = [];

  constructor(
    readonly handlerType: HandlerType,
    private readonly respond: (envelope: OnexEnvelope) => JsonValue = (e) => ({ handled_by: this.handlerType, operation: e.operation }),
  ) {}

  async execute(envelope: OnexEnvelope, context: HandlerInvocationContext): Promise<JsonValue> {
    this.calls.push({ envelope, context });
    return this.respond(envelope);
  }
}

/** A handler that throws `value` (not an OnexError) from execute. */
function throwingHandler(handlerType: HandlerType, value: unknown): EnvelopeHandler {
  return {
    handlerType,
    async execute() {
      throw value;
    },
  };
}

/** Most routing tests exercise handler dispatch itself, so the door to bare handlers is open here. */
function setup(options: { directHandlerCalls?: boolean } = {}) {
  const providers = deterministicProviders(1000);
  const runtime = new NodeRuntime({ providers, directHandlerCalls: options.directHandlerCalls ?? true });
  return { runtime, providers };
}

/** A request envelope whose own id comes from a separate generator (seed 42 → ID_1). */
function req(init: Parameters<typeof createRequestEnvelope>[0]): OnexEnvelope {
  return createRequestEnvelope({ correlationId: CORRELATION_ID, ...init }, deterministicProviders());
}

describe('NodeRuntime: every envelope passes a node allow-list', () => {
  it('without target_node, goes through the one node that allows its operation, with that node\'s grant', async () => {
    const { runtime } = setup({ directHandlerCalls: false });
    const db = new RecordingHandler('db');
    runtime.registerHandler(db);
    runtime.registerNode(new EffectNode({ slug: 'reader', operations: ['db.query'] }));
    runtime.registerNode(new EffectNode({ slug: 'writer', operations: ['db.execute'], access: { 'db.execute': 'read_write' } }));
    const read = await runtime.routeEnvelope(req({ operation: 'db.query', payload: {} }));
    const write = await runtime.routeEnvelope(req({ operation: 'db.execute', payload: {} }));
    expect(read.success).toBe(true);
    expect(write.success).toBe(true);
    expect(db.calls.map((c) => [c.context.nodeSlug, c.context.access])).toEqual([
      ['reader', 'read_only'],
      ['writer', 'read_write'],
    ]);
  });

  it('without target_node, an operation no node allows is refused and never reaches the handler', async () => {
    const { runtime } = setup({ directHandlerCalls: false });
    const db = new RecordingHandler('db');
    runtime.registerHandler(db);
    runtime.registerNode(new EffectNode({ slug: 'reader', operations: ['db.query'] }));
    const response = await runtime.routeEnvelope(req({ operation: 'db.execute', payload: { sql: 'drop table users' } }));
    expect(response.error).toMatchObject({ code: 'INVALID_OPERATION', allowing_nodes: [] });
    expect(response.error?.hint).toContain('io_operations');
    expect(db.calls).toHaveLength(0);
  });

  it('with no nodes at all, no envelope reaches a handler', async () => {
    const { runtime } = setup({ directHandlerCalls: false });
    const db = new RecordingHandler('db');
    runtime.registerHandler(db);
    const response = await runtime.routeEnvelope(req({ operation: 'db.query', payload: {} }));
    expect(response.error?.code).toBe('INVALID_OPERATION');
    expect(db.calls).toHaveLength(0);
  });

  it('an operation two nodes allow needs target_node', async () => {
    const { runtime } = setup({ directHandlerCalls: false });
    runtime.registerHandler(new RecordingHandler('db'));
    runtime.registerNode(new EffectNode({ slug: 'a', operations: ['db.query'] }));
    runtime.registerNode(new EffectNode({ slug: 'b', operations: ['db.query'] }));
    const response = await runtime.routeEnvelope(req({ operation: 'db.query', payload: {} }));
    expect(response.error).toMatchObject({ code: 'INVALID_OPERATION', allowing_nodes: ['a', 'b'] });
  });

  it('passes the caller\'s abort signal to the handler', async () => {
    const { runtime } = setup({ directHandlerCalls: false });
    const db = new RecordingHandler('db');
    runtime.registerHandler(db);
    runtime.registerNode(new EffectNode({ slug: 'reader', operations: ['db.query'] }));
    const controller = new AbortController();
    await runtime.routeEnvelope(req({ operation: 'db.query', payload: {} }), { signal: controller.signal });
    expect(db.calls[0]?.context.signal).toBe(controller.signal);
  });
});

describe('NodeRuntime routing', () => {
  it('routes by target_node to that node', async () => {
    const { runtime } = setup();
    const db = new RecordingHandler('db');
    runtime.registerHandler(db);
    runtime.registerNode(new ComputeNode({ slug: 'calculator', compute: (input) => ({ got: input }) }));
    runtime.registerNode(new EffectNode({ slug: 'user_service', operations: ['db.query'] }));

    const toCompute = await runtime.routeEnvelope(req({ operation: 'db.query', targetNode: 'calculator', payload: 7 }));
    expect(toCompute.success).toBe(true);
    expect(toCompute.payload).toEqual({ result: { got: 7 } });
    expect(db.calls).toHaveLength(0);

    const toEffect = await runtime.routeEnvelope(req({ operation: 'db.query', targetNode: 'user_service' }));
    expect(toEffect.success).toBe(true);
    expect(toEffect.payload).toEqual({ handled_by: 'db', operation: 'db.query' });
    expect(db.calls).toHaveLength(1);
    expect(db.calls[0]?.context.nodeSlug).toBe('user_service');
  });

  it('without target_node routes by handler_type', async () => {
    const { runtime } = setup();
    const db = new RecordingHandler('db');
    const http = new RecordingHandler('http');
    runtime.registerHandler(db);
    runtime.registerHandler(http);
    const res = await runtime.routeEnvelope(req({ operation: 'query', handlerType: 'db' }));
    expect(res.success).toBe(true);
    expect(res.payload).toEqual({ handled_by: 'db', operation: 'query' });
    expect(db.calls).toHaveLength(1);
    expect(http.calls).toHaveLength(0);
    expect(db.calls[0]?.context.nodeSlug).toBeUndefined();
  });

  it('handler_type wins over the operation prefix', async () => {
    const { runtime } = setup();
    const db = new RecordingHandler('db');
    const http = new RecordingHandler('http');
    runtime.registerHandler(db);
    runtime.registerHandler(http);
    await runtime.routeEnvelope(req({ operation: 'http.get', handlerType: 'db' }));
    expect(db.calls).toHaveLength(1);
    expect(http.calls).toHaveLength(0);
  });

  it('without target_node or handler_type routes by operation prefix', async () => {
    const { runtime } = setup();
    const db = new RecordingHandler('db');
    const http = new RecordingHandler('http');
    runtime.registerHandler(db);
    runtime.registerHandler(http);
    const res = await runtime.routeEnvelope(req({ operation: 'http.get' }));
    expect(res.payload).toEqual({ handled_by: 'http', operation: 'http.get' });
    expect(http.calls).toHaveLength(1);
    expect(db.calls).toHaveLength(0);
  });

  it('with the LocalHandler, an envelope parsed from the wire routes end to end', async () => {
    const { runtime } = setup();
    runtime.registerHandler(new LocalHandler());
    const incoming = parseEnvelope(JSON.stringify({ operation: 'local.transform', payload: { name: 'ada' }, correlation_id: CORRELATION_ID }), deterministicProviders());
    const res = await runtime.routeEnvelope(incoming);
    expect(JSON.parse(serializeEnvelope(res))).toEqual({
      envelope_id: '00000000-0000-0000-0000-0000000003e9',
      envelope_version: '1.0.0',
      correlation_id: CORRELATION_ID,
      causation_id: ID_1,
      operation: 'local.transform',
      payload: { name: 'ADA' },
      metadata: {},
      timestamp: T0,
      is_response: true,
      success: true,
    });
  });

  it('lists handler types sorted and nodes in registration order', () => {
    const { runtime } = setup();
    runtime.registerHandler(new RecordingHandler('vault'));
    runtime.registerHandler(new RecordingHandler('db'));
    runtime.registerHandler(new RecordingHandler('http'));
    runtime.registerNode(new EffectNode({ slug: 'b_node', operations: ['db.query'], description: 'B' }));
    runtime.registerNode(new ComputeNode({ slug: 'a_node', compute: () => null }));
    expect(runtime.handlerTypes).toEqual(['db', 'http', 'vault']);
    expect(runtime.describeNodes()).toEqual([
      { slug: 'b_node', kind: 'effect', description: 'B', allowedOperations: ['db.query'] },
      { slug: 'a_node', kind: 'compute', description: undefined, allowedOperations: [] },
    ]);
  });
});

describe('NodeRuntime failures become error envelopes', () => {
  it('HANDLER_NOT_FOUND lists the available handlers, sorted', async () => {
    const { runtime } = setup();
    runtime.registerHandler(new RecordingHandler('http'));
    runtime.registerHandler(new RecordingHandler('db'));
    const request = req({ operation: 'vault.read' });
    const res = await runtime.routeEnvelope(request);
    expect(res).toMatchObject({
      isResponse: true,
      success: false,
      payload: null,
      correlationId: CORRELATION_ID,
      causationId: request.envelopeId,
    });
    expect(res.error).toMatchObject({
      code: 'HANDLER_NOT_FOUND',
      message: "No handler registered for type 'vault'",
      handler_type: 'vault',
      operation: 'vault.read',
      available_handlers: ['db', 'http'],
    });
    expect(res.error?.hint).toContain('db, http');
  });

  it('HANDLER_NOT_FOUND with no handlers at all lists none', async () => {
    const { runtime } = setup();
    const res = await runtime.routeEnvelope(req({ operation: 'db.query' }));
    expect(res.error).toMatchObject({ code: 'HANDLER_NOT_FOUND', available_handlers: [] });
  });

  it('NODE_NOT_FOUND lists the available nodes', async () => {
    const { runtime } = setup();
    runtime.registerNode(new ComputeNode({ slug: 'alpha', compute: () => 1 }));
    runtime.registerNode(new ComputeNode({ slug: 'beta', compute: () => 2 }));
    const res = await runtime.routeEnvelope(req({ operation: 'calc.run', targetNode: 'gamma' }));
    expect(res.success).toBe(false);
    expect(res.error).toMatchObject({
      code: 'NODE_NOT_FOUND',
      message: "No node registered with slug 'gamma'",
      operation: 'calc.run',
      target_node: 'gamma',
      available_nodes: ['alpha', 'beta'],
    });
    expect(res.metadata).toEqual({ original_target_node: 'gamma' });
  });

  it.each<[string, unknown]>([
    ['an Error', new Error('socket hang up')],
    ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'rows')")],
    ['a string', 'plain string failure'],
    ['null', null],
    ['an object', { status: 500 }],
  ])('a handler that throws %s → INTERNAL_ERROR envelope, never a rejection', async (_label, thrown) => {
    const { runtime } = setup();
    runtime.registerHandler(throwingHandler('db', thrown));
    const request = req({ operation: 'db.query' });
    const res = await runtime.routeEnvelope(request);
    expect(res).toMatchObject({ isResponse: true, success: false, payload: null, correlationId: CORRELATION_ID, causationId: request.envelopeId });
    expect(res.error).toMatchObject({ code: 'INTERNAL_ERROR', handler_type: 'db', operation: 'db.query', retryable: false });
    const text = serializeEnvelope(res);
    expect(text).not.toContain('stack');
    expect(text).not.toMatch(/\n\s+at /);
    expect(text).not.toMatch(/\bat .*\.(ts|js):\d+/);
  });

  it('a handler that throws synchronously (not a rejected promise) is still caught', async () => {
    const { runtime } = setup();
    runtime.registerHandler({
      handlerType: 'db',
      execute() {
        throw new Error('sync throw');
      },
    });
    const res = await runtime.routeEnvelope(req({ operation: 'db.query' }));
    expect(res.error?.code).toBe('INTERNAL_ERROR');
  });

  it('a typed handler error keeps its code and gets the handler type and operation', async () => {
    const { runtime } = setup();
    runtime.registerHandler(throwingHandler('db', new HandlerExecutionError('Database connection failed')));
    const res = await runtime.routeEnvelope(req({ operation: 'query', handlerType: 'db', targetNode: undefined }));
    expect(res.error).toEqual({ code: 'HANDLER_EXECUTION_ERROR', message: 'Database connection failed', retryable: false, handler_type: 'db', operation: 'query' });
  });

  it('a node that throws a raw value → INTERNAL_ERROR envelope', async () => {
    const { runtime } = setup();
    runtime.registerNode(
      new ComputeNode({
        slug: 'broken',
        compute: () => {
          throw new Error('division by zero');
        },
      }),
    );
    const res = await runtime.routeEnvelope(req({ operation: 'calc.divide', targetNode: 'broken' }));
    expect(res.error).toMatchObject({ code: 'INTERNAL_ERROR', operation: 'calc.divide' });
    expect(res.error?.message).toContain('division by zero');
  });

  it('executeWithHandler throws typed errors (the node port), never raw ones', async () => {
    const { runtime } = setup();
    runtime.registerHandler(throwingHandler('db', 'raw'));
    await expect(runtime.executeWithHandler(req({ operation: 'db.query' }))).rejects.toBeInstanceOf(OnexError);
    await expect(runtime.executeWithHandler(req({ operation: 'nope.query' }))).rejects.toMatchObject({ code: 'HANDLER_NOT_FOUND' });
  });
});

describe('NodeRuntime registration', () => {
  it('a duplicate handler type → HandlerConfigurationError', () => {
    const { runtime } = setup();
    runtime.registerHandler(new RecordingHandler('db'));
    const error = catchOnexError(() => runtime.registerHandler(new RecordingHandler('db')));
    expect(error).toBeInstanceOf(HandlerConfigurationError);
    expect(error.code).toBe('HANDLER_CONFIGURATION_ERROR');
    expect(error.handlerType).toBe('db');
    expect(error.message).toContain('"db"');
    expect(runtime.handlerTypes).toEqual(['db']);
  });

  it('a duplicate node slug is refused', () => {
    const { runtime } = setup();
    runtime.registerNode(new ComputeNode({ slug: 'calc', compute: () => 1 }));
    const error = catchOnexError(() => runtime.registerNode(new EffectNode({ slug: 'calc', operations: [] })));
    expect(error.message).toContain('"calc"');
    expect(error.hint).toBeTruthy();
    expect(runtime.describeNodes().map((n) => n.kind)).toEqual(['compute']);
  });
});

describe('NodeRuntime invariants', () => {
  it('never mutates the request envelope (deep-frozen, compared with a structuredClone copy)', async () => {
    const { runtime } = setup();
    runtime.registerHandler(new LocalHandler());
    runtime.registerNode(new EffectNode({ slug: 'echoer', operations: ['local.echo', 'local.transform'] }));
    const requests = [
      req({ operation: 'local.transform', payload: { name: 'ada', tags: ['x', { y: 'z' }] }, metadata: { trace: 't' } }),
      req({ operation: 'local.echo', targetNode: 'echoer', payload: { list: [1, 2, 3] }, metadata: { tenant_id: 'acme' } }),
      req({ operation: 'local.error', payload: { message: 'nope' } }),
      req({ operation: 'local.echo', targetNode: 'missing' }),
      req({ operation: 'vault.read' }),
    ];
    for (const request of requests) {
      const copy = structuredClone(request);
      deepFreeze(request);
      const res = await runtime.routeEnvelope(request);
      expect(request).toEqual(copy);
      // A TypeError from writing to a frozen object would surface as INTERNAL_ERROR.
      expect(res.error?.code).not.toBe('INTERNAL_ERROR');
    }
  });

  it('never creates a correlation id: a request without one gets a response without one', async () => {
    const { runtime } = setup();
    runtime.registerHandler(new LocalHandler());
    const request = createRequestEnvelope({ operation: 'local.echo', payload: 1 }, deterministicProviders());
    const ok = await runtime.routeEnvelope(request);
    const failed = await runtime.routeEnvelope(createRequestEnvelope({ operation: 'db.query' }, deterministicProviders()));
    expect(ok.correlationId).toBeUndefined();
    expect(failed.correlationId).toBeUndefined();
    expect(JSON.parse(serializeEnvelope(ok))).not.toHaveProperty('correlation_id');
    expect(JSON.parse(serializeEnvelope(failed))).not.toHaveProperty('correlation_id');
  });

  it('echoes the correlation id exactly on success and on error', async () => {
    const { runtime } = setup();
    runtime.registerHandler(new LocalHandler());
    expect((await runtime.routeEnvelope(req({ operation: 'local.echo' }))).correlationId).toBe(CORRELATION_ID);
    expect((await runtime.routeEnvelope(req({ operation: 'local.error' }))).correlationId).toBe(CORRELATION_ID);
    expect((await runtime.routeEnvelope(req({ operation: 'db.query' }))).correlationId).toBe(CORRELATION_ID);
  });

  it('the handler invocation context is frozen and has no publish, emit or bus capability', async () => {
    const { runtime } = setup();
    const handler = new RecordingHandler('local');
    runtime.registerHandler(handler);
    const request = req({ operation: 'local.echo' });
    await runtime.routeEnvelope(request);
    const context = handler.calls[0]?.context;
    expect(context).toBeDefined();
    if (context === undefined) return;
    expect(Object.isFrozen(context)).toBe(true);
    for (const key of ['publish', 'emit', 'bus', 'eventBus', 'event_bus', 'publisher', 'sendEvent', 'send_event']) {
      expect(key in context, key).toBe(false);
    }
    expect(Object.values(context).some((v) => typeof v === 'function')).toBe(false);
    expect(context).toEqual({ correlationId: CORRELATION_ID, envelopeId: request.envelopeId, operation: 'local.echo', nodeSlug: undefined, access: 'read_write', signal: undefined });
  });

  it('the handler receives the very envelope it was routed, not a rewritten copy', async () => {
    const { runtime } = setup();
    const handler = new RecordingHandler('db');
    runtime.registerHandler(handler);
    const request = req({ operation: 'db.query', payload: { sql: 'SELECT 1' } });
    await runtime.routeEnvelope(request);
    expect(handler.calls[0]?.envelope).toBe(request);
  });

  it('response ids come from the runtime providers', async () => {
    const { runtime, providers } = setup();
    runtime.registerHandler(new LocalHandler());
    providers.clock.advance(30);
    const res = await runtime.routeEnvelope(req({ operation: 'local.echo' }));
    expect(res.envelopeId).toBe('00000000-0000-0000-0000-0000000003e9');
    expect(res.timestamp).toBe('2024-01-01T00:00:30.000Z');
  });
});
