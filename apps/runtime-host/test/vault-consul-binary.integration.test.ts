/**
 * The vault and consul handlers as a user runs them: contract mode (handler contracts in
 * fixtures/vault-consul/handlers), the real binary, envelopes over the HTTP ingress, the
 * real OpenBao and Consul. Shows that the units wire end to end: only the Vault token is a
 * secret (its handler contract's one scope), the addresses are placeholders with defaults,
 * allowed_paths and kv_prefixes confine what an envelope may touch, and the token never
 * shows in an answer, /health/handlers or the log. Skips loudly without the servers; fails
 * under CI=true.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BIN, freePort, requireServer, waitFor } from './helpers/kafka-binary-kit.js';

vi.setConfig({ testTimeout: 60_000 });

const here = path.dirname(fileURLToPath(import.meta.url));
const CONTRACT = path.join(here, 'fixtures', 'vault-consul', 'runtime-host.yaml');
const OPENBAO_ADDR = process.env.ONEX_OPENBAO_ADDR ?? 'http://127.0.0.1:8200';
const OPENBAO_TOKEN = process.env.ONEX_OPENBAO_TOKEN ?? 'onex-dev-root-token';
const CONSUL = (process.env.CONSUL_HTTP_ADDR ?? '127.0.0.1:8500').replace(/^https?:\/\//, '');
const bao = new URL(OPENBAO_ADDR);
const [consulHost = '127.0.0.1', consulPort = '8500'] = CONSUL.split(':');
const available =
  (await requireServer('OpenBao', bao.hostname, Number(bao.port || 80), 'bash tooling/services/openbao.sh')) &&
  (await requireServer('Consul', consulHost, Number(consulPort), 'bash tooling/services/consul.sh'));

/** This run's folder under the fixture's allowed prefix, so runs never meet. */
const RUN = `onex-bin-vc/${randomUUID().slice(0, 8)}`;

interface Answer {
  readonly success: boolean;
  readonly payload: unknown;
  readonly error?: { readonly code: string; readonly retryable: boolean; readonly message: string };
}

describe.skipIf(!available)('onex-runtime-host run with the vault and consul handlers (contract mode)', () => {
  let port = 0;
  let output = '';
  let exited: Promise<number | null> = Promise.resolve(null);
  let stop: () => void = () => undefined;

  beforeAll(async () => {
    port = await freePort();
    const child = spawn(process.execPath, [BIN, 'run', CONTRACT], {
      env: { ...process.env, LOG_LEVEL: 'info', ONEX_INGRESS_PORT: String(port), ONEX_OPENBAO_ADDR: OPENBAO_ADDR, CONSUL_HTTP_ADDR: CONSUL, VAULT_TOKEN: OPENBAO_TOKEN },
    });
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    exited = new Promise((resolve) => child.on('exit', resolve));
    stop = () => child.kill('SIGTERM');
    await waitFor(() => expect(output).toMatch(/^ready: /m), 30_000, 100);
  });
  afterAll(async () => {
    stop();
    await exited;
  });

  async function send(operation: string, payload: unknown): Promise<Answer> {
    const res = await fetch(`http://127.0.0.1:${port}/v1/envelopes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ target_node: 'ops', operation, payload }),
    });
    return (await res.json()) as Answer;
  }

  it('writes and reads a secret in Vault, and refuses a path outside allowed_paths', async () => {
    expect(await send('vault.set_secret', { path: `${RUN}/app`, data: { greeting: 'hello' } })).toMatchObject({ success: true, payload: { version: 1 } });
    expect(await send('vault.get_secret', { path: `${RUN}/app` })).toMatchObject({ success: true, payload: { found: true, data: { greeting: 'hello' }, version: 1 } });
    expect(await send('vault.get_secret', { path: `${RUN}/missing` })).toMatchObject({ success: true, payload: { found: false } });
    expect(await send('vault.list_secrets', { path: RUN })).toMatchObject({ success: true, payload: { keys: ['app'] } });
    const outside = await send('vault.get_secret', { path: 'elsewhere/app' });
    expect(outside).toMatchObject({ success: false, error: { code: 'INVALID_OPERATION', retryable: false } });
  });

  it('puts and gets a Consul key under kv_prefixes, and refuses one outside them', async () => {
    expect(await send('consul.kv_put', { key: `${RUN}/flag`, value: 'on' })).toMatchObject({ success: true, payload: { written: true } });
    expect(await send('consul.kv_get', { key: `${RUN}/flag` })).toMatchObject({ success: true, payload: { found: true, value: 'on' } });
    expect(await send('consul.kv_get', { key: 'elsewhere/flag' })).toMatchObject({ success: false, error: { code: 'INVALID_OPERATION' } });
  });

  it('reports both handlers healthy without the token, and stops cleanly on SIGTERM', async () => {
    const health = await (await fetch(`http://127.0.0.1:${port}/health/handlers`)).text();
    expect(JSON.parse(health)).toMatchObject({ handlers: [{ handler_type: 'vault', healthy: true, auth_method: 'token' }, { handler_type: 'consul', healthy: true }] });
    expect(health).not.toContain(OPENBAO_TOKEN);
    stop();
    expect(await exited).toBe(0);
    expect(output).not.toContain(OPENBAO_TOKEN);
  });
});
