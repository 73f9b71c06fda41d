/**
 * A handler contract's declarations hold at every call (ticket 12, invocation half):
 * a command it does not accept is refused even when a node allows it, and an http
 * handler's reach is its contract's `security.allowed_domains` — the list an adapter
 * must declare, which a runtime binding may narrow but never widen.
 */
import http from 'node:http';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { EffectNode, createRequestEnvelope, parseRuntimeHostContract } from '@onex/core';
import { afterEach, describe, expect, it } from 'vitest';
import { HANDLER_CATALOG } from '../../src/handlers/registry.js';
import { createRuntimeHostFromContract } from '../../src/runtime/host-from-contract.js';
import type { RuntimeHostProcess } from '../../src/runtime/runtime-host-process.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

/** A loopback API that counts the requests it gets. */
async function api(): Promise<{ url: string; hits: () => number }> {
  let hits = 0;
  const server = http.createServer((_req, res) => {
    hits += 1;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits: () => hits };
}

async function hostWith(handlerContract: string[], binding: string[] = []): Promise<RuntimeHostProcess> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'onex-hc-enforce-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  await mkdir(path.join(dir, 'handlers', 'http'), { recursive: true });
  await writeFile(path.join(dir, 'handlers', 'http', 'handler_contract.yaml'), handlerContract.join('\n'));
  const contract = parseRuntimeHostContract(
    ['runtime:', '  name: "rt"', '  version: "1.0.0"', '  event_bus: { kind: "inmemory" }', '  handlers:', '    - type: "http"', ...binding, '  nodes: []', '  ingress: { enabled: false }'].join('\n'),
    { catalog: HANDLER_CATALOG },
  ).contract;
  const host = await createRuntimeHostFromContract({
    contract,
    contractDir: dir,
    nodes: [new EffectNode({ slug: 'caller', operations: ['http.get', 'http.post'] })],
  });
  cleanups.push(() => host.stop());
  return host;
}

const httpContract = (extra: string[]) => [
  'handler_name: "handler_http"',
  'handler_version: "1.0.0"',
  'handler_type: "http"',
  'handler_type_category: "effect"',
  'capabilities: []',
  ...extra,
];

const call = (host: RuntimeHostProcess, operation: string, url: string) =>
  host.runtime.routeEnvelope(createRequestEnvelope({ targetNode: 'caller', operation, payload: { url } }));

describe('a handler contract holds at every call', () => {
  it('refuses a command the handler contract does not accept, though the node allows it', async () => {
    const target = await api();
    const host = await hostWith(httpContract(['commands_accepted: ["http.get"]', 'security: { allowed_domains: ["127.0.0.1"] }']));
    await host.start();
    expect((await call(host, 'http.get', target.url)).success).toBe(true);
    const refused = await call(host, 'http.post', target.url);
    expect(refused.error).toMatchObject({ code: 'INVALID_OPERATION', commands_accepted: ['http.get'] });
    expect(target.hits()).toBe(1);
  });

  it("an adapter reaches only its contract's allowed_domains; [] means no outbound at all", async () => {
    const target = await api();
    const adapter = (domains: string) =>
      httpContract(['commands_accepted: ["http.get"]', 'is_adapter: true', 'observability_level: "enhanced"', `security: { allowed_domains: ${domains} }`]);
    const open = await hostWith(adapter('["127.0.0.1"]'));
    await open.start();
    expect((await call(open, 'http.get', target.url)).success).toBe(true);
    const closed = await hostWith(adapter('[]'));
    await closed.start();
    expect((await call(closed, 'http.get', target.url)).error?.code).toBe('INFRA_CONNECTION_ERROR');
    expect(target.hits()).toBe(1);
  });

  it('a binding may narrow the contract allow-list but not widen it', async () => {
    const host = await hostWith(httpContract(['commands_accepted: ["http.get"]', 'security: { allowed_domains: ["api.example.com"] }']), [
      '      config: { allowed_domains: ["127.0.0.1"] }',
    ]);
    await expect(host.start()).rejects.toMatchObject({ code: 'HANDLER_CONFIGURATION_ERROR', details: { not_in_contract: ['127.0.0.1'] } });
  });
});
