/**
 * The node authoring API as a user meets it: what `defineCompute`, `defineReducer` and
 * `defineOrchestrator` return, how the host recognises a definition from another copy of
 * @onex/core, and what a caller sees when a definition's schemas refuse a payload or the
 * node's own output.
 */
import { describe, expect, it } from 'vitest';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { z } from 'zod';
import {
  ContractValidationError,
  NODE_DEFINITION,
  NODE_DEFINITION_VERSION,
  NodeRuntime,
  createIntent,
  createNodeFromContract,
  createRequestEnvelope,
  defineCompute,
  defineOrchestrator,
  defineReducer,
  nodeDefinitionKind,
  parseNodeContract,
  type JsonValue,
  type NodeContext,
  type NodeEvent,
  type NodeInstance,
  type OnexEnvelope,
} from '@onex/core';
import { deterministicProviders } from '@onex/core/testing';
// The TypeScript source is a second module instance beside the built package: a stand-in
// for the user's own copy of @onex/core.
import { defineCompute as defineComputeFromOtherCopy } from '../src/runtime/define-node.js';
import { CORRELATION_ID } from './helpers.js';

const BRAND = Symbol.for('onex.node-definition');
const CONTRACT_FILE = 'nodes/sample.yaml';
const CODE = './logic/node.js#node';

type NodeKind = 'COMPUTE' | 'REDUCER' | 'ORCHESTRATOR';

/** A node whose contract names `exported` as its implementation. */
function nodeOf(nodeType: NodeKind, exported: unknown): NodeInstance {
  const { contract } = parseNodeContract(
    [
      'schema_version: "1.0.0"',
      'node_version: "1.0.0"',
      'name: "sample_node"',
      `node_type: "${nodeType}"`,
      'description: "A node under test"',
      'input_model: { name: "ModelIn" }',
      'output_model: { name: "ModelOut" }',
      'implementation: { module: "./logic/node.js", export: "node" }',
      '',
    ].join('\n'),
    { source: CONTRACT_FILE },
  );
  if (contract.implementation === undefined) throw new Error('the contract lost its implementation');
  return createNodeFromContract('sample', contract, { modules: new Map([[contract.implementation, exported]]) }, CONTRACT_FILE);
}

/** The contract issue a definition that cannot serve the node is refused with. */
function refusal(nodeType: NodeKind, exported: unknown) {
  let thrown: unknown;
  try {
    nodeOf(nodeType, exported);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ContractValidationError);
  const issues = (thrown as ContractValidationError).issues;
  expect(issues).toHaveLength(1);
  return issues[0];
}

/** Sends envelopes to one node through a NodeRuntime, as the host does. */
function serve(node: NodeInstance): (payload: JsonValue, operation?: string) => Promise<OnexEnvelope> {
  const runtime = new NodeRuntime({ providers: deterministicProviders(500) });
  runtime.registerNode(node);
  const providers = deterministicProviders();
  return (payload, operation = 'sample.run') =>
    runtime.routeEnvelope(createRequestEnvelope({ operation, targetNode: 'sample', correlationId: CORRELATION_ID, payload, metadata: { trace: 't1' } }, providers));
}

describe('define* results', () => {
  it('are frozen and carry the shared brand, their version and their kind', () => {
    const compute = defineCompute({ compute: (n) => n });
    const reducer = defineReducer({ initialState: 0, reduce: (s) => ({ state: s }) });
    const orchestrator = defineOrchestrator({ orchestrate: () => ({}) });

    expect(NODE_DEFINITION).toBe(BRAND);
    for (const [definition, kind] of [
      [compute, 'compute'],
      [reducer, 'reducer'],
      [orchestrator, 'orchestrator'],
    ] as const) {
      expect(Object.isFrozen(definition)).toBe(true);
      expect((definition as unknown as Record<symbol, unknown>)[BRAND]).toBe(NODE_DEFINITION_VERSION);
      expect(definition.kind).toBe(kind);
      expect(nodeDefinitionKind(definition)).toEqual({ kind, version: 1 });
      expect(() => {
        (definition as { kind: string }).kind = 'effect';
      }).toThrow(TypeError);
    }
  });

  it('copy their init: changing it afterwards does not change what runs', async () => {
    const init = { compute: (): JsonValue => 'original' };
    const definition = defineCompute(init);
    init.compute = () => 'swapped';
    expect(definition.compute(null, {} as NodeContext)).toBe('original');
    const send = serve(nodeOf('COMPUTE', definition));
    expect((await send(null)).payload).toEqual({ result: 'original' });
  });

  it('nodeDefinitionKind ignores values without the brand and names a missing kind', () => {
    expect(nodeDefinitionKind(() => 1)).toBeUndefined();
    expect(nodeDefinitionKind(null)).toBeUndefined();
    expect(nodeDefinitionKind({ kind: 'compute', compute: () => 1 })).toBeUndefined();
    expect(nodeDefinitionKind('compute')).toBeUndefined();
    expect(nodeDefinitionKind({ [BRAND]: 1 })).toEqual({ kind: '(none)', version: 1 });
  });
});

describe('definitions from another copy of @onex/core', () => {
  it('a plain object carrying the brand and a kind runs as the node', async () => {
    const foreign = { [BRAND]: 1, kind: 'compute', compute: (input: JsonValue) => ({ doubled: (input as number) * 2 }) };
    const res = await serve(nodeOf('COMPUTE', foreign))(21);
    expect(res.success).toBe(true);
    expect(res.payload).toEqual({ result: { doubled: 42 } });
  });

  it('a definition made by a separately loaded copy of the API runs, schemas included', async () => {
    const definition = defineComputeFromOtherCopy({ input: z.object({ n: z.number() }), compute: (input) => input.n + 1 });
    const send = serve(nodeOf('COMPUTE', definition));
    expect((await send({ n: 1 })).payload).toEqual({ result: 2 });
    expect((await send({ n: 'one' })).error).toMatchObject({ code: 'PAYLOAD_VALIDATION_ERROR', field: 'n' });
  });

  it('a definition of another version is refused with HANDLER_LOADER_006 naming both versions', () => {
    const issue = refusal('COMPUTE', { [BRAND]: 2, kind: 'compute', compute: () => 1 });
    expect(issue).toMatchObject({ ruleId: 'HANDLER_LOADER_006', severity: 'error', file: CONTRACT_FILE, path: 'implementation.export' });
    expect(issue?.message).toContain('"node" of ./logic/node.js is a node definition of version 2; this host runs version 1');
  });

  it.each<[string, NodeKind, unknown, string]>([
    ['a reducer definition named by a COMPUTE node', 'COMPUTE', defineReducer({ initialState: 0, reduce: (s) => ({ state: s }) }), 'is a reducer definition, but the node is a COMPUTE'],
    ['a compute definition named by a REDUCER node', 'REDUCER', defineCompute({ compute: () => 1 }), 'is a compute definition, but the node is a REDUCER'],
    ['a plain function named by a REDUCER node', 'REDUCER', () => ({ state: 1 }), 'is a function, not a defineReducer(...) definition'],
    ['a plain function named by an ORCHESTRATOR node', 'ORCHESTRATOR', () => ({}), 'is a function, not a defineOrchestrator(...) definition'],
    ['a number named by a COMPUTE node', 'COMPUTE', 42, 'is a number, not a compute function or a defineCompute(...) definition'],
    ['a branded object without its function', 'COMPUTE', { [BRAND]: 1, kind: 'compute' }, 'is a compute definition without a compute function'],
  ])('%s is refused with HANDLER_LOADER_006', (_label, nodeType, exported, wording) => {
    const issue = refusal(nodeType, exported);
    expect(issue).toMatchObject({ ruleId: 'HANDLER_LOADER_006', path: 'implementation.export' });
    expect(issue?.message).toContain(`"node" of ./logic/node.js ${wording}`);
    expect(issue?.hint).toContain('@onex/core');
  });
});

describe('errors thrown by node code built against another copy of @onex/core', () => {
  /** What an error class of the user's own copy looks like to the host: branded, not an instance of ours. */
  class ForeignOnexError extends Error {
    readonly retryable = false;
    readonly details = { sku: 'mug' };
    constructor(
      readonly code: string,
      message: string,
      readonly hint?: string,
    ) {
      super(message);
    }
  }
  Object.defineProperty(ForeignOnexError.prototype, Symbol.for('onex.error'), { value: true });

  it('a business refusal keeps its code, message, hint and details', async () => {
    const node = nodeOf('COMPUTE', () => {
      throw new ForeignOnexError('INVALID_OPERATION', 'Cart c-1 is checked out', 'Start a new cart.');
    });
    const res = await serve(node)({});
    expect(res.error).toMatchObject({ code: 'INVALID_OPERATION', message: 'Cart c-1 is checked out', hint: 'Start a new cart.', sku: 'mug', retryable: false });
  });

  it('a code node code may not raise (an infra error), or an unbranded error, is INTERNAL_ERROR', async () => {
    for (const thrown of [new ForeignOnexError('INFRA_TIMEOUT', 'pretend timeout'), Object.assign(new Error('plain'), { code: 'INVALID_OPERATION' })]) {
      const res = await serve(
        nodeOf('COMPUTE', () => {
          throw thrown;
        }),
      )({});
      expect(res.error?.code).toBe('INTERNAL_ERROR');
    }
  });
});

describe('a COMPUTE node from a definition', () => {
  it('runs a plain exported function with the envelope context', async () => {
    const seen: NodeContext[] = [];
    const send = serve(
      nodeOf('COMPUTE', (input: JsonValue, context: NodeContext) => {
        seen.push(context);
        return { greeting: `hello ${String((input as { name: string }).name)}` };
      }),
    );
    const res = await send({ name: 'ada' }, 'greet.run');
    expect(res.success).toBe(true);
    expect(res.payload).toEqual({ result: { greeting: 'hello ada' } });
    expect(seen).toEqual([{ operation: 'greet.run', correlationId: CORRELATION_ID, envelopeId: res.causationId, payloadType: undefined }]);
  });

  const Order = z.object({ items: z.array(z.object({ price: z.number(), qty: z.number().int() })) });

  it('a payload breaking the input schema → PAYLOAD_VALIDATION_ERROR naming the field; the code never runs', async () => {
    let calls = 0;
    const send = serve(
      nodeOf(
        'COMPUTE',
        defineCompute({
          input: Order,
          compute: (order) => {
            calls += 1;
            return order.items.reduce((sum, i) => sum + i.price * i.qty, 0);
          },
        }),
      ),
    );
    const res = await send({ items: [{ price: 2, qty: 1 }, { price: '5', qty: 1 }] }, 'order.total');
    expect(res.success).toBe(false);
    expect(res.payload).toBeNull();
    expect(res.error).toMatchObject({ code: 'PAYLOAD_VALIDATION_ERROR', retryable: false, operation: 'order.total', node: 'sample', implementation: CODE, field: 'items[1].price' });
    expect(res.error?.message).toContain(`breaks the input schema of ${CODE} at items[1].price`);
    expect(calls).toBe(0);

    const ok = await send({ items: [{ price: 2, qty: 3 }] });
    expect(ok.payload).toEqual({ result: 6 });
    expect(calls).toBe(1);
  });

  it('an output breaking the output schema → INTERNAL_ERROR, never a success', async () => {
    // The cast stands for code in plain JavaScript, which no type checker stops.
    const send = serve(nodeOf('COMPUTE', defineCompute({ output: z.object({ total: z.number() }), compute: () => ({ total: 'eleven' }) as unknown as { total: number } })));
    const res = await send({});
    expect(res.success).toBe(false);
    expect(res.payload).toBeNull();
    expect(res.error).toMatchObject({ code: 'INTERNAL_ERROR', node: 'sample', implementation: CODE, field: 'total' });
    expect(res.error?.message).toContain(`produced an output that breaks the schema of ${CODE} at total`);
  });

  it('hands the code the value the input schema produced (coercion, transforms) and answers with the output schema value', async () => {
    const seen: unknown[] = [];
    const definition = defineCompute({
      input: z.object({ qty: z.coerce.number(), sku: z.string().transform((s) => s.toUpperCase()) }),
      output: z.object({ total: z.number().transform((n) => Math.round(n)) }),
      compute: (input) => {
        seen.push(input);
        return { total: input.qty * 1.4 };
      },
    });
    const res = await serve(nodeOf('COMPUTE', definition))({ qty: '3', sku: 'ab-1' });
    expect(seen).toEqual([{ qty: 3, sku: 'AB-1' }]);
    expect(res.payload).toEqual({ result: { total: 4 } });
  });

  it('an asynchronous schema is the node author\'s bug: INTERNAL_ERROR, never blamed on the payload, and the code never runs', async () => {
    let calls = 0;
    const definition = defineCompute({
      input: z.object({ n: z.number() }).refine(async () => true),
      compute: () => {
        calls += 1;
        return 1;
      },
    });
    const res = await serve(nodeOf('COMPUTE', definition))({ n: 1 });
    expect(res.success).toBe(false);
    expect(res.error).toMatchObject({ code: 'INTERNAL_ERROR', node: 'sample', implementation: CODE });
    expect(res.error?.message).toContain(`the input schema of ${CODE} validates asynchronously`);
    expect(calls).toBe(0);
  });

  it('an asynchronous schema that rejects leaves no unhandled rejection behind', async () => {
    // A Standard Schema written by hand: its validation is a promise that rejects.
    const rejecting: StandardSchemaV1<unknown, JsonValue> = {
      '~standard': { version: 1, vendor: 'test', validate: () => Promise.reject(new Error('lookup failed')) },
    };
    const definition = defineCompute({ input: rejecting, compute: () => 1 });
    const res = await serve(nodeOf('COMPUTE', definition))({ n: 1 });
    expect(res.error?.code).toBe('INTERNAL_ERROR');
    // Vitest fails the run on an unhandled rejection; give the rejected promise time to surface.
    await new Promise((resolve) => setImmediate(resolve));
  });
});

describe('a REDUCER node from a definition', () => {
  interface Tally {
    count: number;
    last: string | null;
  }

  it('starts from initialState, carries state across events and defaults intents to []', async () => {
    const events: Array<NodeEvent<{ name: string }>> = [];
    const send = serve(
      nodeOf(
        'REDUCER',
        defineReducer<Tally, { name: string }>({
          input: z.object({ name: z.string() }),
          initialState: { count: 0, last: null },
          reduce: (state, event) => {
            events.push(event);
            return { state: { count: state.count + 1, last: event.payload.name } };
          },
        }),
      ),
    );
    expect((await send({ name: 'a' }, 'tally.add')).payload).toEqual({ state: { count: 1, last: 'a' }, intents: [] });
    expect((await send({ name: 'b' }, 'tally.add')).payload).toEqual({ state: { count: 2, last: 'b' }, intents: [] });
    expect(events[1]).toMatchObject({ operation: 'tally.add', correlationId: CORRELATION_ID, payload: { name: 'b' }, metadata: { trace: 't1' }, payloadType: undefined });
  });

  it('returns the intents it emits in wire form', async () => {
    const send = serve(
      nodeOf(
        'REDUCER',
        defineReducer({
          initialState: 0,
          reduce: (state: number) => ({ state: state + 1, intents: [createIntent({ target: 'consul://service/orders', payload: { intent_type: 'consul.register' } })] }),
        }),
      ),
    );
    expect((await send(null)).payload).toEqual({
      state: 1,
      intents: [{ intent_type: 'extension', target: 'consul://service/orders', payload: { intent_type: 'consul.register' } }],
    });
  });

  it('a next state breaking the state schema → INTERNAL_ERROR, and the node keeps its last good state', async () => {
    const send = serve(
      nodeOf(
        'REDUCER',
        defineReducer({
          state: z.object({ count: z.number().max(2) }),
          initialState: { count: 0 },
          reduce: (state: { count: number }) => ({ state: { count: state.count + 1 } }),
        }),
      ),
    );
    expect((await send(null)).payload).toMatchObject({ state: { count: 1 } });
    expect((await send(null)).payload).toMatchObject({ state: { count: 2 } });
    const bad = await send(null);
    expect(bad.success).toBe(false);
    expect(bad.error).toMatchObject({ code: 'INTERNAL_ERROR', field: 'count' });
    expect(bad.error?.message).toContain('produced a next state that breaks the schema');
    // The refused state was not stored: the node still answers from count 2.
    expect((await send(null)).error).toMatchObject({ code: 'INTERNAL_ERROR', field: 'count' });
  });

  it('a payload breaking the input schema → PAYLOAD_VALIDATION_ERROR, reduce never runs and the state stays', async () => {
    let calls = 0;
    const send = serve(
      nodeOf(
        'REDUCER',
        defineReducer({
          input: z.object({ amount: z.number().positive() }),
          initialState: 0,
          reduce: (state: number, event) => {
            calls += 1;
            return { state: state + event.payload.amount };
          },
        }),
      ),
    );
    expect((await send({ amount: 5 })).payload).toEqual({ state: 5, intents: [] });
    const res = await send({ amount: -1 });
    expect(res.error).toMatchObject({ code: 'PAYLOAD_VALIDATION_ERROR', field: 'amount' });
    expect(calls).toBe(1);
    expect((await send({ amount: 1 })).payload).toEqual({ state: 6, intents: [] });
  });
});

describe('an ORCHESTRATOR node from a definition', () => {
  it('defaults events and intents to [] and answers emitted events in wire form', async () => {
    const quiet = await serve(nodeOf('ORCHESTRATOR', defineOrchestrator({ orchestrate: () => ({}) })))(null);
    expect(quiet.payload).toEqual({ events: [], intents: [] });

    const send = serve(
      nodeOf(
        'ORCHESTRATOR',
        defineOrchestrator({
          input: z.object({ order_id: z.string() }),
          orchestrate: (event) => ({ events: [{ eventType: 'order.accepted', payload: { order_id: event.payload.order_id } }] }),
        }),
      ),
    );
    expect((await send({ order_id: 'o-1' })).payload).toEqual({ events: [{ event_type: 'order.accepted', payload: { order_id: 'o-1' } }], intents: [] });
    expect((await send({ order_id: 7 })).error).toMatchObject({ code: 'PAYLOAD_VALIDATION_ERROR', field: 'order_id' });
  });

  it.each<[string, object, string]>([
    ['a result', { result: 42 }, 'ARCH_ORCHESTRATOR_RESULT'],
    ['a result beside events', { events: [], result: { ok: true } }, 'ARCH_ORCHESTRATOR_RESULT'],
    ['workflow state', { events: [], next_state: 'shipped' }, 'ARCH_ORCHESTRATOR_FSM'],
    ['a state machine', { transitions: [] }, 'ARCH_ORCHESTRATOR_FSM'],
  ])('returning %s is still refused by rule', async (_label, output, ruleId) => {
    const res = await serve(nodeOf('ORCHESTRATOR', defineOrchestrator({ orchestrate: () => output as never })))(null);
    expect(res.success).toBe(false);
    expect(res.error).toMatchObject({ code: 'ARCHITECTURE_VIOLATION', rule_id: ruleId });
  });
});
