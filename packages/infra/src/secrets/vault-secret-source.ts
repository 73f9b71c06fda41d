/**
 * Secrets from Vault (KV version 2) for the SecretResolver: `vault://` references and
 * logical names, read through a logged-in, self-renewing VaultSession. Tested on OpenBao
 * 2.7.2, which keeps Vault's HTTP API (no registry ships HashiCorp's Vault binary).
 *
 * - Reference `vault://secret/data/db#password`: reads API path `secret/data/db` and takes
 *   key `password` of the secret (`.data.data`). References name the KV v2 *data* path;
 *   one without a `data/` segment is refused with a hint, not looked up.
 * - Logical name `db/password`: the last segment is the key, the rest the secret's path
 *   under `pathPrefix`: `<mount>/data/<pathPrefix>/db`, key `password`. A one-segment
 *   name (`password`) is key `password` of the secret at `<mount>/data/<pathPrefix>`
 *   (not found without a prefix).
 *
 * Not there (no secret, or no such key) → `undefined`, so the resolver asks the next
 * source. Unreachable, sealed or refused → a typed error, so the resolver stops instead of
 * serving a lower-priority value while the authoritative source is down.
 */
import { SecretResolutionError } from '@onex/core';
import type { SecretLookup, SecretReferenceLookup, SecretSource } from '@onex/spi';
import type { Logger } from '../logging/logger.js';
import type { Scheduler } from '../runtime/scheduler.js';
import { readKvSecret, vaultPathProblem, type KvSecret } from '../vault/vault-kv.js';
import { openVaultSession, type VaultAuthOptions, type VaultSession, type VaultSessionHealth } from '../vault/vault-session.js';
import type { VaultTransport } from '../vault/vault-transport.js';
import { assertSecretName } from './secret-name.js';

export interface VaultSecretSourceOptions {
  /** `http(s)://host:port` of Vault or OpenBao. */
  readonly address: string;
  /** KV version 2 mount, e.g. `secret`. */
  readonly mount: string;
  /** Logical names live under `<mount>/data/<pathPrefix>/...`. @default none (directly under the mount) */
  readonly pathPrefix?: string;
  /** Budget of each Vault request (login and renewal included). */
  readonly timeoutMs: number;
  readonly auth: VaultAuthOptions;
  /** Renewal and re-login events (never a token or value). @default silentLogger */
  readonly logger?: Logger;
  /** Clock and timers of token renewal and request deadlines. @default systemScheduler */
  readonly scheduler?: Scheduler;
}

/** How the source logs in (token, or AppRole with role_id and secret_id). */
export type { VaultAuthOptions } from '../vault/vault-session.js';

/** Test seam: replaces node-vault. Not part of the public options. */
interface InternalOptions extends VaultSecretSourceOptions {
  readonly transport?: VaultTransport;
}

/** Logs in, then answers lookups; close() stops renewals. */
export async function createVaultSecretSource(options: VaultSecretSourceOptions): Promise<VaultSecretSource> {
  checkLocation('mount', options.mount);
  if (options.pathPrefix !== undefined) checkLocation('pathPrefix', options.pathPrefix);
  const internal = options as InternalOptions;
  const session = await openVaultSession({
    address: options.address,
    auth: options.auth,
    timeoutMs: options.timeoutMs,
    handlerType: 'secret_source:vault',
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.scheduler ? { scheduler: options.scheduler } : {}),
    ...(internal.transport ? { transport: internal.transport } : {}),
  });
  return new VaultSecretSource(session, options.mount, options.pathPrefix);
}

function checkLocation(field: string, value: string): void {
  const problem = vaultPathProblem(value);
  if (problem === undefined) return;
  throw new SecretResolutionError(`Vault secret source option ${field} ${problem}`, {
    hint: `Set ${field} to a path such as "secret" (mount) or "onex/prod" (pathPrefix).`,
    details: { source: 'vault', reason: 'invalid_options' },
  });
}

/** A Vault KV v2 mount as a secret source. Build it with {@link createVaultSecretSource}. */
export class VaultSecretSource implements SecretSource {
  readonly name = 'vault';
  /** `vault://<kv-v2 data path>#<key>`. */
  readonly references: SecretReferenceLookup;
  readonly #session: VaultSession;
  readonly #mount: string;
  readonly #prefix: string | undefined;

  /** @internal Use createVaultSecretSource, which logs in first. */
  constructor(session: VaultSession, mount: string, pathPrefix: string | undefined) {
    this.#session = session;
    this.#mount = mount;
    this.#prefix = pathPrefix;
    this.references = { scheme: 'vault', lookup: (address) => this.#lookupReference(address) };
  }

  async lookup(logicalName: string): Promise<SecretLookup | undefined> {
    assertSecretName(logicalName);
    const place = this.#place(logicalName);
    if (place === undefined) return undefined;
    return this.#read(place.apiPath, place.key);
  }

  locate(logicalName: string): string {
    const place = this.#place(logicalName);
    return place === undefined ? `vault (a one-segment name needs the source's pathPrefix)` : `vault ${place.apiPath} key ${place.key}`;
  }

  /** The session's health: auth method, healthy, reason, seconds left; never the token. */
  health(): VaultSessionHealth {
    return this.#session.health();
  }

  /** Stops token renewal; later lookups fail. Harmless twice. */
  close(): Promise<void> {
    this.#session.close();
    return Promise.resolve();
  }

  #place(logicalName: string): { apiPath: string; key: string } | undefined {
    const segments = logicalName.split('/');
    const key = segments.pop() ?? '';
    const parts = [...(this.#prefix === undefined ? [] : [this.#prefix]), ...segments];
    if (parts.length === 0) return undefined;
    return { apiPath: `${this.#mount}/data/${parts.join('/')}`, key };
  }

  async #lookupReference(address: string): Promise<SecretLookup | undefined> {
    const hash = address.lastIndexOf('#');
    const path = hash < 0 ? address : address.slice(0, hash);
    const key = hash < 0 ? '' : address.slice(hash + 1);
    const problem = vaultPathProblem(path);
    if (problem !== undefined || key.length === 0) {
      throw new SecretResolutionError(`Vault reference path ${problem ?? 'needs a #key'}`, {
        hint: 'Write vault://<mount>/data/<path>#<key>, e.g. vault://secret/data/db#password.',
        details: { source: this.name, reason: 'invalid_reference' },
      });
    }
    if (!path.split('/').slice(1, -1).includes('data')) {
      throw new SecretResolutionError(`Vault reference vault://${path}#${key} has no "data/" segment after the mount`, {
        hint: `KV version 2 references name the data path: vault://${insertData(path)}#${key}.`,
        details: { source: this.name, reason: 'invalid_reference' },
      });
    }
    return this.#read(path, key);
  }

  async #read(apiPath: string, key: string): Promise<SecretLookup | undefined> {
    const secret: KvSecret | undefined = await readKvSecret(this.#session, apiPath, { operation: 'secret_lookup' });
    if (secret === undefined || !Object.hasOwn(secret.data, key)) return undefined;
    const raw = secret.data[key];
    if (raw === undefined || raw === null) return undefined;
    const value = typeof raw === 'string' ? raw : JSON.stringify(raw);
    return secret.leaseSeconds > 0 ? { value, leaseMs: secret.leaseSeconds * 1000 } : { value };
  }
}

/** `secret/db` → `secret/data/db`: the data path a KV v2 reference needs. */
function insertData(path: string): string {
  const [mount, ...rest] = path.split('/');
  return [mount, 'data', ...rest].join('/');
}
