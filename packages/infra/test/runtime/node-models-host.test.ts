/**
 * A node built from its contract, run by a real host on the in-memory bus: envelopes are
 * routed by payload type at run time, a payload breaking the node's input_model is
 * answered PAYLOAD_VALIDATION_ERROR before the node's code runs, and a result breaking
 * its output_model is answered INTERNAL_ERROR; both count as failures and are
 * dead-lettered like every other failure the host answers.
 */
import { createNodeFromContract, parseNodeContract, parseRuntimeHostContract, type ImplementationRef, type JsonValue, type NodeContext, type OnexEnvelope } from '@onex/core';
import { contractLocator } from '@onex/core/contract-kit';
import { deterministicProviders } from '@onex/core/testing';
import type { BusMessage } from '@onex/spi';
import { afterEach, describe, expect, it } from 'vitest';
import { InMemoryEventBus } from '../../src/event-bus/in-memory-event-bus.js';
import { HANDLER_CATALOG } from '../../src/handlers/registry.js';
import { createRuntimeHostFromContract } from '../../src/runtime/host-from-contract.js';
import { memoryLogger } from '../handlers/db/db-test-kit.js';
import { Cleanup, collect, envelopes, eventually, requestFactory } from './fakes.js';

const INPUT = 'onex.models.runtime.cmd.v1';
const OUTPUT = 'onex.models.runtime.evt.v1';
const NODE = 'pricing';
const NODE_FILE = 'nodes/pricing.yaml';
const CORRELATION = '5eed0000-0000-4000-8000-00000000a0de';

const RUNTIME_CONTRACT = `
schema_version: "1.0.0"
runtime:
  name: "models-runtime"
  version: "1.0.0"
  event_bus:
    kind: "inmemory"
    config:
      topics:
        input: "${INPUT}"
        output: "${OUTPUT}"
  handlers: []
  nodes:
    - slug: "${NODE}"
      contract: "${NODE_FILE}"
`;

/** A COMPUTE node routing two payload types to two exports, with both models declared. */
const NODE_CONTRACT = `schema_version: "1.0.0"
node_version: "1.0.0"
name: "pricing"
node_type: "COMPUTE"
description: "Prices quotes and refunds"
input_model:
  name: "ModelPriceRequest"
  fields:
    - { name: "kind", type: "string" }
    - { name: "amount", type: "number" }
output_model:
  name: "ModelPrice"
  fields:
    - { name: "price", type: "number" }
    - { name: "by", type: "string" }
handler_routing:
  routing_strategy: "payload_type_match"
  payload_type_field: "kind"
  handlers:
    - payload_type: "quote"
      implementation: { module: "./logic/pricing.js", export: "quote" }
    - event_model: { name: "Refund" }
      implementation: { module: "./logic/pricing.js", export: "refund" }
`;

const cleanup = new Cleanup();
afterEach(() => cleanup.run());


/** The node's two exports, each counting its calls; `refund` answers `refundAnswer`. */
function pricingCode(refundAnswer: JsonValue = null) {
  const calls = { quote: 0, refund: 0 };
  const seenTypes: Array<string | undefined> = [];
  const exports: Record<string, unknown> = {
    quote: (input: JsonValue, context: NodeContext) => {
      calls.quote += 1;
      seenTypes.push(context.payloadType);
      return { price: (input as { amount: number }).amount * 2, by: 'quote' };
    },
    refund: (input: JsonValue, context: NodeContext) => {
      calls.refund += 1;
      seenTypes.push(context.payloadType);
      return refundAnswer ?? { price: -(input as { amount: number }).amount, by: 'refund' };
    },
  };
  return { calls, seenTypes, exports };
}

async function startHost(exports: Record<string, unknown>) {
  const { contract: nodeContract } = parseNodeContract(NODE_CONTRACT, { source: NODE_FILE });
  const refs: ImplementationRef[] = (nodeContract.handlerRouting?.handlers ?? []).flatMap((r) => (r.implementation === undefined ? [] : [r.implementation]));
  // What the module loader hands over: each route's export, keyed by the contract's own ref.
  const modules = new Map(refs.map((ref) => [ref, exports[ref.export]] as const));
  const locate = contractLocator(NODE_CONTRACT);
  const node = createNodeFromContract(NODE, nodeContract, { modules }, { file: NODE_FILE, lineOf: (path) => locate?.(path, 'key')?.line });

  const { contract } = parseRuntimeHostContract(RUNTIME_CONTRACT, { source: 'runtime.yaml', catalog: HANDLER_CATALOG });
  const log = memoryLogger();
  const host = await createRuntimeHostFromContract({ contract, nodes: [node], providers: deterministicProviders(), logger: log.logger });
  cleanup.add(() => host.stop(), host);
  expect(host.bus).toBeInstanceOf(InMemoryEventBus);
  const bus = host.bus as InMemoryEventBus;
  const out = await collect(bus, OUTPUT);
  await host.start();

  const request = requestFactory(0x7000);
  /** Publishes each payload to the node and waits for all the answers, in order of their requests. */
  const send = async (...payloads: JsonValue[]): Promise<OnexEnvelope[]> => {
    const requests = payloads.map((payload) => request({ operation: 'pricing.price', targetNode: NODE, correlationId: CORRELATION, payload }));
    const before = out.length;
    for (const r of requests) await bus.publishEnvelope(r, INPUT);
    await eventually(() => expect(out.length - before).toBe(requests.length));
    const answers = envelopes(out.slice(before) as BusMessage[]);
    return requests.map((r) => {
      const answer = answers.find((a) => a.causationId === r.envelopeId);
      if (answer === undefined) throw new Error(`no answer to ${r.envelopeId}`);
      return answer;
    });
  };
  return { host, bus, send, log };
}

describe('a contract-built node in a running host', () => {
  it('routes each envelope by its payload type (payload_type and event_model routes, custom type field)', async () => {
    const code = pricingCode();
    const { host, send } = await startHost(code.exports);
    const [quote, refund, again] = await send({ kind: 'quote', amount: 10 }, { kind: 'Refund', amount: 4 }, { kind: 'quote', amount: 1 });

    expect(quote).toMatchObject({ success: true, isResponse: true, correlationId: CORRELATION, sourceNode: NODE, payload: { result: { price: 20, by: 'quote' } } });
    expect(refund).toMatchObject({ success: true, payload: { result: { price: -4, by: 'refund' } } });
    expect(again?.payload).toEqual({ result: { price: 2, by: 'quote' } });
    expect(code.calls).toEqual({ quote: 2, refund: 1 });
    expect(code.seenTypes.sort()).toEqual(['Refund', 'quote', 'quote']);
    expect(host.health()).toMatchObject({ processed: 3, failed: 0 });
  });

  it('answers an unrouted payload type INVALID_OPERATION naming the routed types; no code runs', async () => {
    const code = pricingCode();
    const { host, send } = await startHost(code.exports);
    const [answer] = await send({ kind: 'discount', amount: 1 });
    expect(answer).toMatchObject({
      success: false,
      payload: null,
      error: { code: 'INVALID_OPERATION', node: NODE, payload_type_field: 'kind', routed_payload_types: ['quote', 'Refund'] },
    });
    expect(code.calls).toEqual({ quote: 0, refund: 0 });
    expect(host.health()).toMatchObject({ processed: 1, failed: 1 });
  });

  it('answers a payload breaking input_model PAYLOAD_VALIDATION_ERROR with field and file:line; the code never runs; counted failed and dead-lettered', async () => {
    const code = pricingCode();
    const { host, bus, send, log } = await startHost(code.exports);
    const [answer] = await send({ kind: 'quote', amount: 'ten' });

    const at = `${NODE_FILE}:${NODE_CONTRACT.split('\n').indexOf('input_model:') + 1}`;
    expect(answer).toMatchObject({
      success: false,
      isResponse: true,
      correlationId: CORRELATION,
      payload: null,
      error: { code: 'PAYLOAD_VALIDATION_ERROR', retryable: false, node: NODE, model: 'ModelPriceRequest', field: 'amount', contract: at },
    });
    expect(answer?.error?.message).toBe(`Payload for node "${NODE}" breaks input_model "ModelPriceRequest" at amount: must be number`);
    expect(code.calls).toEqual({ quote: 0, refund: 0 });

    expect(host.health()).toMatchObject({ processed: 1, failed: 1 });
    expect(await bus.healthCheck()).toMatchObject({ dead_letters: 1 });
    expect(log.lines().filter((l) => l.msg === 'dead letter (in-memory bus: logged, not stored)')).toMatchObject([{ error_code: 'PAYLOAD_VALIDATION_ERROR', attempts: 1 }]);

    // The node is still there for the next, well-formed payload.
    const [ok] = await send({ kind: 'quote', amount: 3 });
    expect(ok?.payload).toEqual({ result: { price: 6, by: 'quote' } });
    expect(host.health()).toMatchObject({ processed: 2, failed: 1 });
  });

  it('answers a result breaking output_model INTERNAL_ERROR, never a success; counted failed and dead-lettered', async () => {
    const code = pricingCode({ price: 'free', by: 'refund' });
    const { host, bus, send, log } = await startHost(code.exports);
    const [answer] = await send({ kind: 'Refund', amount: 5 });

    expect(answer).toMatchObject({
      success: false,
      payload: null,
      error: { code: 'INTERNAL_ERROR', retryable: false, node: NODE, model: 'ModelPrice', field: 'price' },
    });
    expect(answer?.error?.message).toContain('produced a result that breaks output_model "ModelPrice" at price');
    // The code ran (once: the failure is not retryable) and its wrong answer went nowhere.
    expect(code.calls).toEqual({ quote: 0, refund: 1 });
    expect(JSON.stringify(answer)).not.toContain('free');

    expect(host.health()).toMatchObject({ processed: 1, failed: 1 });
    expect(await bus.healthCheck()).toMatchObject({ dead_letters: 1 });
    expect(log.lines().filter((l) => l.msg === 'dead letter (in-memory bus: logged, not stored)')).toMatchObject([{ error_code: 'INTERNAL_ERROR' }]);
  });
});
