import { describe, expect, it, vi } from 'vitest';
import {
  ArchitectureViolationError,
  ComputeNode,
  EffectNode,
  InvalidOperationError,
  NodeRuntime,
  OrchestratorNode,
  ReducerNode,
  createIntent,
  createRequestEnvelope,
  intentToWire,
  type Intent,
  type JsonObject,
  type JsonValue,
  type OnexEnvelope,
  type OrchestratorOutput,
  type ReducerOutput,
} from '@onex/core';
import { deterministicProviders } from '@onex/core/testing';
import { EchoHandler as LocalHandler } from './echo-handler.js';
import { CORRELATION_ID, catchOnexError } from './helpers.js';

function setup() {
  const runtime = new NodeRuntime({ providers: deterministicProviders(500) });
  const local = new LocalHandler();
  const execute = vi.spyOn(local, 'execute');
  runtime.registerHandler(local);
  return { runtime, local, execute };
}

function req(init: Parameters<typeof createRequestEnvelope>[0]): OnexEnvelope {
  return createRequestEnvelope({ correlationId: CORRELATION_ID, ...init }, deterministicProviders());
}

describe('EffectNode', () => {
  it('calls the handler for an allowed operation and returns its payload', async () => {
    const { runtime, execute } = setup();
    runtime.registerNode(new EffectNode({ slug: 'echo_service', operations: ['local.echo', 'local.transform'] }));
    const res = await runtime.routeEnvelope(req({ operation: 'local.transform', targetNode: 'echo_service', payload: { a: 'b' } }));
    expect(res.success).toBe(true);
    expect(res.payload).toEqual({ a: 'B' });
    expect(execute).toHaveBeenCalledTimes(1);
    expect(execute.mock.calls[0]?.[1]).toMatchObject({ nodeSlug: 'echo_service', operation: 'local.transform' });
  });

  it('refuses an operation outside its io_operations with INVALID_OPERATION listing the allowed ones', async () => {
    const { runtime, execute } = setup();
    runtime.registerNode(new EffectNode({ slug: 'echo_service', operations: ['local.echo', 'local.transform'] }));
    const res = await runtime.routeEnvelope(req({ operation: 'local.error', targetNode: 'echo_service' }));
    expect(res.success).toBe(false);
    expect(res.error).toMatchObject({
      code: 'INVALID_OPERATION',
      operation: 'local.error',
      handler_type: 'local',
      node: 'echo_service',
      allowed_operations: ['local.echo', 'local.transform'],
    });
    expect(res.error?.message).toContain('local.echo, local.transform');
    expect(execute).not.toHaveBeenCalled();
  });

  it('with no io_operations refuses everything', async () => {
    const { runtime, execute } = setup();
    runtime.registerNode(new EffectNode({ slug: 'idle', operations: [] }));
    const res = await runtime.routeEnvelope(req({ operation: 'local.echo', targetNode: 'idle' }));
    expect(res.error).toMatchObject({ code: 'INVALID_OPERATION', allowed_operations: [] });
    expect(execute).not.toHaveBeenCalled();
  });

  it('passes handler failures through as their typed error', async () => {
    const { runtime } = setup();
    runtime.registerNode(new EffectNode({ slug: 'failing', operations: ['local.error'] }));
    const res = await runtime.routeEnvelope(req({ operation: 'local.error', targetNode: 'failing', payload: { message: 'downstream said no' } }));
    expect(res.error).toMatchObject({ code: 'HANDLER_EXECUTION_ERROR', message: 'downstream said no', handler_type: 'local' });
  });

  it('describes itself', () => {
    expect(new EffectNode({ slug: 'svc', operations: ['db.query'], description: 'users' }).describe()).toEqual({
      slug: 'svc',
      kind: 'effect',
      description: 'users',
      allowedOperations: ['db.query'],
    });
  });

  it.each(['Bad-Slug', '', '-leading', 'has space', 'dot.ted'])('rejects slug %j', (slug) => {
    const error = catchOnexError(() => new EffectNode({ slug, operations: [] }));
    expect(error).toBeInstanceOf(InvalidOperationError);
  });
});

describe('ComputeNode', () => {
  it('returns {result} and never calls a handler', async () => {
    const { runtime, execute } = setup();
    runtime.registerNode(
      new ComputeNode({
        slug: 'order_calculator',
        compute: (input) => {
          const items = (input as { items: Array<{ price: number; qty: number }> }).items;
          return { total: items.reduce((sum, i) => sum + i.price * i.qty, 0) };
        },
      }),
    );
    const res = await runtime.routeEnvelope(
      req({ operation: 'local.echo', targetNode: 'order_calculator', payload: { items: [{ price: 2, qty: 3 }, { price: 5, qty: 1 }] } }),
    );
    expect(res.success).toBe(true);
    expect(res.payload).toEqual({ result: { total: 11 } });
    expect(execute).toHaveBeenCalledTimes(0);
  });

  it('is deterministic: same input, same output', async () => {
    const { runtime } = setup();
    runtime.registerNode(new ComputeNode({ slug: 'double', compute: (n) => (n as number) * 2 }));
    const a = await runtime.routeEnvelope(req({ operation: 'calc.double', targetNode: 'double', payload: 21 }));
    const b = await runtime.routeEnvelope(req({ operation: 'calc.double', targetNode: 'double', payload: 21 }));
    expect(a.payload).toEqual({ result: 42 });
    expect(b.payload).toEqual(a.payload);
  });

  it('gets the operation, correlation and envelope ids in its context, nothing that does I/O', async () => {
    const { runtime } = setup();
    const seen: unknown[] = [];
    runtime.registerNode(
      new ComputeNode({
        slug: 'spy',
        compute: (_input, context) => {
          seen.push(context);
          return null;
        },
      }),
    );
    const request = req({ operation: 'calc.run', targetNode: 'spy' });
    await runtime.routeEnvelope(request);
    expect(seen).toEqual([{ operation: 'calc.run', correlationId: CORRELATION_ID, envelopeId: request.envelopeId, payloadType: undefined }]);
  });

  it('a compute that returns a Promise → ARCHITECTURE_VIOLATION, and still no handler call', async () => {
    const { runtime, execute } = setup();
    runtime.registerNode(new ComputeNode({ slug: 'sneaky', compute: (async () => ({ fetched: true })) as unknown as () => JsonValue }));
    const res = await runtime.routeEnvelope(req({ operation: 'calc.run', targetNode: 'sneaky' }));
    expect(res.success).toBe(false);
    expect(res.error).toMatchObject({ code: 'ARCHITECTURE_VIOLATION', operation: 'calc.run' });
    expect(res.error?.message).toContain('sneaky');
    expect(execute).not.toHaveBeenCalled();
  });

  it('throws ArchitectureViolationError from handle() directly', async () => {
    const node = new ComputeNode({ slug: 'sneaky', compute: (() => Promise.resolve(1)) as unknown as () => JsonValue });
    await expect(node.handle(req({ operation: 'calc.run' }))).rejects.toBeInstanceOf(ArchitectureViolationError);
  });

  it('describes itself with no allowed operations', () => {
    expect(new ComputeNode({ slug: 'c', compute: () => null }).describe()).toEqual({ slug: 'c', kind: 'compute', description: undefined, allowedOperations: [] });
  });
});

interface Registrations extends JsonObject {
  count: number;
  services: string[];
}

function registrationReducer(): ReducerNode<Registrations> {
  return new ReducerNode<Registrations>({
    slug: 'registration_reducer',
    initialState: { count: 0, services: [] },
    reduce: (state, event): ReducerOutput<Registrations> => {
      const name = (event.payload as { service: string }).service;
      return {
        state: { count: state.count + 1, services: [...state.services, name] },
        intents: [
          createIntent({
            target: `consul://service/${name}`,
            payload: { intent_type: 'consul.register', service_name: name, tags: ['node_type:effect'] },
          }),
        ],
      };
    },
  });
}

describe('ReducerNode', () => {
  it('folds state over several envelopes and returns {state, intents} with wire intents', async () => {
    const { runtime, execute } = setup();
    const reducer = registrationReducer();
    runtime.registerNode(reducer);

    const responses = [];
    for (const service of ['orders', 'billing', 'users']) {
      responses.push(await runtime.routeEnvelope(req({ operation: 'registration.requested', targetNode: 'registration_reducer', payload: { service } })));
    }
    expect(responses.map((r) => r.success)).toEqual([true, true, true]);
    expect(responses.map((r) => (r.payload as { state: Registrations }).state.count)).toEqual([1, 2, 3]);
    expect(responses[2]?.payload).toEqual({
      state: { count: 3, services: ['orders', 'billing', 'users'] },
      intents: [
        {
          intent_type: 'extension',
          target: 'consul://service/users',
          payload: { intent_type: 'consul.register', service_name: 'users', tags: ['node_type:effect'] },
        },
      ],
    });
    expect(reducer.state).toEqual({ count: 3, services: ['orders', 'billing', 'users'] });
    expect(execute).not.toHaveBeenCalled();
  });

  it('starts from its initial state', () => {
    expect(registrationReducer().state).toEqual({ count: 0, services: [] });
  });

  it('a reducer that throws leaves the state unchanged', async () => {
    const { runtime } = setup();
    let fail = false;
    const reducer = new ReducerNode<number>({
      slug: 'counter',
      initialState: 0,
      reduce: (state) => {
        if (fail) throw new Error('bad event');
        return { state: state + 1, intents: [] };
      },
    });
    runtime.registerNode(reducer);
    await runtime.routeEnvelope(req({ operation: 'tick', targetNode: 'counter' }));
    fail = true;
    const res = await runtime.routeEnvelope(req({ operation: 'tick', targetNode: 'counter' }));
    expect(res.error?.code).toBe('INTERNAL_ERROR');
    expect(reducer.state).toBe(1);
  });

  it('a reducer that returns a Promise → ARCHITECTURE_VIOLATION', async () => {
    const { runtime } = setup();
    runtime.registerNode(
      new ReducerNode<number>({
        slug: 'async_reducer',
        initialState: 0,
        reduce: (async (state: number) => ({ state, intents: [] })) as unknown as (s: number) => ReducerOutput<number>,
      }),
    );
    const res = await runtime.routeEnvelope(req({ operation: 'tick', targetNode: 'async_reducer' }));
    expect(res.error?.code).toBe('ARCHITECTURE_VIOLATION');
  });
});

describe('createIntent / intentToWire', () => {
  it('builds an "extension" intent whose routing key is payload.intent_type', () => {
    const intent: Intent = createIntent({ target: 'postgres://node_registrations/42', payload: { intent_type: 'postgres.upsert', node_id: '42' } });
    expect(intent).toEqual({ intentType: 'extension', target: 'postgres://node_registrations/42', payload: { intent_type: 'postgres.upsert', node_id: '42' } });
    expect(Object.isFrozen(intent)).toBe(true);
    expect(Object.isFrozen(intent.payload)).toBe(true);
    expect(intentToWire(intent)).toEqual({ intent_type: 'extension', target: 'postgres://node_registrations/42', payload: { intent_type: 'postgres.upsert', node_id: '42' } });
  });

  it('keeps an explicit outer intent type', () => {
    expect(createIntent({ intentType: 'custom', target: 'consul://service/x', payload: { intent_type: 'consul.register' } }).intentType).toBe('custom');
  });

  it('does not share the payload object with the caller', () => {
    const payload = { intent_type: 'consul.register', name: 'a' };
    const intent = createIntent({ target: 'consul://service/a', payload });
    payload.name = 'changed';
    expect(intent.payload.name).toBe('a');
  });

  it.each(['consul', 'consul://service', 'consul://service/', 'consul:/service/x', 'Consul://service/x', '://service/x', 'consul://service/has space', ''])(
    'rejects target %j',
    (target) => {
      const error = catchOnexError(() => createIntent({ target, payload: { intent_type: 'consul.register' } }));
      expect(error).toBeInstanceOf(InvalidOperationError);
      expect(error.message).toContain('{protocol}://{resource}/{identifier}');
    },
  );

  it.each([[{}], [{ intent_type: '' }], [{ intent_type: 7 }]])('rejects a payload without a usable intent_type: %j', (payload) => {
    const error = catchOnexError(() => createIntent({ target: 'consul://service/x', payload: payload as unknown as { intent_type: string } }));
    expect(error).toBeInstanceOf(InvalidOperationError);
    expect(error.message).toContain('intent_type');
  });
});

describe('OrchestratorNode', () => {
  it('returns {events, intents} in wire form', async () => {
    const { runtime, execute } = setup();
    runtime.registerNode(
      new OrchestratorNode({
        slug: 'workflow',
        orchestrate: (event): OrchestratorOutput => ({
          events: [{ eventType: 'registration.accepted', payload: { node_id: (event.payload as { node_id: string }).node_id } }],
          intents: [createIntent({ target: 'consul://service/orders', payload: { intent_type: 'consul.register' } })],
        }),
      }),
    );
    const res = await runtime.routeEnvelope(req({ operation: 'registration.requested', targetNode: 'workflow', payload: { node_id: 'n1' } }));
    expect(res.success).toBe(true);
    expect(res.payload).toEqual({
      events: [{ event_type: 'registration.accepted', payload: { node_id: 'n1' } }],
      intents: [{ intent_type: 'extension', target: 'consul://service/orders', payload: { intent_type: 'consul.register' } }],
    });
    expect(res.payload).not.toHaveProperty('result');
    expect(execute).not.toHaveBeenCalled();
  });

  it('an orchestrator returning a result → ARCHITECTURE_VIOLATION', async () => {
    const { runtime } = setup();
    runtime.registerNode(
      new OrchestratorNode({
        slug: 'bad_workflow',
        orchestrate: () => ({ events: [], intents: [], result: 42 }) as unknown as OrchestratorOutput,
      }),
    );
    const res = await runtime.routeEnvelope(req({ operation: 'wf.run', targetNode: 'bad_workflow' }));
    expect(res.success).toBe(false);
    expect(res.error).toMatchObject({ code: 'ARCHITECTURE_VIOLATION', operation: 'wf.run' });
  });

  it.each<[string, unknown]>([
    ['a Promise', Promise.resolve({ events: [], intents: [] })],
    ['null', null],
    ['a number', 3],
  ])('an orchestrator returning %s → ARCHITECTURE_VIOLATION', async (_label, output) => {
    const { runtime } = setup();
    runtime.registerNode(new OrchestratorNode({ slug: 'odd', orchestrate: () => output as OrchestratorOutput }));
    const res = await runtime.routeEnvelope(req({ operation: 'wf.run', targetNode: 'odd' }));
    expect(res.error?.code).toBe('ARCHITECTURE_VIOLATION');
  });
});
