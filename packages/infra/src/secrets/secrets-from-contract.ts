/**
 * The host's SecretResolver as `runtime.secrets` describes it: Vault first (when
 * configured), then the environment, then the mounted secrets directory, cached for the
 * contract's TTL. The one place sources are put in order; closing it closes Vault too.
 */
import { SecretResolutionError, SecretString, isSecretRef, type SecretValue, type SecretsConfig, type VaultAuthConfig } from '@onex/core';
import { interpolatePlaceholders } from '@onex/core/contract-kit';
import type { SecretSource } from '@onex/spi';
import { silentLogger, type Logger } from '../logging/logger.js';
import { systemScheduler, type Scheduler } from '../runtime/scheduler.js';
import { EnvSecretSource } from './env-secret-source.js';
import { FileSecretSource } from './file-secret-source.js';
import { SecretResolver } from './secret-resolver.js';
import type { VaultAuthOptions, VaultSecretSourceOptions } from './vault-secret-source.js';

/** A secret source that holds a connection (Vault's client and token renewal). */
export type ClosableSecretSource = SecretSource & { close(): Promise<void> };

export interface SecretsFromContractOptions {
  /** The process environment: the env source, `${VAULT_ADDR}` and Vault's own credentials. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /**
   * Builds the Vault source when `runtime.secrets.vault` is set (tests inject a fake).
   * @default createVaultSecretSource, imported only when a contract configures Vault, so a
   * host without Vault never loads node-vault
   */
  readonly createVaultSource?: (options: VaultSecretSourceOptions) => Promise<ClosableSecretSource>;
  /** @default systemScheduler */
  readonly scheduler?: Scheduler;
  /** @default silentLogger */
  readonly logger?: Logger;
}

/** The resolver and what it owns; `close()` stops lease refreshes and closes Vault. Harmless twice. */
export interface HostSecrets {
  readonly resolver: SecretResolver;
  close(): Promise<void>;
}

/**
 * Builds the sources `runtime.secrets` names, in priority order, and a resolver over them.
 * @throws SecretResolutionError when no source is enabled, Vault is configured but cannot
 * be built, or Vault's own credentials cannot be read.
 */
export async function createSecretsFromContract(config: SecretsConfig, options: SecretsFromContractOptions): Promise<HostSecrets> {
  const logger = options.logger ?? silentLogger;
  const scheduler = options.scheduler ?? systemScheduler;
  // Vault's own credentials come from the environment or the files, whatever `env` says:
  // they cannot come from Vault, and turning the env source off is about handler secrets.
  const bootstrapSources: SecretSource[] = [new EnvSecretSource({ env: options.env })];
  const files = config.filesDir === undefined ? undefined : new FileSecretSource({ dir: config.filesDir });
  if (files) bootstrapSources.push(files);

  const sources: SecretSource[] = [];
  let vault: ClosableSecretSource | undefined;
  if (config.vault !== undefined) {
    const bootstrap = new SecretResolver({ sources: bootstrapSources, ttlMs: 0, scheduler, logger });
    const auth = await vaultAuth(config.vault.auth, bootstrap);
    const address = expandAddress(config.vault.address, options.env);
    const createVaultSource = options.createVaultSource ?? defaultVaultSource;
    vault = await createVaultSource({
      address,
      mount: config.vault.mount,
      ...(config.vault.pathPrefix === undefined ? {} : { pathPrefix: config.vault.pathPrefix }),
      timeoutMs: config.vault.timeoutMs,
      auth,
      logger,
      scheduler,
    });
    sources.push(vault);
  }
  if (config.env) sources.push(new EnvSecretSource({ env: options.env }));
  if (files) sources.push(files);
  if (sources.length === 0) {
    throw new SecretResolutionError('runtime.secrets enables no secret source (env: false, no files_dir, no vault)', {
      hint: 'Set env: true, a files_dir, or a vault section in runtime.secrets.',
      details: { reason: 'no_sources' },
    });
  }
  const resolver = new SecretResolver({ sources, ttlMs: config.cacheTtlMs, scheduler, logger });
  let closed = false;
  return {
    resolver,
    async close() {
      if (closed) return;
      closed = true;
      resolver.close();
      await vault?.close();
    },
  };
}

async function defaultVaultSource(options: VaultSecretSourceOptions): Promise<ClosableSecretSource> {
  const { createVaultSecretSource } = await import('./vault-secret-source.js');
  return createVaultSecretSource(options);
}

async function vaultAuth(auth: VaultAuthConfig, bootstrap: SecretResolver): Promise<VaultAuthOptions> {
  const read = (value: SecretValue, field: string) => credential(value, field, bootstrap);
  if (auth.method === 'token') return { method: 'token', token: await read(auth.token, 'token') };
  return { method: 'approle', roleId: await read(auth.roleId, 'role_id'), secretId: await read(auth.secretId, 'secret_id'), mountPoint: auth.mountPoint };
}

/** One Vault credential: a reference, or a `${NAME}` placeholder read like `env://NAME`. */
async function credential(value: SecretValue, field: string, bootstrap: SecretResolver): Promise<SecretString> {
  const secretRef = isSecretRef(value) ? value.secretRef : placeholderRef(value);
  try {
    return SecretString.of(await bootstrap.resolve({ secretRef }));
  } catch (error) {
    throw new SecretResolutionError(`Vault credential runtime.secrets.vault.${field} could not be read (${secretRef})`, {
      cause: error,
      hint: error instanceof SecretResolutionError && error.hint !== undefined ? error.hint : 'Provide it in the environment.',
      details: { secret_ref: secretRef, field: `runtime.secrets.vault.${field}`, reason: 'vault_credential_missing' },
    });
  }
}

/** The contract allows only a bare `${NAME}` here (no default: that would be a literal secret). */
function placeholderRef(value: string): string {
  const name = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(value)?.[1];
  return `env://${name ?? ''}`;
}

function expandAddress(address: string, env: Readonly<Record<string, string | undefined>>): string {
  const { value, missing } = interpolatePlaceholders(address, (name) => env[name]);
  if (missing.length > 0) {
    throw new SecretResolutionError(`runtime.secrets.vault.address needs environment variable ${missing.join(', ')}, which is not set`, {
      hint: `Export ${missing[0] ?? 'it'} (e.g. VAULT_ADDR=https://vault.internal:8200) or write the address into the contract.`,
      details: { field: 'runtime.secrets.vault.address', missing: [...missing], reason: 'unset_variable' },
    });
  }
  return value;
}
