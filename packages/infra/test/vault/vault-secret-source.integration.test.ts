/**
 * VaultSecretSource on the real OpenBao 2.7.2 dev server: references and logical names,
 * not found falls through, a denied read stops the resolver, and a db binding whose
 * PostgreSQL URL is a vault:// reference resolved at host start.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { EffectNode, SecretString, parseRuntimeHostContract } from '@onex/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HANDLER_CATALOG } from '../../src/handlers/registry.js';
import { createRuntimeHostFromContract } from '../../src/runtime/host-from-contract.js';
import { createEnvSecretSource } from '../../src/secrets/env-secret-source.js';
import { createSecretResolver } from '../../src/secrets/secret-resolver.js';
import { createVaultSecretSource, type VaultSecretSource } from '../../src/secrets/vault-secret-source.js';
import { rejection } from '../handlers/db/db-test-kit.js';
import { OPENBAO_ADDR, OPENBAO_TOKEN, PG_URL, openbaoServerAvailable, pgServerAvailable } from '../helpers/require-server.js';
import { bao, setUpAppRole } from './vault-kit.js';

const available = await openbaoServerAvailable();
const pgAvailable = available && (await pgServerAvailable());
const RUN = `onex-src-${process.pid}-${Date.now().toString(36)}`;
const APPROLE_MOUNT = `approle-${RUN}`;

describe.skipIf(!available)('VaultSecretSource on real OpenBao', () => {
  let source: VaultSecretSource;

  beforeAll(async () => {
    await bao(OPENBAO_ADDR, OPENBAO_TOKEN, 'POST', `secret/data/${RUN}/db`, { data: { password: 'vault-pw', port: 5432 } });
    await bao(OPENBAO_ADDR, OPENBAO_TOKEN, 'POST', `secret/data/${RUN}/prefix/kafka`, { data: { sasl: 'kafka-pw' } });
    source = await createVaultSecretSource({ address: OPENBAO_ADDR, mount: 'secret', pathPrefix: `${RUN}/prefix`, timeoutMs: 5_000, auth: { method: 'token', token: SecretString.of(OPENBAO_TOKEN) } });
  });

  afterAll(async () => {
    await source?.close();
    for (const p of ['db', 'prefix/kafka', 'pg']) await bao(OPENBAO_ADDR, OPENBAO_TOKEN, 'DELETE', `secret/metadata/${RUN}/${p}`);
    await bao(OPENBAO_ADDR, OPENBAO_TOKEN, 'DELETE', `sys/auth/${APPROLE_MOUNT}`);
    await bao(OPENBAO_ADDR, OPENBAO_TOKEN, 'DELETE', `sys/policies/acl/policy-${RUN}`);
  });

  it('answers vault:// references through the resolver; missing secrets and keys are "not found"', async () => {
    const resolver = createSecretResolver({ sources: [source] });
    expect(resolver.schemes).toEqual(['vault']);
    expect(await resolver.resolve({ secretRef: `vault://secret/data/${RUN}/db#password` })).toBe('vault-pw');
    expect(await source.references.lookup(`secret/data/${RUN}/db#port`)).toEqual({ value: '5432' });
    expect(await source.references.lookup(`secret/data/${RUN}/db#nope`)).toBeUndefined();
    expect(await source.references.lookup(`secret/data/${RUN}/missing#password`)).toBeUndefined();
    const noData = await rejection(source.references.lookup(`secret/${RUN}/db#password`));
    expect(noData).toMatchObject({ code: 'SECRET_RESOLUTION_ERROR', details: { reason: 'invalid_reference' } });
    expect(noData.hint).toContain(`vault://secret/data/${RUN}/db#password`);
  });

  it('maps logical names under the path prefix (last segment = key) and falls through when absent', async () => {
    expect(await source.lookup('kafka/sasl')).toEqual({ value: 'kafka-pw' });
    expect(source.locate('kafka/sasl')).toBe(`vault secret/data/${RUN}/prefix/kafka key sasl`);
    expect(await source.lookup('kafka/missing')).toBeUndefined();
    const resolver = createSecretResolver({ sources: [source, createEnvSecretSource({ env: { OTHER_NAME: 'from-env' } })] });
    expect(await resolver.getSecret('other/name')).toBe('from-env');
    expect(source.health()).toMatchObject({ auth_method: 'token', healthy: true });
  });

  it('a denied read is a typed error and the resolver does not fall through to a lower source', async () => {
    const { roleId, secretId } = await setUpAppRole(OPENBAO_ADDR, OPENBAO_TOKEN, {
      mount: APPROLE_MOUNT,
      role: 'reader',
      policyName: `policy-${RUN}`,
      policy: `path "secret/data/${RUN}/prefix/kafka" { capabilities = ["read"] }`,
      tokenTtl: '60s',
      tokenMaxTtl: '120s',
    });
    const limited = await createVaultSecretSource({
      address: OPENBAO_ADDR,
      mount: 'secret',
      pathPrefix: `${RUN}/prefix`,
      timeoutMs: 5_000,
      auth: { method: 'approle', roleId: SecretString.of(roleId), secretId: SecretString.of(secretId), mountPoint: APPROLE_MOUNT },
    });
    try {
      expect(await limited.lookup('kafka/sasl')).toEqual({ value: 'kafka-pw' });
      const denied = await rejection(limited.lookup('db/password'));
      expect(denied).toMatchObject({ code: 'INFRA_AUTHENTICATION_ERROR', retryable: false });
      const resolver = createSecretResolver({ sources: [limited, createEnvSecretSource({ env: { DB_PASSWORD: 'lower-priority' } })] });
      const error = await rejection(resolver.getSecret('db/password'));
      expect(error).toMatchObject({ code: 'SECRET_RESOLUTION_ERROR', details: { reason: 'source_failed', source: 'vault' } });
      expect(JSON.stringify({ m: error.message, d: error.details, h: error.hint })).not.toContain(secretId);
    } finally {
      await limited.close();
    }
  });

  it.skipIf(!pgAvailable)('a db binding gets its PostgreSQL URL from Vault at host start', async () => {
    // The server trusts loopback, so any password works; the URL carries one all the same.
    const url = new URL(PG_URL);
    url.password = 'from-vault-7c1e';
    await bao(OPENBAO_ADDR, OPENBAO_TOKEN, 'POST', `secret/data/${RUN}/pg`, { data: { url: url.toString() } });
    const contractDir = await mkdtemp(path.join(os.tmpdir(), 'onex-vault-src-'));
    await mkdir(path.join(contractDir, 'handlers', 'db'), { recursive: true });
    await writeFile(
      path.join(contractDir, 'handlers', 'db', 'handler_contract.yaml'),
      [
        'handler_name: "handler_db"', 'handler_version: "1.0.0"', 'handler_type: "db"', 'handler_type_category: "effect"',
        'capabilities: ["sql.parameterized"]', 'commands_accepted: ["db.query"]', `security: { secret_scopes: ["vault://secret/data/${RUN}/*"] }`, '',
      ].join('\n'),
    );
    const { contract } = parseRuntimeHostContract(
      [
        'runtime:', '  name: "vault-src"', '  version: "1.0.0"', '  event_bus: { kind: "inmemory" }', '  handlers:', '    - type: "db"', '      config:',
        `        url: { secret_ref: "vault://secret/data/${RUN}/pg#url" }`, '        pool_size: 1', '  nodes:', '    - slug: "store"',
      ].join('\n'),
      { source: 'vault-src.yaml', catalog: HANDLER_CATALOG },
    );
    const resolver = createSecretResolver({ sources: [source] });
    const host = await createRuntimeHostFromContract({ contract, contractDir, secretResolver: resolver, nodes: [new EffectNode({ slug: 'store', operations: ['db.query'] })] });
    try {
      await host.start();
      const { envelope } = await host.submit({ target_node: 'store', operation: 'db.query', payload: { sql: 'select 41 + 1 as answer' } }, 15_000);
      expect(envelope.success).toBe(true);
      expect(envelope.payload).toMatchObject({ rows: [{ answer: 42 }] });
    } finally {
      await host.stop();
      resolver.close();
      await rm(contractDir, { recursive: true, force: true });
    }
  });
});
