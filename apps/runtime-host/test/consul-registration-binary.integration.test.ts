/**
 * The real binary registers itself in the real Consul dev agent (CONSUL_HTTP_ADDR, default
 * 127.0.0.1:8500) when its contract has runtime.service_registration: the service and a
 * passing check on its /health/ready while it runs, gone after SIGTERM. Checked with
 * Consul's own HTTP API. Skips loudly without an agent; fails under CI=true.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BIN, IN_CI, freePort, waitFor } from './helpers/kafka-binary-kit.js';

vi.setConfig({ testTimeout: 60_000 });

const CONSUL = (process.env.CONSUL_HTTP_ADDR ?? '127.0.0.1:8500').replace(/^https?:\/\//, '');
async function consulUp(): Promise<boolean> {
  try {
    return (await fetch(`http://${CONSUL}/v1/status/leader`)).ok;
  } catch {
    const reason = `Consul is not reachable on ${CONSUL}. Start it with: bash tooling/services/consul.sh`;
    if (IN_CI) throw new Error(`[integration] ${reason} (CI=true: integration tests must not skip)`);
    console.warn(`\n[integration] SKIPPING Consul binary tests: ${reason}\n`);
    return false;
  }
}
const available = await consulUp();
const consulGet = async (p: string): Promise<unknown> => (await fetch(`http://${CONSUL}${p}`)).json();

const TOKEN = `tok-${randomUUID()}`;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'onex-consul-bin-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function contractFile(name: string, consulAddress: string): Promise<string> {
  const file = path.join(dir, `${name}.yaml`);
  await writeFile(file, [
    'runtime:', `  name: "${name}"`, '  version: "1.0.0"', '  event_bus: { kind: "inmemory" }', '  handlers: []', '  nodes: []',
    '  ingress: { port: 0, readiness_probe_interval_ms: 200 }',
    '  service_registration:',
    `    consul: { address: "${consulAddress}", token: { secret_ref: "env://TEST_CONSUL_TOKEN" } }`,
    '    tags: ["onex"]',
    '    check: { interval_ms: 1000 }', '',
  ].join('\n'));
  return file;
}

function start(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, LOG_LEVEL: 'info', CONSUL_HTTP_ADDR: CONSUL, TEST_CONSUL_TOKEN: TOKEN } });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { child, output: () => out, exited };
}

describe.skipIf(!available)('onex-runtime-host run with service_registration', () => {
  it('registers with a passing check while running, and deregisters after SIGTERM', async () => {
    const name = `onex-bin-${randomUUID().slice(0, 8)}`;
    const host = start(['run', await contractFile(name, '${CONSUL_HTTP_ADDR}')]);
    try {
      await waitFor(async () => {
        const passing = (await consulGet(`/v1/health/service/${name}?passing=true`)) as Array<{ Service: { ID: string; Tags: string[] }; Checks: Array<{ Status: string }> }>;
        expect(passing).toHaveLength(1);
        expect(passing[0]?.Service.Tags).toEqual(['onex']);
      }, 30_000, 200);
      const services = (await consulGet('/v1/agent/services')) as Record<string, { Service: string }>;
      const ids = Object.entries(services).filter(([, s]) => s.Service === name).map(([id]) => id);
      expect(ids).toHaveLength(1);
      const checks = (await consulGet('/v1/agent/checks')) as Record<string, { ServiceID: string; Status: string }>;
      expect(Object.values(checks).filter((c) => c.ServiceID === ids[0]).map((c) => c.Status)).toEqual(['passing']);

      host.child.kill('SIGTERM');
      expect(await host.exited).toBe(0);
      expect(((await consulGet('/v1/agent/services')) as Record<string, unknown>)[ids[0] ?? '']).toBeUndefined();
      expect(host.output()).toContain('registered in Consul');
      expect(host.output()).toContain('deregistered from Consul');
      expect(host.output()).not.toContain(TOKEN);
    } finally {
      if (host.child.exitCode === null) host.child.kill('SIGKILL');
    }
  });

  it('never registers with --dry-run', async () => {
    const name = `onex-bin-${randomUUID().slice(0, 8)}`;
    const host = start(['run', '--dry-run', await contractFile(name, '${CONSUL_HTTP_ADDR}')]);
    expect(await host.exited).toBe(0);
    expect(await consulGet(`/v1/catalog/service/${name}`)).toEqual([]);
  });

  it('fails the start with a clear message when Consul cannot be reached, and leaves nothing behind', async () => {
    const name = `onex-bin-${randomUUID().slice(0, 8)}`;
    const host = start(['run', await contractFile(name, `127.0.0.1:${await freePort()}`)]);
    const code = await host.exited;
    expect(code).not.toBe(0);
    expect(host.output()).toMatch(/Could not reach the Consul agent at http:\/\/127\.0\.0\.1:\d+/);
    expect(host.output()).not.toContain(TOKEN);
    expect(await consulGet(`/v1/catalog/service/${name}`)).toEqual([]);
  });
});
