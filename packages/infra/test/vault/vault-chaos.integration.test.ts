/**
 * Vault flakiness (spec 4.10) on a PRIVATE OpenBao dev server (port 18210; the shared one
 * is never sealed or stopped): sealed → a retryable typed error, and a host keeps
 * answering its other handler's envelopes; stopped mid-run → retryable; started again →
 * calls work again.
 */
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { EffectNode, SecretString, parseRuntimeHostContract } from '@onex/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VaultHandler } from '../../src/handlers/vault/index.js';
import { HANDLER_CATALOG } from '../../src/handlers/registry.js';
import { createRuntimeHostFromContract } from '../../src/runtime/host-from-contract.js';
import type { RuntimeHostProcess } from '../../src/runtime/runtime-host-process.js';
import { rejection } from '../handlers/db/db-test-kit.js';
import { dbHandlerContract, writeHandlerContractDir } from '../helpers/handler-contract-dir.js';
import { OPENBAO_TOKEN, openbaoServerAvailable } from '../helpers/require-server.js';
import { bao, sendTo, waitFor } from './vault-kit.js';

const run = promisify(execFile);
const PORT = 18210;
const ADDR = `http://127.0.0.1:${PORT}`;
const SCRIPT = path.resolve(import.meta.dirname, '../../../../tooling/services/openbao.sh');
// The shared server tells that OpenBao is installed here; the private one is started from the same install.
const available = await openbaoServerAvailable();

async function openbao(command: 'up' | 'stop' | 'start' | 'down'): Promise<void> {
  await run('bash', [SCRIPT, command], { env: { ...process.env, ONEX_OPENBAO_PORT: String(PORT), ONEX_OPENBAO_TOKEN: OPENBAO_TOKEN }, timeout: 120_000 });
}

describe.skipIf(!available)('vault handler when OpenBao is sealed, stopped and back (private server)', () => {
  let handler: VaultHandler;
  let host: RuntimeHostProcess | undefined;
  let contractDir: string;

  beforeAll(async () => {
    await openbao('up');
    handler = new VaultHandler();
    await handler.initialize({ address: ADDR, allowedPaths: ['chaos/*'], auth: { method: 'token', token: SecretString.of(OPENBAO_TOKEN) }, timeoutMs: 3_000 });
    await sendTo(handler, 'vault.set_secret', { path: 'chaos/a', data: { v: 'before' } });

    contractDir = await writeHandlerContractDir('onex-vault-chaos-', {
      vault: [
        'handler_name: "handler_vault"', 'handler_version: "1.0.0"', 'handler_type: "vault"', 'handler_type_category: "effect"',
        'capabilities: ["secrets.kv_v2"]', 'commands_accepted: ["vault.get_secret"]', 'security: { secret_scopes: ["env://ONEX_CHAOS_*"] }',
      ],
      db: dbHandlerContract(['db.query']),
    });
    const { contract } = parseRuntimeHostContract(
      [
        'runtime:', '  name: "vault-chaos"', '  version: "1.0.0"', '  event_bus: { kind: "inmemory" }', '  handlers:',
        '    - type: "vault"', '      config:', `        address: "${ADDR}"`, '        allowed_paths: ["chaos/*"]', '        auth_method: "token"', '        token: "${ONEX_CHAOS_BAO_TOKEN}"',
        '    - type: "db"', '      config: { url: "pglite://memory" }',
        '  nodes:', '    - slug: "app"',
      ].join('\n'),
      { source: 'vault-chaos.yaml', catalog: HANDLER_CATALOG },
    );
    host = await createRuntimeHostFromContract({
      contract,
      contractDir,
      env: { ONEX_CHAOS_BAO_TOKEN: OPENBAO_TOKEN },
      nodes: [new EffectNode({ slug: 'app', operations: ['vault.get_secret', 'db.query'] })],
    });
    await host.start();
  }, 180_000);

  afterAll(async () => {
    await host?.stop();
    await handler?.shutdown();
    await openbao('down');
    if (contractDir) await rm(contractDir, { recursive: true, force: true });
  }, 60_000);

  const submit = async (operation: string, payload: Record<string, unknown>) => (await host!.submit({ target_node: 'app', operation, payload }, 15_000)).envelope;

  it('sealed: the vault call is a retryable INFRA_UNAVAILABLE, and the host still answers the db envelope', async () => {
    expect((await submit('vault.get_secret', { path: 'chaos/a' })).payload).toMatchObject({ found: true, data: { v: 'before' } });
    const sealed = await bao(ADDR, OPENBAO_TOKEN, 'PUT', 'sys/seal');
    expect(sealed.status).toBe(204);

    const error = await rejection(sendTo(handler, 'vault.get_secret', { path: 'chaos/a' }));
    expect(error).toMatchObject({ code: 'INFRA_UNAVAILABLE', retryable: true, details: { reason: 'sealed' } });

    const [vaultReply, dbReply] = await Promise.all([submit('vault.get_secret', { path: 'chaos/a' }), submit('db.query', { sql: 'select 1 as one' })]);
    expect(vaultReply.success).toBe(false);
    expect(vaultReply.error).toMatchObject({ code: 'INFRA_UNAVAILABLE', retryable: true, handler_type: 'vault' });
    expect(JSON.stringify(vaultReply)).not.toContain(OPENBAO_TOKEN);
    expect(dbReply.success).toBe(true);
    expect(dbReply.payload).toMatchObject({ rows: [{ one: 1 }] });
  }, 60_000);

  it('stopped mid-run: a retryable error; started again: calls work again', async () => {
    await openbao('stop');
    const error = await rejection(sendTo(handler, 'vault.get_secret', { path: 'chaos/a' }));
    expect(error.retryable).toBe(true);
    expect(['INFRA_UNAVAILABLE', 'INFRA_CONNECTION_ERROR', 'INFRA_TIMEOUT']).toContain(error.code);
    const reply = await submit('vault.get_secret', { path: 'chaos/a' });
    expect(reply.error).toMatchObject({ retryable: true });

    // A dev server starts empty and unsealed, with the same fixed root token.
    await openbao('start');
    await waitFor('the vault handler answers again', async () => {
      try {
        await sendTo(handler, 'vault.set_secret', { path: 'chaos/a', data: { v: 'after' } });
        return true;
      } catch {
        return false;
      }
    });
    expect(await sendTo(handler, 'vault.get_secret', { path: 'chaos/a' })).toMatchObject({ found: true, data: { v: 'after' } });
    expect((await submit('vault.get_secret', { path: 'chaos/a' })).payload).toMatchObject({ found: true, data: { v: 'after' } });
    expect(await handler.healthCheck()).toMatchObject({ healthy: true });
  }, 120_000);
});
