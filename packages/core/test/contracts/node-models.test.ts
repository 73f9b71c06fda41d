/**
 * A node contract's input_model and output_model: which field types a contract may use,
 * which models are refused when the contract is validated (CONTRACT_INVALID_MODEL, with
 * file and line), and what a caller sees when a payload or a node's own answer breaks
 * them. Models are written as a `fields:` list or as a JSON Schema under `schema:`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  MODEL_FIELD_TYPES,
  NodeRuntime,
  createNodeFromContract,
  createRequestEnvelope,
  defineCompute,
  defineReducer,
  parseNodeContract,
  validateNodeContract,
  type ContractIssue,
  type JsonObject,
  type JsonValue,
  type NodeCode,
  type NodeContract,
  type NodeInstance,
  type OnexEnvelope,
} from '@onex/core';
import { contractLocator } from '@onex/core/contract-kit';
import { deterministicProviders } from '@onex/core/testing';
import { EchoHandler } from '../echo-handler.js';
import { CORRELATION_ID } from '../helpers.js';
import { lines } from './spec-contracts.js';

const FILE = 'nodes/sample_node.yaml';

/** A node contract with the given models (YAML lines, indented under their key) and extra top-level lines. */
function contractText(options: { nodeType?: string; input?: readonly string[]; output?: readonly string[]; extra?: readonly string[] }): string {
  return lines(
    'schema_version: "1.0.0"',
    'node_version: "1.0.0"',
    'name: "sample_node"',
    `node_type: "${options.nodeType ?? 'COMPUTE'}"`,
    'description: "A node under test"',
    'input_model:',
    '  name: "ModelIn"',
    ...(options.input ?? []).map((l) => `  ${l}`),
    'output_model:',
    '  name: "ModelOut"',
    ...(options.output ?? []).map((l) => `  ${l}`),
    ...(options.extra ?? []),
  );
}

/** The 1-based line of the first line of `text` that contains `needle`. */
function lineOf(text: string, needle: string): number {
  const index = text.split('\n').findIndex((l) => l.includes(needle));
  if (index < 0) throw new Error(`"${needle}" is not in the contract`);
  return index + 1;
}

function rejected(text: string): readonly ContractIssue[] {
  const result = validateNodeContract(text, { source: FILE });
  if (result.ok) throw new Error('expected the contract to be rejected');
  return result.issues;
}

/** The one CONTRACT_INVALID_MODEL issue of a rejected contract. */
function invalidModel(text: string): ContractIssue {
  const issues = rejected(text);
  expect(issues.map((i) => i.ruleId)).toEqual(['CONTRACT_INVALID_MODEL']);
  const [issue] = issues;
  if (issue === undefined) throw new Error('unreachable');
  expect(issue.file).toBe(FILE);
  expect(issue.severity).toBe('error');
  expect(issue.hint.length).toBeGreaterThan(10);
  return issue;
}

/** Builds the node of `text` (parsed as `FILE`, lines known) and serves it through a NodeRuntime. */
function serve(text: string, code: (contract: NodeContract) => NodeCode) {
  const { contract } = parseNodeContract(text, { source: FILE });
  const locate = contractLocator(text);
  const node: NodeInstance = createNodeFromContract('sample', contract, code(contract), { file: FILE, lineOf: (path) => locate?.(path, 'key')?.line });
  const runtime = new NodeRuntime({ providers: deterministicProviders(500) });
  runtime.registerHandler(new EchoHandler());
  runtime.registerNode(node);
  const providers = deterministicProviders();
  return (payload: JsonValue, operation = 'sample.run'): Promise<OnexEnvelope> =>
    runtime.routeEnvelope(createRequestEnvelope({ operation, targetNode: 'sample', correlationId: CORRELATION_ID, payload }, providers));
}

/** A COMPUTE node running `compute` as its implementation. */
function computeCode(compute: (input: JsonValue) => JsonValue): (contract: NodeContract) => NodeCode {
  return (contract) => ({ modules: new Map([[contract.implementation as NonNullable<NodeContract['implementation']>, compute]]) });
}

const IMPLEMENTATION = ['implementation: { module: "./logic/node.js", export: "node" }'];

/** One value each JSON Schema of MODEL_FIELD_TYPES accepts and one it refuses. */
const SAMPLES: Record<string, { good: JsonValue; bad?: JsonValue }> = {
  '{}': { good: { anything: ['goes'] } },
  '{"type":"string"}': { good: 'text', bad: 1 },
  '{"type":"integer"}': { good: 3, bad: 3.5 },
  '{"type":"number"}': { good: 3.5, bad: '3.5' },
  '{"type":"boolean"}': { good: false, bad: 'false' },
  '{"type":"object"}': { good: { a: 1 }, bad: [1] },
  '{"type":"array"}': { good: [1, 'a'], bad: { 0: 1 } },
  '{"type":"null"}': { good: null, bad: 0 },
  '{"type":"string","format":"uuid"}': { good: '5eed0000-0000-4000-8000-000000000001', bad: 'not-a-uuid' },
  '{"type":"string","format":"date-time"}': { good: '2024-01-01T10:00:00Z', bad: '2024-01-01' },
  '{"type":"string","format":"date"}': { good: '2024-01-01', bad: '01/01/2024' },
};

describe('field types of a fields: model', () => {
  it.each(Object.entries(MODEL_FIELD_TYPES))('"%s" is accepted and enforced', async (type, schema) => {
    const sample = SAMPLES[JSON.stringify(schema)];
    if (sample === undefined) throw new Error(`no sample for field type "${type}" (${JSON.stringify(schema)}): add one to SAMPLES`);
    let calls = 0;
    const send = serve(contractText({ input: ['fields:', `  - { name: "value", type: "${type}" }`], extra: IMPLEMENTATION }), computeCode(() => (calls += 1)));

    expect((await send({ value: sample.good })).success).toBe(true);
    // Listed fields are required unless they say otherwise.
    expect((await send({})).error).toMatchObject({ code: 'PAYLOAD_VALIDATION_ERROR', field: 'value' });
    if (sample.bad !== undefined) expect((await send({ value: sample.bad })).error).toMatchObject({ code: 'PAYLOAD_VALIDATION_ERROR', field: 'value' });
    expect(calls).toBe(1);
  });

  it('list[T] checks every item against T, nested lists too', async () => {
    const send = serve(
      contractText({ input: ['fields:', '  - { name: "tags", type: "list[str]" }', '  - { name: "grid", type: "list[list[int]]", required: false }'], extra: IMPLEMENTATION }),
      computeCode(() => 'ran'),
    );
    expect((await send({ tags: ['a', 'b'], grid: [[1], [2, 3]] })).payload).toEqual({ result: 'ran' });
    expect((await send({ tags: ['a', 2] })).error).toMatchObject({ code: 'PAYLOAD_VALIDATION_ERROR', field: 'tags[1]' });
    expect((await send({ tags: 'a' })).error).toMatchObject({ field: 'tags' });
    expect((await send({ tags: [], grid: [[1], [2, 'x']] })).error).toMatchObject({ field: 'grid[1][1]' });
  });

  it('a capitalised name is a model: its value must be an object', async () => {
    const send = serve(
      contractText({ input: ['fields:', '  - { name: "address", type: "Address" }', '  - { name: "items", type: "list[OrderItem]" }'], extra: IMPLEMENTATION }),
      computeCode(() => 'ran'),
    );
    expect((await send({ address: { city: 'Oslo' }, items: [{ sku: 'a' }] })).success).toBe(true);
    expect((await send({ address: 'Oslo', items: [] })).error).toMatchObject({ code: 'PAYLOAD_VALIDATION_ERROR', field: 'address' });
    expect((await send({ address: {}, items: [{ sku: 'a' }, 'b'] })).error).toMatchObject({ field: 'items[1]' });
  });

  it('an optional field may be missing, and is still checked when present; other keys pass', async () => {
    const send = serve(contractText({ input: ['fields:', '  - { name: "code", type: "string", required: false }'], extra: IMPLEMENTATION }), computeCode(() => 'ran'));
    expect((await send({})).success).toBe(true);
    expect((await send({ other: 1 })).success).toBe(true);
    expect((await send({ code: 7 })).error).toMatchObject({ code: 'PAYLOAD_VALIDATION_ERROR', field: 'code' });
  });

  it.each([
    ['a misspelt type', 'strng'],
    ['a list of an unknown type', 'list[strng]'],
    ['a lower-case model name', 'orderitem'],
    ['a generic the host does not know', 'Optional[str]'],
    ['a name inherited by every object', 'constructor'],
  ])('%s is CONTRACT_INVALID_MODEL at the type, with its line', (_label, type) => {
    const text = contractText({ input: ['fields:', '  - name: "ok"', '    type: "string"', '  - name: "broken"', `    type: "${type}"`] });
    const issue = invalidModel(text);
    expect(issue).toMatchObject({ path: 'input_model.fields[1].type', line: lineOf(text, `type: "${type}"`) });
    expect(issue.message).toContain(`"${type}"`);
    // The hint lists what may be written instead.
    expect(issue.hint).toContain('list[<type>]');
    expect(issue.hint).toContain('decimal');
  });

  it('reports every unknown type, in input and output models alike', () => {
    const text = contractText({ input: ['fields:', '  - { name: "a", type: "strng" }'], output: ['fields:', '  - { name: "b", type: "intger" }'] });
    const issues = rejected(text);
    expect(issues.map((i) => [i.ruleId, i.path, i.line])).toEqual([
      ['CONTRACT_INVALID_MODEL', 'input_model.fields[0].type', lineOf(text, 'strng')],
      ['CONTRACT_INVALID_MODEL', 'output_model.fields[0].type', lineOf(text, 'intger')],
    ]);
  });
});

describe('schema: models (JSON Schema 2020-12)', () => {
  const ORDER_SCHEMA = [
    'schema:',
    '  type: "object"',
    '  required: ["items"]',
    '  additionalProperties: false',
    '  properties:',
    '    items: { type: "array", minItems: 1, items: { $ref: "#/$defs/item" } }',
    '    coupon: { type: "string", pattern: "^[A-Z]{4}$" }',
    '  $defs:',
    '    item: { type: "object", required: ["price"], properties: { price: { type: "number", minimum: 0 } } }',
  ];

  it('is enforced as written, local $refs included', async () => {
    const send = serve(contractText({ input: ORDER_SCHEMA, extra: IMPLEMENTATION }), computeCode(() => 'ran'));
    expect((await send({ items: [{ price: 2 }], coupon: 'SAVE' })).payload).toEqual({ result: 'ran' });
    expect((await send({ items: [] })).error).toMatchObject({ code: 'PAYLOAD_VALIDATION_ERROR', field: 'items' });
    expect((await send({ items: [{ price: 1 }, { price: -1 }] })).error).toMatchObject({ field: 'items[1].price' });
    expect((await send({ items: [{}] })).error).toMatchObject({ field: 'items[0].price' });
    expect((await send({ items: [{ price: 1 }], extra: true })).error).toMatchObject({ field: 'extra' });
    expect((await send({ items: [{ price: 1 }], coupon: 'save' })).error).toMatchObject({ field: 'coupon' });
  });

  it('fields and schema together → CONTRACT_INVALID_MODEL at schema', () => {
    const text = contractText({ input: ['fields:', '  - { name: "a", type: "string" }', 'schema: { type: "object" }'] });
    expect(invalidModel(text)).toMatchObject({ path: 'input_model.schema', line: lineOf(text, 'schema:') });
  });

  it.each([
    ['an unknown keyword (a typo that would check nothing)', ['schema:', '  type: "object"', '  propertes: { a: { type: "string" } }'], 'propertes'],
    ['a remote $ref (never fetched)', ['schema:', '  $ref: "https://schemas.example.com/order.json"'], 'https://schemas.example.com/order.json'],
    ['a $ref to a missing local definition', ['schema:', '  $ref: "#/$defs/nowhere"'], '#/$defs/nowhere'],
    ['an unknown type name', ['schema:', '  type: "strng"'], 'data/type must be equal to one of the allowed values'],
  ])('%s → CONTRACT_INVALID_MODEL at schema, when the contract is validated', (_label, schema, mentioned) => {
    const text = contractText({ output: schema });
    const issue = invalidModel(text);
    expect(issue.path).toBe('output_model.schema');
    // Within the schema block: its key or the first line of its value.
    const start = lineOf(text, 'schema:');
    expect(issue.line).toBeGreaterThanOrEqual(start);
    expect(issue.line).toBeLessThan(start + schema.length);
    expect(issue.message).toContain('2020-12');
    expect(issue.message).toContain(mentioned);
  });
});

describe('the example contracts', () => {
  const dir = new URL('../../../../examples/quickstart/nodes/', import.meta.url);
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));

  it('are there to check', () => {
    expect(files).toEqual(expect.arrayContaining(['order_calculator.yaml', 'store_effect.yaml']));
  });

  it.each(files)('%s still validates', (file) => {
    const result = validateNodeContract(readFileSync(new URL(file, dir), 'utf8'), { source: file });
    expect(result.ok ? [] : result.issues).toEqual([]);
  });

  it('order_calculator enforces its models: list[OrderItem] items in, decimal totals out', async () => {
    const text = readFileSync(new URL('order_calculator.yaml', dir), 'utf8');
    const send = serve(text, () => ({ compute: { order_total: () => ({ subtotal: 10, discount: 0, total: '10' }) } }));
    const refused = await send({ items: 'none' }, 'order.calculate');
    expect(refused.error).toMatchObject({ code: 'PAYLOAD_VALIDATION_ERROR', model: 'ModelOrderInput', field: 'items' });
    const broken = await send({ items: [{ sku: 'a' }] }, 'order.calculate');
    expect(broken.error).toMatchObject({ code: 'INTERNAL_ERROR', model: 'ModelOrderOutput', field: 'total' });
  });
});

describe('models enforced on every envelope', () => {
  const MODELS = {
    input: ['fields:', '  - { name: "amount", type: "number" }'],
    output: ['fields:', '  - { name: "total", type: "number" }'],
  };

  it('a payload breaking input_model → PAYLOAD_VALIDATION_ERROR naming the field and file:line; the node never runs', async () => {
    let calls = 0;
    const text = contractText({ ...MODELS, extra: IMPLEMENTATION });
    const send = serve(
      text,
      computeCode(() => {
        calls += 1;
        return { total: 1 };
      }),
    );
    const res = await send({ amount: 'ten' }, 'sample.pay');
    expect(res.success).toBe(false);
    expect(res.payload).toBeNull();
    const at = `${FILE}:${lineOf(text, 'input_model:')}`;
    expect(res.error).toMatchObject({ code: 'PAYLOAD_VALIDATION_ERROR', retryable: false, operation: 'sample.pay', node: 'sample', model: 'ModelIn', field: 'amount', contract: at });
    expect(res.error?.message).toBe('Payload for node "sample" breaks input_model "ModelIn" at amount: must be number');
    expect(res.error?.hint).toContain(at);
    expect(calls).toBe(0);
  });

  it('a COMPUTE result breaking output_model → INTERNAL_ERROR, never a success', async () => {
    const text = contractText({ ...MODELS, extra: IMPLEMENTATION });
    const res = await serve(text, computeCode(() => ({ total: 'lots' })))({ amount: 1 });
    expect(res.success).toBe(false);
    expect(res.payload).toBeNull();
    expect(res.error).toMatchObject({ code: 'INTERNAL_ERROR', model: 'ModelOut', field: 'total', contract: `${FILE}:${lineOf(text, 'output_model:')}` });
    expect(res.error?.message).toContain('produced a result that breaks output_model "ModelOut" at total');
  });

  it('a REDUCER state breaking output_model → INTERNAL_ERROR, and the refused state is not kept', async () => {
    const text = contractText({ nodeType: 'REDUCER', input: MODELS.input, output: ['fields:', '  - { name: "total", type: "integer" }'], extra: IMPLEMENTATION });
    const reducer = defineReducer({ initialState: { total: 0 }, reduce: (state: { total: number }, event) => ({ state: { total: state.total + (event.payload as { amount: number }).amount } }) });
    const send = serve(text, (contract) => ({ modules: new Map([[contract.implementation as NonNullable<NodeContract['implementation']>, reducer]]) }));
    expect((await send({ amount: 2 })).payload).toEqual({ state: { total: 2 }, intents: [] });
    const bad = await send({ amount: 0.5 });
    expect(bad.success).toBe(false);
    expect(bad.error).toMatchObject({ code: 'INTERNAL_ERROR', model: 'ModelOut', field: 'total' });
    // The next event folds into the last state that passed, not into the refused one.
    expect((await send({ amount: 3 })).payload).toEqual({ state: { total: 5 }, intents: [] });
  });

  it('an EFFECT handler result breaking output_model → INTERNAL_ERROR; a payload breaking input_model never reaches the handler', async () => {
    const text = contractText({
      nodeType: 'EFFECT',
      input: ['fields:', '  - { name: "name", type: "string" }'],
      output: ['fields:', '  - { name: "name", type: "string" }', '  - { name: "age", type: "integer" }'],
      extra: ['io_operations:', '  - type: "local"', '    operations: ["local.echo"]'],
    });
    const handler = new EchoHandler();
    let calls = 0;
    const original = handler.execute.bind(handler);
    handler.execute = (envelope, context) => {
      calls += 1;
      return original(envelope, context);
    };
    const { contract } = parseNodeContract(text, { source: FILE });
    const runtime = new NodeRuntime({ providers: deterministicProviders(500) });
    runtime.registerHandler(handler);
    runtime.registerNode(createNodeFromContract('sample', contract, {}, FILE));
    const providers = deterministicProviders();
    const send = (payload: JsonValue) => runtime.routeEnvelope(createRequestEnvelope({ operation: 'local.echo', targetNode: 'sample', payload }, providers));

    expect((await send({ name: 'ada', age: 36 })).payload).toEqual({ name: 'ada', age: 36 });
    expect((await send({ name: 'ada' })).error).toMatchObject({ code: 'INTERNAL_ERROR', field: 'age', contract: FILE });
    expect(calls).toBe(2);
    expect((await send({ name: 7, age: 1 })).error).toMatchObject({ code: 'PAYLOAD_VALIDATION_ERROR', field: 'name' });
    expect(calls).toBe(2);
  });

  it('a model with neither fields nor schema only documents: anything passes', async () => {
    const send = serve(contractText({ extra: IMPLEMENTATION }), computeCode((input) => input));
    expect((await send('not even an object')).payload).toEqual({ result: 'not even an object' });
  });
});

describe('errors never echo payload values', () => {
  const SECRET = 'sk_live_51Hsecretvalue0000';

  it.each<[string, readonly string[], JsonObject]>([
    ['a wrong-typed field', ['fields:', '  - { name: "card_number", type: "integer" }'], { card_number: SECRET }],
    ['a list item of the wrong type', ['fields:', '  - { name: "tokens", type: "list[int]" }'], { tokens: [1, SECRET] }],
    ['a uuid field', ['fields:', '  - { name: "account", type: "uuid" }'], { account: SECRET }],
    ['an enum', ['schema:', '  type: "object"', '  properties: { plan: { enum: ["free", "pro"] } }'], { plan: SECRET }],
    ['a const', ['schema:', '  type: "object"', '  properties: { plan: { const: "free" } }'], { plan: SECRET }],
    ['a pattern', ['schema:', '  type: "object"', '  properties: { pin: { type: "string", pattern: "^[0-9]{4}$" } }'], { pin: SECRET }],
    ['a maximum length', ['schema:', '  type: "object"', '  properties: { pin: { type: "string", maxLength: 4 } }'], { pin: SECRET }],
    ['a nested object', ['schema:', '  type: "object"', '  properties: { card: { type: "object", properties: { cvc: { type: "number" } } } }'], { card: { cvc: SECRET } }],
  ])('%s: the message, hint and details name the field, never the value', async (_label, input, payload) => {
    const res = await serve(contractText({ input, extra: IMPLEMENTATION }), computeCode(() => 'ran'))(payload);
    expect(res.error?.code).toBe('PAYLOAD_VALIDATION_ERROR');
    expect(JSON.stringify(res.error)).not.toContain(SECRET);
    expect(JSON.stringify(res.error)).not.toContain('sk_live');
  });

  it('nor do a definition\'s zod schemas, nor an output failure', async () => {
    const definition = defineCompute({
      input: z.object({ plan: z.enum(['free', 'pro']).optional(), pin: z.string().length(4).optional(), n: z.number().optional() }),
      compute: () => ({ total: SECRET }),
    });
    const text = contractText({ output: ['fields:', '  - { name: "total", type: "number" }'], extra: IMPLEMENTATION });
    const send = serve(text, (contract) => ({ modules: new Map([[contract.implementation as NonNullable<NodeContract['implementation']>, definition]]) }));
    const payloads: JsonObject[] = [{ plan: SECRET }, { pin: SECRET }, { n: SECRET }];
    for (const payload of payloads) {
      const res = await send(payload);
      expect(res.error?.code).toBe('PAYLOAD_VALIDATION_ERROR');
      expect(JSON.stringify(res.error)).not.toContain(SECRET);
    }
    const res = await send({});
    expect(res.error?.code).toBe('INTERNAL_ERROR');
    expect(JSON.stringify(res.error)).not.toContain(SECRET);
  });
});
