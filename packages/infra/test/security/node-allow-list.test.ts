/**
 * Attack: an envelope without `target_node` used to go straight to its handler, so any
 * caller could run every operation of every registered handler whatever the nodes'
 * `io_operations` said. A host built from a contract now routes such an envelope to the
 * one node that allows its operation, and refuses it otherwise, before any handler runs.
 */
import { EffectNode, parseRuntimeHostContract } from '@onex/core';
import { afterEach, describe, expect, it } from 'vitest';
import { HANDLER_CATALOG } from '../../src/handlers/registry.js';
import { createRuntimeHostFromContract } from '../../src/runtime/host-from-contract.js';
import { startIngressServer } from '../../src/runtime/ingress-server.js';
import { Cleanup, FakeHandler, FakeHandlerSource } from '../runtime/fakes.js';
import { postJson } from './ingress-kit.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

async function hostWithReader() {
  const handler = new FakeHandler('db');
  const contract = parseRuntimeHostContract(
    ['runtime:', '  name: "rt"', '  version: "1.0.0"', '  event_bus: { kind: "inmemory" }', '  handlers:', '    - { type: db, config: { url: "pglite://memory" } }', '  nodes: []'].join('\n'),
    { catalog: HANDLER_CATALOG },
  ).contract;
  const host = await createRuntimeHostFromContract({
    contract,
    nodes: [new EffectNode({ slug: 'reader', operations: ['db.query'] })],
    handlerSource: new FakeHandlerSource([handler]),
  });
  cleanup.add(() => host.stop(), host);
  await host.start();
  const server = await startIngressServer(host, { port: 0 });
  cleanup.add(() => server.close(), server);
  return { url: server.url, handler };
}

describe('every envelope passes a node allow-list', () => {
  it('refuses an operation no node allows when the envelope names no target_node; the handler never runs', async () => {
    const { url, handler } = await hostWithReader();
    const response = await postJson(url, { operation: 'db.execute', payload: { sql: 'drop table users' } });
    // An error envelope, like every failure the host answers (HTTP 200 carries success: false).
    expect(response.json).toMatchObject({ success: false, error: { code: 'INVALID_OPERATION', allowing_nodes: [] } });
    expect(handler.calls).toHaveLength(0);
  });

  it('routes an allowed operation without target_node through the node, with its read-only grant', async () => {
    const { url, handler } = await hostWithReader();
    const response = await postJson(url, { operation: 'db.query', payload: { sql: 'select 1' } });
    expect(response.status).toBe(200);
    expect(handler.calls.map((c) => [c.context.nodeSlug, c.context.access])).toEqual([['reader', 'read_only']]);
  });
});
