/**
 * How a node built from its contract picks the code for each envelope: by operation
 * (`operation_match`) or by the payload's type (`payload_type_match`), through built-in
 * functions, module exports, or the node's own `implementation`; and how a contract that
 * names code the host does not have is refused with file and line.
 */
import { describe, expect, it } from 'vitest';
import {
  ContractValidationError,
  NodeRuntime,
  createIntent,
  createNodeFromContract,
  createRequestEnvelope,
  defineCompute,
  defineOrchestrator,
  defineReducer,
  parseNodeContract,
  validateNodeContract,
  type ContractIssue,
  type ImplementationRef,
  type JsonObject,
  type JsonValue,
  type NodeCode,
  type NodeContext,
  type NodeContract,
  type NodeContractSource,
  type OnexEnvelope,
  type ReducerOutput,
} from '@onex/core';
import { contractLocator } from '@onex/core/contract-kit';
import { deterministicProviders } from '@onex/core/testing';
import { CORRELATION_ID } from './helpers.js';

const FILE = 'nodes/router.yaml';

/** A node contract of `nodeType` followed by `body` lines. */
function contractText(nodeType: string, ...body: string[]): string {
  return [
    'schema_version: "1.0.0"',
    'node_version: "1.0.0"',
    'name: "router_node"',
    `node_type: "${nodeType}"`,
    'description: "Routes envelopes"',
    'input_model: { name: "ModelIn" }',
    'output_model: { name: "ModelOut" }',
    ...body,
    '',
  ].join('\n');
}

/** The 1-based line of the first line of `text` that contains `needle`. */
function lineOf(text: string, needle: string): number {
  const index = text.split('\n').findIndex((l) => l.includes(needle));
  if (index < 0) throw new Error(`"${needle}" is not in the contract`);
  return index + 1;
}

function where(text: string): NodeContractSource {
  const locate = contractLocator(text);
  return { file: FILE, lineOf: (path) => locate?.(path, 'key')?.line };
}

/** Every ImplementationRef of a contract (the node's, then each route's), as the loader finds them. */
function refsOf(contract: NodeContract): ImplementationRef[] {
  const routes = (contract.handlerRouting?.handlers ?? []).flatMap((r) => (r.implementation === undefined ? [] : [r.implementation]));
  return contract.implementation === undefined ? routes : [contract.implementation, ...routes];
}

/** What a module loader would hand over: each ref's export looked up by name in `exports` (absent names stay absent). */
function loaded(contract: NodeContract, exports: Record<string, unknown>): Map<ImplementationRef, unknown> {
  return new Map(refsOf(contract).flatMap((ref) => (Object.hasOwn(exports, ref.export) ? [[ref, exports[ref.export]] as const] : [])));
}

/** Builds the node of `text` and returns a sender over a NodeRuntime. */
function serve(text: string, code: (contract: NodeContract) => NodeCode) {
  const { contract } = parseNodeContract(text, { source: FILE });
  const node = createNodeFromContract('router', contract, code(contract), where(text));
  const runtime = new NodeRuntime({ providers: deterministicProviders(500) });
  runtime.registerNode(node);
  const providers = deterministicProviders();
  return (operation: string, payload: JsonValue = null): Promise<OnexEnvelope> =>
    runtime.routeEnvelope(createRequestEnvelope({ operation, targetNode: 'router', correlationId: CORRELATION_ID, payload }, providers));
}

/** The issues `createNodeFromContract` refuses the contract with. */
function refused(text: string, code: (contract: NodeContract) => NodeCode): readonly ContractIssue[] {
  const { contract } = parseNodeContract(text, { source: FILE });
  try {
    createNodeFromContract('router', contract, code(contract), where(text));
  } catch (error) {
    expect(error).toBeInstanceOf(ContractValidationError);
    return (error as ContractValidationError).issues;
  }
  throw new Error('expected the node to be refused');
}

/** A compute function that answers with its own name and what it was given. */
const tagged =
  (name: string) =>
  (input: JsonValue, context: NodeContext): JsonValue => ({ by: name, input, payload_type: context.payloadType ?? null });

describe('operation_match', () => {
  it('sends each operation to its own built-in compute function, not to the last route', async () => {
    const text = contractText(
      'COMPUTE',
      'handler_routing:',
      '  routing_strategy: "operation_match"',
      '  handlers:',
      '    - { operation: "calc.add", handler: { name: "add" } }',
      '    - { operation: "calc.mul", handler: { name: "mul" } }',
      '    - { operation: "calc.neg", handler: { name: "neg" } }',
    );
    const pair = (input: JsonValue) => input as { a: number; b: number };
    const send = serve(text, () => ({
      compute: { add: (i) => pair(i).a + pair(i).b, mul: (i) => pair(i).a * pair(i).b, neg: (i) => -pair(i).a, unused: () => 'never' },
    }));
    expect((await send('calc.add', { a: 3, b: 4 })).payload).toEqual({ result: 7 });
    expect((await send('calc.mul', { a: 3, b: 4 })).payload).toEqual({ result: 12 });
    expect((await send('calc.neg', { a: 3, b: 4 })).payload).toEqual({ result: -3 });
  });

  it('sends each operation to its own module export, built-ins and modules side by side', async () => {
    const text = contractText(
      'COMPUTE',
      'handler_routing:',
      '  routing_strategy: "operation_match"',
      '  handlers:',
      '    - operation: "price.quote"',
      '      implementation: { module: "./logic/pricing.js", export: "quote" }',
      '    - operation: "price.tax"',
      '      implementation: { module: "./logic/pricing.js", export: "tax" }',
      '    - operation: "price.echo"',
      '      handler: { name: "echo" }',
    );
    const send = serve(text, (contract) => ({
      compute: { echo: tagged('builtin echo') },
      modules: loaded(contract, { quote: tagged('quote'), tax: defineCompute({ compute: (input) => ({ by: 'tax', input }) }) }),
    }));
    expect((await send('price.quote', 1)).payload).toEqual({ result: { by: 'quote', input: 1, payload_type: null } });
    expect((await send('price.tax', 2)).payload).toEqual({ result: { by: 'tax', input: 2 } });
    expect((await send('price.echo', 3)).payload).toEqual({ result: { by: 'builtin echo', input: 3, payload_type: null } });
  });

  it('sends each operation to its own built-in reducer and orchestrator', async () => {
    const reducerText = contractText(
      'REDUCER',
      'handler_routing:',
      '  routing_strategy: "operation_match"',
      '  handlers:',
      '    - { operation: "count.up", handler: { name: "up" } }',
      '    - { operation: "count.down", handler: { name: "down" } }',
    );
    const step = (delta: number) => ({ initialState: 0, reduce: (state: JsonValue): ReducerOutput<JsonValue> => ({ state: (state as number) + delta, intents: [] }) });
    const count = serve(reducerText, () => ({ reducers: { up: step(1), down: step(-10) } }));
    expect((await count('count.up')).payload).toEqual({ state: 1, intents: [] });
    expect((await count('count.down')).payload).toEqual({ state: -9, intents: [] });

    const orchestratorText = contractText(
      'ORCHESTRATOR',
      'handler_routing:',
      '  routing_strategy: "operation_match"',
      '  handlers:',
      '    - { operation: "order.placed", handler: { name: "on_placed" } }',
      '    - { operation: "order.paid", handler: { name: "on_paid" } }',
    );
    const emit = (eventType: string) => () => ({ events: [{ eventType, payload: null }], intents: [] });
    const orchestrate = serve(orchestratorText, () => ({ orchestrators: { on_placed: emit('payment.requested'), on_paid: emit('shipment.requested') } }));
    expect((await orchestrate('order.placed')).payload).toEqual({ events: [{ event_type: 'payment.requested', payload: null }], intents: [] });
    expect((await orchestrate('order.paid')).payload).toEqual({ events: [{ event_type: 'shipment.requested', payload: null }], intents: [] });
  });

  it('an operation no route names → INVALID_OPERATION listing the routed operations', async () => {
    const text = contractText(
      'COMPUTE',
      'handler_routing:',
      '  routing_strategy: "operation_match"',
      '  handlers:',
      '    - { operation: "calc.add", handler: { name: "add" } }',
      '    - { operation: "calc.mul", handler: { name: "add" } }',
    );
    let calls = 0;
    const send = serve(text, () => ({ compute: { add: () => (calls += 1) } }));
    const res = await send('calc.div', { a: 1 });
    expect(res.success).toBe(false);
    expect(res.error).toMatchObject({ code: 'INVALID_OPERATION', operation: 'calc.div', node: 'router', routed_operations: ['calc.add', 'calc.mul'] });
    expect(res.error?.message).toBe('Node "router" has no route for operation "calc.div"');
    expect(res.error?.hint).toContain('calc.add, calc.mul');
    expect(calls).toBe(0);
  });
});

describe('payload_type_match', () => {
  const BY_TYPE = [
    'handler_routing:',
    '  routing_strategy: "payload_type_match"',
    '  handlers:',
    '    - payload_type: "order.placed"',
    '      implementation: { module: "./logic/orders.js", export: "placed" }',
    '    - event_model: { name: "ModelOrderCancelled", module: "app.models" }',
    '      implementation: { module: "./logic/orders.js", export: "cancelled" }',
  ];

  it('COMPUTE: routes by payload_type and by event_model name, whatever the operation, and tells the code the type', async () => {
    const send = serve(contractText('COMPUTE', ...BY_TYPE), (contract) => ({ modules: loaded(contract, { placed: tagged('placed'), cancelled: tagged('cancelled') }) }));
    const placed = { payload_type: 'order.placed', id: 1 };
    const cancelled = { payload_type: 'ModelOrderCancelled', id: 2 };
    expect((await send('orders.event', placed)).payload).toEqual({ result: { by: 'placed', input: placed, payload_type: 'order.placed' } });
    expect((await send('orders.event', cancelled)).payload).toEqual({ result: { by: 'cancelled', input: cancelled, payload_type: 'ModelOrderCancelled' } });
    // The operation plays no part in payload-type routing.
    expect((await send('anything.else', placed)).payload).toMatchObject({ result: { by: 'placed' } });
  });

  it('REDUCER: two routes fold into one state that carries across events', async () => {
    interface Ledger extends JsonObject {
      balance: number;
      entries: number;
    }
    const credit = defineReducer<Ledger, { amount: number }>({
      initialState: { balance: 100, entries: 0 },
      reduce: (state, event) => ({ state: { balance: state.balance + event.payload.amount, entries: state.entries + 1 } }),
    });
    const debit = defineReducer<Ledger, { amount: number }>({
      initialState: { balance: -1, entries: -1 },
      reduce: (state, event) => ({
        state: { balance: state.balance - event.payload.amount, entries: state.entries + 1 },
        intents: [createIntent({ target: 'audit://ledger/main', payload: { intent_type: 'audit.debit', seen_type: event.payloadType ?? null } })],
      }),
    });
    const text = contractText(
      'REDUCER',
      'handler_routing:',
      '  routing_strategy: "payload_type_match"',
      '  handlers:',
      '    - payload_type: "credit"',
      '      implementation: { module: "./logic/ledger.js", export: "credit" }',
      '    - event_model: "ModelDebit"',
      '      implementation: { module: "./logic/ledger.js", export: "debit" }',
    );
    const send = serve(text, (contract) => ({ modules: loaded(contract, { credit, debit }) }));
    // The first route's initialState is where the node starts.
    expect((await send('ledger.event', { payload_type: 'credit', amount: 5 })).payload).toEqual({ state: { balance: 105, entries: 1 }, intents: [] });
    expect((await send('ledger.event', { payload_type: 'ModelDebit', amount: 30 })).payload).toEqual({
      state: { balance: 75, entries: 2 },
      intents: [{ intent_type: 'extension', target: 'audit://ledger/main', payload: { intent_type: 'audit.debit', seen_type: 'ModelDebit' } }],
    });
    expect((await send('ledger.event', { payload_type: 'credit', amount: 1 })).payload).toMatchObject({ state: { balance: 76, entries: 3 } });
  });

  it('ORCHESTRATOR: two routes, each emitting its own events', async () => {
    const onPlaced = defineOrchestrator({ orchestrate: (event) => ({ events: [{ eventType: 'payment.requested', payload: { for: event.payloadType ?? null } }] }) });
    const onCancelled = defineOrchestrator({ orchestrate: () => ({ events: [{ eventType: 'refund.requested', payload: null }] }) });
    const send = serve(contractText('ORCHESTRATOR', ...BY_TYPE), (contract) => ({ modules: loaded(contract, { placed: onPlaced, cancelled: onCancelled }) }));
    expect((await send('orders.event', { payload_type: 'order.placed' })).payload).toEqual({ events: [{ event_type: 'payment.requested', payload: { for: 'order.placed' } }], intents: [] });
    expect((await send('orders.event', { payload_type: 'ModelOrderCancelled' })).payload).toEqual({ events: [{ event_type: 'refund.requested', payload: null }], intents: [] });
  });

  it('reads the type from a custom payload_type_field', async () => {
    const text = contractText(
      'COMPUTE',
      'handler_routing:',
      '  routing_strategy: "payload_type_match"',
      '  payload_type_field: "kind"',
      '  handlers:',
      '    - { payload_type: "circle", handler: { name: "circle" } }',
      '    - { payload_type: "square", handler: { name: "square" } }',
    );
    const send = serve(text, () => ({ compute: { circle: tagged('circle'), square: tagged('square') } }));
    expect((await send('shape.area', { kind: 'square', side: 2 })).payload).toMatchObject({ result: { by: 'square', payload_type: 'square' } });
    expect((await send('shape.area', { kind: 'circle', r: 1 })).payload).toMatchObject({ result: { by: 'circle', payload_type: 'circle' } });
    // `payload_type` is just another key once the field is `kind`.
    const res = await send('shape.area', { payload_type: 'square' });
    expect(res.error).toMatchObject({ code: 'INVALID_OPERATION', payload_type_field: 'kind' });
    expect(res.error?.message).toBe('Node "router" routes by payload type, and the payload has no string "kind"');
  });

  it.each<[string, JsonValue, string]>([
    ['an unrouted type', { payload_type: 'order.shipped' }, 'Node "router" has no route for payload type "order.shipped"'],
    ['a payload without the field', { id: 1 }, 'Node "router" routes by payload type, and the payload has no string "payload_type"'],
    ['a type that is not a string', { payload_type: 7 }, 'Node "router" routes by payload type, and the payload has no string "payload_type"'],
    ['a payload that is not an object', ['order.placed'], 'Node "router" routes by payload type, and the payload has no string "payload_type"'],
    // The route table is a Map: names of Object.prototype route nowhere.
    ['"constructor" as the type', { payload_type: 'constructor' }, 'Node "router" has no route for payload type "constructor"'],
    ['"__proto__" as the type', JSON.parse('{"payload_type":"__proto__"}') as JsonValue, 'Node "router" has no route for payload type "__proto__"'],
    // The caller chooses the length of what is echoed back: cut at 64 characters.
    ['a type of 100,000 characters', { payload_type: 'x'.repeat(100_000) }, `Node "router" has no route for payload type "${'x'.repeat(64)}… (100000 characters)"`],
  ])('%s → INVALID_OPERATION naming the routed types; no code runs', async (_label, payload, message) => {
    let calls = 0;
    const count = () => {
      calls += 1;
      return null;
    };
    const send = serve(contractText('COMPUTE', ...BY_TYPE), (contract) => ({ modules: loaded(contract, { placed: count, cancelled: count }) }));
    const res = await send('orders.event', payload);
    expect(res.success).toBe(false);
    expect(res.error).toMatchObject({ code: 'INVALID_OPERATION', node: 'router', payload_type_field: 'payload_type', routed_payload_types: ['order.placed', 'ModelOrderCancelled'] });
    expect(res.error?.message).toBe(message);
    expect(res.error?.hint).toBe('Set payload.payload_type to one of: order.placed, ModelOrderCancelled, or add a handler_routing entry for it.');
    expect(calls).toBe(0);
  });
});

describe("the node's own implementation", () => {
  it('without handler_routing takes every operation', async () => {
    const send = serve(contractText('COMPUTE', 'implementation: { module: "./logic/all.js", export: "all" }'), (contract) => ({ modules: loaded(contract, { all: tagged('all') }) }));
    expect((await send('a.one', 1)).payload).toEqual({ result: { by: 'all', input: 1, payload_type: null } });
    expect((await send('b.two', 2)).payload).toEqual({ result: { by: 'all', input: 2, payload_type: null } });
  });

  it('serves the routes that name no code; a route naming its own code keeps it', async () => {
    const text = contractText(
      'COMPUTE',
      'implementation: { module: "./logic/orders.js" }',
      'handler_routing:',
      '  routing_strategy: "operation_match"',
      '  handlers:',
      '    - operation: "orders.create"',
      '    - operation: "orders.update"',
      '    - operation: "orders.audit"',
      '      implementation: { module: "./logic/audit.js", export: "audit" }',
    );
    // `export` defaults to "default".
    const send = serve(text, (contract) => ({ modules: loaded(contract, { default: tagged('default'), audit: tagged('audit') }) }));
    expect((await send('orders.create', 1)).payload).toMatchObject({ result: { by: 'default' } });
    expect((await send('orders.update', 2)).payload).toMatchObject({ result: { by: 'default' } });
    expect((await send('orders.audit', 3)).payload).toMatchObject({ result: { by: 'audit' } });
    // With routes declared, the implementation is no catch-all: other operations are still refused.
    expect((await send('orders.delete', 4)).error).toMatchObject({ code: 'INVALID_OPERATION', routed_operations: ['orders.create', 'orders.update', 'orders.audit'] });
  });

  it('sets where a routed REDUCER starts, even when a route names other code', async () => {
    const base = defineReducer({ initialState: 1000, reduce: (state: number) => ({ state: state + 1 }) });
    const other = defineReducer({ initialState: -5, reduce: (state: number) => ({ state: state * 2 }) });
    const text = contractText(
      'REDUCER',
      'implementation: { module: "./logic/r.js", export: "base" }',
      'handler_routing:',
      '  routing_strategy: "operation_match"',
      '  handlers:',
      '    - operation: "r.double"',
      '      implementation: { module: "./logic/r.js", export: "other" }',
      '    - operation: "r.inc"',
    );
    const send = serve(text, (contract) => ({ modules: loaded(contract, { base, other }) }));
    expect((await send('r.double')).payload).toEqual({ state: 2000, intents: [] });
    expect((await send('r.inc')).payload).toEqual({ state: 2001, intents: [] });
  });
});

describe('code the host does not have', () => {
  it('an implementation missing from NodeCode.modules → CONTRACT_UNKNOWN_IMPLEMENTATION at that route, with its line', () => {
    const text = contractText(
      'COMPUTE',
      'handler_routing:',
      '  routing_strategy: "operation_match"',
      '  handlers:',
      '    - operation: "a.run"',
      '      implementation: { module: "./logic/a.js", export: "a" }',
      '    - operation: "b.run"',
      '      implementation: { module: "./logic/b.js", export: "b" }',
    );
    const issues = refused(text, (contract) => ({ modules: loaded(contract, { a: tagged('a') }) }));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({
      ruleId: 'CONTRACT_UNKNOWN_IMPLEMENTATION',
      severity: 'error',
      file: FILE,
      line: lineOf(text, './logic/b.js'),
      path: 'handler_routing.handlers[1].implementation',
    });
    expect(issues[0]?.message).toContain('./logic/b.js#b');
  });

  it('a node implementation missing from NodeCode.modules is refused too', () => {
    const text = contractText('REDUCER', 'implementation: { module: "./logic/r.js", export: "r" }');
    const issues = refused(text, () => ({}));
    expect(issues.map((i) => [i.ruleId, i.path, i.line])).toEqual([['CONTRACT_UNKNOWN_IMPLEMENTATION', 'implementation', lineOf(text, 'implementation:')]]);
  });

  it('an unknown built-in name → CONTRACT_UNKNOWN_IMPLEMENTATION at handler.name with file and line, listing the built-ins; every bad route is reported', () => {
    const text = contractText(
      'COMPUTE',
      'handler_routing:',
      '  routing_strategy: "operation_match"',
      '  handlers:',
      '    - operation: "calc.add"',
      '      handler:',
      '        name: "ad"',
      '    - operation: "calc.mul"',
      '      handler: { name: "mul" }',
      '    - operation: "calc.neg"',
      '      handler: { name: "negate" }',
    );
    const issues = refused(text, () => ({ compute: { add: () => 0, mul: () => 0 } }));
    expect(issues.map((i) => [i.ruleId, i.file, i.line, i.path])).toEqual([
      ['CONTRACT_UNKNOWN_IMPLEMENTATION', FILE, lineOf(text, 'name: "ad"'), 'handler_routing.handlers[0].handler.name'],
      ['CONTRACT_UNKNOWN_IMPLEMENTATION', FILE, lineOf(text, 'name: "negate"'), 'handler_routing.handlers[2].handler.name'],
    ]);
    expect(issues[0]?.message).toContain('compute function "ad"');
    expect(issues[0]?.hint).toContain('add, mul');
  });

  it('without a line lookup the issue still names the file', () => {
    const text = contractText('ORCHESTRATOR', 'handler_routing:', '  routing_strategy: "operation_match"', '  handlers:', '    - { operation: "w.go", handler: { name: "nope" } }');
    const { contract } = parseNodeContract(text);
    let thrown: unknown;
    try {
      createNodeFromContract('router', contract, { orchestrators: {} }, FILE);
    } catch (error) {
      thrown = error;
    }
    expect((thrown as ContractValidationError).issues).toMatchObject([{ ruleId: 'CONTRACT_UNKNOWN_IMPLEMENTATION', file: FILE, line: undefined }]);
    expect((thrown as ContractValidationError).issues[0]?.hint).toContain('(none)');
  });

  it('a COMPUTE node naming no code at all is refused; a REDUCER built in under its own name is not', async () => {
    const issues = refused(contractText('COMPUTE'), () => ({ compute: { router_node: () => 1 } }));
    expect(issues).toMatchObject([{ ruleId: 'CONTRACT_UNKNOWN_IMPLEMENTATION', path: 'node_type' }]);

    const send = serve(contractText('REDUCER'), () => ({ reducers: { router_node: { initialState: 41, reduce: (s) => ({ state: (s as number) + 1, intents: [] }) } } }));
    expect((await send('any.thing')).payload).toEqual({ state: 42, intents: [] });
  });
});

describe('routing rules when the contract is validated', () => {
  function issuesOf(text: string): Array<[string, string | undefined]> {
    const result = validateNodeContract(text, { source: FILE });
    return result.ok ? [] : result.issues.map((i) => [i.ruleId, i.path]);
  }
  const routing = ['handler_routing:', '  routing_strategy: "payload_type_match"', '  handlers:'];

  it('a route naming neither a handler nor an implementation, on a node with none → CONTRACT_MISSING_FIELD', () => {
    expect(issuesOf(contractText('COMPUTE', ...routing, '    - payload_type: "a"'))).toEqual([['CONTRACT_MISSING_FIELD', 'handler_routing.handlers[0]']]);
    // With a node implementation the same route is fine.
    expect(issuesOf(contractText('COMPUTE', 'implementation: { module: "./n.js" }', ...routing, '    - payload_type: "a"'))).toEqual([]);
  });

  it('a route naming both → CONTRACT_INVALID_VALUE', () => {
    expect(issuesOf(contractText('COMPUTE', ...routing, '    - payload_type: "a"', '      handler: { name: "x" }', '      implementation: { module: "./x.js" }'))).toEqual([
      ['CONTRACT_INVALID_VALUE', 'handler_routing.handlers[0].implementation'],
    ]);
  });

  it('an EFFECT node with an implementation → CONTRACT_INVALID_VALUE', () => {
    expect(issuesOf(contractText('EFFECT', 'implementation: { module: "./x.js" }'))).toEqual([['CONTRACT_INVALID_VALUE', 'implementation']]);
  });

  it('a payload type routed twice, once by payload_type and once by event_model name → CONTRACT_DUPLICATE_ROUTE', () => {
    const text = contractText(
      'COMPUTE',
      ...routing,
      '    - payload_type: "OrderPlaced"',
      '      handler: { name: "first" }',
      '    - event_model: { name: "OrderPlaced" }',
      '      handler: { name: "second" }',
    );
    // At run time both match payload_type "OrderPlaced": one of them could never be reached.
    expect(issuesOf(text)).toEqual([['CONTRACT_DUPLICATE_ROUTE', 'handler_routing.handlers[1].event_model']]);

    // A route naming both is matched by its payload_type, as at run time.
    const both = contractText(
      'COMPUTE',
      ...routing,
      '    - { payload_type: "A", event_model: "ModelA", handler: { name: "first" } }',
      '    - { payload_type: "A", handler: { name: "second" } }',
      '    - { event_model: "ModelA", handler: { name: "third" } }',
    );
    expect(issuesOf(both)).toEqual([['CONTRACT_DUPLICATE_ROUTE', 'handler_routing.handlers[1].payload_type']]);
  });
});
