/**
 * The MVP smoke test (runtime-host-plan Issue 4.3): a contract parsed from text, an
 * in-memory bus, the runtime host, one EFFECT node and the (dev-only) local handler.
 * Envelope in on the input topic → node → handler → response out on the output topic,
 * with every id and timestamp deterministic, so the whole response is asserted.
 */
import { EffectNode, parseRuntimeHostContract, serializeEnvelope, toWireEnvelope, type OnexEnvelope } from '@onex/core';
import { deterministicProviders } from '@onex/core/testing';
import type { BusMessage } from '@onex/spi';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryEventBus } from '../../src/event-bus/in-memory-event-bus.js';
import { HANDLER_CATALOG } from '../../src/handlers/registry.js';
import { createRuntimeHostFromContract } from '../../src/runtime/host-from-contract.js';
import type { RuntimeHostProcess } from '../../src/runtime/runtime-host-process.js';
import { Cleanup, Deferred, detId, requestFactory } from './fakes.js';

const INPUT = 'onex.e2e.runtime.cmd.v1';
const OUTPUT = 'onex.e2e.runtime.evt.v1';
const NODE = 'echo_effect';
const CORRELATION = '5eed0000-0000-4000-8000-00000000e2e0';

const CONTRACT = `
schema_version: "1.0.0"
runtime:
  name: "e2e-runtime"
  version: "1.0.0"
  event_bus:
    kind: "inmemory"
    config:
      topics:
        input: "${INPUT}"
        output: "${OUTPUT}"
      max_queue_size: 10
  handlers:
    - type: "local"
  nodes:
    - slug: "${NODE}"
  max_in_flight: 4
  drain_timeout_ms: 2000
`;

/** The local handler's contract, found under <contractDir>/handlers as in a real deployment (contract mode). */
const LOCAL_HANDLER_CONTRACT = `
handler_name: "handler_local"
handler_version: "1.0.0"
handler_type: "local"
handler_type_category: "compute"
capabilities: ["dev_test_only"]
commands_accepted: ["local.echo", "local.transform", "local.error"]
`;

let contractDir: string;
beforeAll(async () => {
  contractDir = await mkdtemp(path.join(os.tmpdir(), 'onex-e2e-'));
  await mkdir(path.join(contractDir, 'handlers', 'local'), { recursive: true });
  await writeFile(path.join(contractDir, 'handlers', 'local', 'handler_contract.yaml'), LOCAL_HANDLER_CONTRACT);
});
afterAll(async () => {
  await rm(contractDir, { recursive: true, force: true });
});

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

/** Resolves with the next message on `topic`, or fails after `timeoutMs` (no fixed sleeps). */
function nextMessages(bus: InMemoryEventBus, topic: string, count: number, timeoutMs = 5000): Promise<BusMessage[]> {
  const received: BusMessage[] = [];
  const done = new Deferred<BusMessage[]>();
  const timer = setTimeout(() => done.reject(new Error(`no ${count} message(s) on ${topic} within ${timeoutMs} ms (got ${received.length})`)), timeoutMs);
  void bus.subscribe(topic, async (message) => {
    received.push(message);
    if (received.length === count) {
      clearTimeout(timer);
      done.resolve(received);
    }
  });
  return done.promise;
}

async function e2eHost(): Promise<{ host: RuntimeHostProcess; bus: InMemoryEventBus }> {
  const { contract, warnings } = parseRuntimeHostContract(CONTRACT, { allowDevHandlers: true, source: 'e2e.yaml', catalog: HANDLER_CATALOG });
  expect(warnings).toEqual([]);
  const host = await createRuntimeHostFromContract({
    contract,
    contractDir,
    nodes: [new EffectNode({ slug: NODE, operations: ['local.echo'] })],
    allowDevHandlers: true,
    providers: deterministicProviders(),
  });
  cleanup.add(() => host.stop(), host);
  expect(host.bus).toBeInstanceOf(InMemoryEventBus);
  return { host, bus: host.bus as InMemoryEventBus };
}

describe('E2E: envelope in → runtime host → node → handler → response out', () => {
  it('publishes the exact, deterministic response of an echo through an EFFECT node', async () => {
    const { host, bus } = await e2eHost();
    const response = nextMessages(bus, OUTPUT, 1);
    await host.start();
    expect(host.health().state).toBe('running');

    const request = requestFactory(0x5000)({
      operation: 'local.echo',
      targetNode: NODE,
      sourceNode: 'e2e_client',
      correlationId: CORRELATION,
      payload: { message: 'hello', items: [1, 2, 3], nested: { ok: true } },
      metadata: { trace: 'abc' },
    });
    await bus.publishEnvelope(request, INPUT);

    const [message] = await response;
    expect(message?.topic).toBe(OUTPUT);
    expect(message?.key).toBe(CORRELATION);
    const expected: OnexEnvelope = {
      envelopeId: detId(43),
      envelopeVersion: '1.0.0',
      correlationId: CORRELATION,
      causationId: detId(0x5001),
      sourceNode: NODE,
      targetNode: 'e2e_client',
      handlerType: undefined,
      operation: 'local.echo',
      payload: { message: 'hello', items: [1, 2, 3], nested: { ok: true } },
      metadata: { trace: 'abc', original_target_node: NODE },
      timestamp: '2024-01-01T00:00:00.000Z',
      isResponse: true,
      success: true,
    };
    expect(message?.value).toEqual(expected);
    // What a consumer on the wire sees, field for field.
    expect(toWireEnvelope(message?.value as OnexEnvelope)).toStrictEqual({
      envelope_id: '00000000-0000-0000-0000-00000000002b',
      envelope_version: '1.0.0',
      correlation_id: CORRELATION,
      causation_id: '00000000-0000-0000-0000-000000005001',
      source_node: NODE,
      target_node: 'e2e_client',
      operation: 'local.echo',
      payload: { message: 'hello', items: [1, 2, 3], nested: { ok: true } },
      metadata: { trace: 'abc', original_target_node: NODE },
      timestamp: '2024-01-01T00:00:00.000Z',
      is_response: true,
      success: true,
    });
    expect(host.health()).toMatchObject({ processed: 1, failed: 0 });

    await host.stop();
    expect(host.state).toBe('stopped');
    expect((await bus.healthCheck()).healthy).toBe(false);
  });

  it('handles wire JSON on the input topic the same way (what a network bus delivers)', async () => {
    const { host, bus } = await e2eHost();
    const response = nextMessages(bus, OUTPUT, 1);
    await host.start();
    const request = requestFactory(0x6000)({ operation: 'local.echo', targetNode: NODE, correlationId: CORRELATION, payload: { n: 1 } });
    await bus.publish({ topic: INPUT, value: serializeEnvelope(request) });

    const [message] = await response;
    expect(toWireEnvelope(message?.value as OnexEnvelope)).toStrictEqual({
      envelope_id: detId(43),
      envelope_version: '1.0.0',
      correlation_id: CORRELATION,
      causation_id: request.envelopeId,
      source_node: NODE,
      operation: 'local.echo',
      payload: { n: 1 },
      metadata: { original_target_node: NODE },
      timestamp: '2024-01-01T00:00:00.000Z',
      is_response: true,
      success: true,
    });
  });

  it('answers an operation outside the node io_operations with INVALID_OPERATION, correlated', async () => {
    const { host, bus } = await e2eHost();
    const response = nextMessages(bus, OUTPUT, 1);
    await host.start();
    const request = requestFactory(0x7000)({ operation: 'local.transform', targetNode: NODE, correlationId: CORRELATION, payload: { s: 'x' } });
    await bus.publishEnvelope(request, INPUT);

    const [message] = await response;
    expect(message?.value).toMatchObject({
      envelopeId: detId(43),
      correlationId: CORRELATION,
      causationId: request.envelopeId,
      success: false,
      payload: null,
      error: {
        code: 'INVALID_OPERATION',
        message: `Node "${NODE}" may not call operation "local.transform"; its io_operations allow: local.echo`,
        operation: 'local.transform',
        allowed_operations: ['local.echo'],
      },
    });
  });

  it('refuses a contract with the local handler unless dev handlers are allowed', () => {
    expect(() => parseRuntimeHostContract(CONTRACT, { catalog: HANDLER_CATALOG })).toThrow(/development and tests only/);
  });
});
