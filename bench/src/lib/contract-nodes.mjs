/**
 * Nodes built from node contract files the way onex-runtime-host's loader builds them:
 * the YAML is read and parsed (`parseNodeContract`), each `implementation` module is
 * imported with a dynamic `import()` of its file URL (resolved from the contract's
 * directory), and `createNodeFromContract` gets the exports keyed by the contract's own
 * ImplementationRef objects, beside the built-in compute functions. Also the subjects of
 * measures/nodes.mjs, which children/subject.mjs starts.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { PayloadValidationError, createNodeFromContract, createRequestEnvelope, parseNodeContract } from '@onex/core';
import { BUILTIN_IMPLEMENTATIONS, order, orderTotal } from '../fixtures/order-total.mjs';
import { startHost } from './onex.mjs';

const FIXTURES = new URL('../fixtures/', import.meta.url);

/** @param {import('@onex/core').NodeContract} contract @returns {import('@onex/core').ImplementationRef[]} */
function implementationRefs(contract) {
  const refs = contract.implementation === undefined ? [] : [contract.implementation];
  for (const route of contract.handlerRouting?.handlers ?? []) if (route.implementation !== undefined) refs.push(route.implementation);
  return refs;
}

/**
 * @param {string} name a contract file in src/fixtures/
 * @param {import('@onex/core').NodeImplementations} builtins the code built into the "binary"
 * @returns {Promise<import('@onex/core').NodeInstance>}
 */
export async function nodeFromContract(name, builtins = BUILTIN_IMPLEMENTATIONS) {
  const url = new URL(name, FIXTURES);
  const file = fileURLToPath(url);
  const { contract } = parseNodeContract(await readFile(url, 'utf8'), { source: file });
  /** @type {Map<import('@onex/core').ImplementationRef, unknown>} */
  const modules = new Map();
  for (const ref of implementationRefs(contract)) {
    /** @type {Record<string, unknown>} */
    const namespace = await import(new URL(ref.module, url).href);
    if (!Object.hasOwn(namespace, ref.export)) throw new Error(`${ref.module} has no export "${ref.export}" (${file})`);
    modules.set(ref, namespace[ref.export]);
  }
  return createNodeFromContract(contract.name, contract, { ...builtins, modules }, file);
}

/** The calls every subject below answers: the quickstart's `order.calculate` on a realistic order. */
const CALL = { targetNode: 'order_calculator', operation: 'order.calculate', payload: order };

/**
 * The subjects of measures/nodes.mjs: a contract from src/fixtures/, whether the bus
 * carries JSON text both ways (the `bus-wire` subject of measures/bus.mjs) or envelope
 * objects (`bus-compute`), and whether the node must refuse a payload breaking the model
 * (`discount_percent: "ten"`, which `order_total` itself would take as no discount).
 * @type {Readonly<Record<string, { contract: string, wire: boolean, checked: boolean }>>}
 */
export const NODE_SUBJECTS = Object.freeze({
  'node-builtin': { contract: 'order-builtin.yaml', wire: false, checked: false },
  // The same subject again, in a process of its own: the control row, whose distance from 1.00× is the noise floor.
  'node-builtin-control': { contract: 'order-builtin.yaml', wire: false, checked: false },
  'node-module': { contract: 'order-module.yaml', wire: false, checked: false },
  'node-module-zod': { contract: 'order-module-zod.yaml', wire: false, checked: true },
  'model-fields': { contract: 'order-models.yaml', wire: true, checked: true },
  'model-none': { contract: 'order-builtin.yaml', wire: true, checked: false },
});

/**
 * Proves a subject measures what its row says before it is timed: the node answers the
 * order with the built-in's totals, and refuses a payload breaking the model exactly when
 * something is meant to check it.
 * @param {string} subject @param {import('@onex/core').NodeInstance} node @param {boolean} checked
 */
async function probe(subject, node, checked) {
  const port = /** @type {import('@onex/core').NodeExecutionPort} */ (/** @type {unknown} */ ({}));
  const envelope = (/** @type {import('@onex/core').JsonValue} */ payload) => createRequestEnvelope({ operation: CALL.operation, targetNode: CALL.targetNode, payload });
  const expected = JSON.stringify({ result: orderTotal(order(0), /** @type {any} */ ({})) });
  const answered = JSON.stringify(await node.handle(envelope(order(0)), port));
  if (answered !== expected) throw new Error(`${subject}: answered ${answered}, expected ${expected}`);
  const refused = await node.handle(envelope({ ...order(0), discount_percent: 'ten' }), port).then(
    () => false,
    (error) => {
      if (error instanceof PayloadValidationError) return true;
      throw error;
    },
  );
  if (refused !== checked) throw new Error(`${subject}: a payload breaking the model was ${refused ? 'refused, but nothing should check it' : 'accepted, but the model should refuse it'}`);
}

/**
 * Starts one subject of NODE_SUBJECTS in a host of its own (max_in_flight = concurrency).
 * @param {string} subject @param {number} concurrency
 */
export async function startNodeSubject(subject, concurrency) {
  const spec = NODE_SUBJECTS[subject];
  if (spec === undefined) throw new Error(`unknown node subject ${subject}`);
  const node = await nodeFromContract(spec.contract);
  await probe(subject, node, spec.checked);
  const host = await startHost({ maxInFlight: concurrency, wire: spec.wire, nodes: [node] });
  return { host, call: host.client({ ...CALL, wire: spec.wire }) };
}
