/**
 * The host's secret resolver from `runtime.secrets`: Vault first, then env, then files;
 * Vault's own credentials from the environment; closing closes Vault. A fake Vault source
 * stands in for the real one (built in vault-secret-source.ts, merged separately).
 */
import { Writable } from 'node:stream';
import { SECRET_MASK, parseRuntimeHostContract, type SecretsConfig } from '@onex/core';
import type { SecretLookup } from '@onex/spi';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging/logger.js';
import { HANDLER_CATALOG } from '../../src/handlers/registry.js';
import { createRuntimeHostFromContract } from '../../src/runtime/host-from-contract.js';
import { createSecretsFromContract, type ClosableSecretSource } from '../../src/secrets/secrets-from-contract.js';
import type { VaultSecretSourceOptions } from '../../src/secrets/vault-secret-source.js';

function secretsConfig(lines: string[]): SecretsConfig {
  const text = ['runtime:', '  name: "r"', '  version: "1.0.0"', '  event_bus: { kind: "inmemory" }', '  handlers: [{ type: http }]', '  nodes: []', '  secrets:', ...lines.map((l) => `    ${l}`), ''].join('\n');
  return parseRuntimeHostContract(text, { catalog: HANDLER_CATALOG }).contract.runtime.secrets;
}

function fakeVault(values: Record<string, string>): { factory: (o: VaultSecretSourceOptions) => Promise<ClosableSecretSource>; seen: VaultSecretSourceOptions[]; closed: number[] } {
  const seen: VaultSecretSourceOptions[] = [];
  const closed: number[] = [];
  const factory = async (options: VaultSecretSourceOptions): Promise<ClosableSecretSource> => {
    seen.push(options);
    const find = async (key: string): Promise<SecretLookup | undefined> => (values[key] === undefined ? undefined : { value: values[key] });
    return { name: 'vault', references: { scheme: 'vault', lookup: find }, lookup: find, close: async () => void closed.push(1) };
  };
  return { factory, seen, closed };
}

const VAULT = ['vault:', '  address: "${VAULT_ADDR}"', '  path_prefix: onex', '  auth_method: token', '  token: { secret_ref: "env://VAULT_TOKEN" }'];

describe('createSecretsFromContract', () => {
  it('asks Vault first, then the environment, and hands Vault its address and token from the environment', async () => {
    const vault = fakeVault({ 'db/password': 'from-vault' });
    const env = { VAULT_ADDR: 'http://127.0.0.1:8200', VAULT_TOKEN: 'boot-token', DB_PASSWORD: 'from-env', API_KEY: 'env-only' };
    const secrets = await createSecretsFromContract(secretsConfig(['cache_ttl_ms: 1000', ...VAULT]), { env, createVaultSource: vault.factory });
    expect(secrets.resolver.sourceNames).toEqual(['vault', 'env']);
    expect(await secrets.resolver.getSecret('db/password')).toBe('from-vault');
    expect(await secrets.resolver.getSecret('api/key')).toBe('env-only');
    const options = vault.seen[0];
    expect(options).toMatchObject({ address: 'http://127.0.0.1:8200', mount: 'secret', pathPrefix: 'onex', timeoutMs: 5000, auth: { method: 'token' } });
    // The token travels wrapped, and prints as the mask.
    expect(options?.auth.method === 'token' ? options.auth.token.reveal() : undefined).toBe('boot-token');
    expect(JSON.stringify(options)).toContain(SECRET_MASK);
    expect(JSON.stringify(options)).not.toContain('boot-token');
    await secrets.close();
    await secrets.close();
    expect(vault.closed).toEqual([1]);
  });

  it('fails start with a typed, retryable error when Vault is unreachable, and with SecretResolutionError when its token is unset', async () => {
    // The default factory is the real Vault source; nothing listens on port 1.
    const unreachable = createSecretsFromContract(secretsConfig(VAULT), { env: { VAULT_ADDR: 'http://127.0.0.1:1', VAULT_TOKEN: 't' } });
    await expect(unreachable).rejects.toMatchObject({ code: 'INFRA_UNAVAILABLE', retryable: true });
    const missing = createSecretsFromContract(secretsConfig(VAULT), { env: { VAULT_ADDR: 'http://v:8200' }, createVaultSource: fakeVault({}).factory });
    await expect(missing).rejects.toMatchObject({ code: 'SECRET_RESOLUTION_ERROR', details: { secret_ref: 'env://VAULT_TOKEN', reason: 'vault_credential_missing' } });
  });

  it('without Vault: env then files; env off leaves files alone; nothing enabled is refused', async () => {
    expect((await createSecretsFromContract(secretsConfig(['files_dir: /run/secrets']), { env: {} })).resolver.sourceNames).toEqual(['env', 'file']);
    expect((await createSecretsFromContract(secretsConfig(['env: false', 'files_dir: /run/secrets']), { env: {} })).resolver.sourceNames).toEqual(['file']);
    await expect(createSecretsFromContract(secretsConfig(['env: false']), { env: {} })).rejects.toMatchObject({ details: { reason: 'no_sources' } });
  });
});

describe('a host built from a contract keeps its secrets masked', () => {
  it('logs (through the real pino logger) and serialises its settings with the mask, never the secret', async () => {
    const text = [
      'runtime:',
      '  name: "r"',
      '  version: "1.0.0"',
      '  event_bus: { kind: "inmemory" }',
      '  handler_source: { mode: bootstrap, allow_bootstrap_override: true }',
      '  handlers:',
      '    - type: db',
      '      config: { url: { secret_ref: "vault://secret/data/db#url" } }',
      '    - type: http',
      '      config: { url: "https://user:${API_PASSWORD}@api.example.com" }',
      '  nodes: []',
      '  secrets:',
      ...VAULT.map((l) => `    ${l}`),
      '',
    ].join('\n');
    const contract = parseRuntimeHostContract(text, { catalog: HANDLER_CATALOG }).contract;
    const vault = fakeVault({ 'secret/data/db#url': 'postgres://app:db-pass-123@127.0.0.1:5432/onex_test' });
    const chunks: string[] = [];
    const logger = createLogger({ level: 'debug', destination: new Writable({ write: (chunk: Buffer, _enc, done) => (chunks.push(chunk.toString()), done()) }) });
    const host = await createRuntimeHostFromContract({
      contract,
      env: { VAULT_ADDR: 'http://127.0.0.1:8200', VAULT_TOKEN: 'boot-token', API_PASSWORD: 'api-pass-456' },
      createVaultSource: vault.factory,
      logger,
    });
    logger.info({ settings: host.settings, handlers: host.settings.handlers }, 'host settings');
    const printed = [...chunks, JSON.stringify(host.settings)].join('\n');
    for (const secret of ['db-pass-123', 'api-pass-456', 'boot-token']) expect(printed).not.toContain(secret);
    expect(printed).toContain(SECRET_MASK);
    // The host owns the resolver it built: stopping the host closes Vault.
    await host.stop();
    expect(vault.closed).toEqual([1]);
  });
});
