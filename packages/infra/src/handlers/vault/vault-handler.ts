/**
 * VaultHandler: the `vault` protocol handler. Reads and writes KV version 2 secrets of one
 * mount on Vault or OpenBao (tested on OpenBao 2.7.2: no registry ships HashiCorp's own
 * Vault binary; the handler uses only the Vault HTTP API, which OpenBao keeps compatible).
 *
 * Operations and response payloads:
 * - `vault.get_secret`    `{ path, version? }` → `{ found: true, data, version, created_time }`,
 *   or `{ found: false }` when there is no such secret (or its version is deleted): not
 *   found is a successful answer, so callers branch on `found` instead of on an error.
 * - `vault.set_secret`    `{ path, data, cas? }` → `{ version, created_time }`
 * - `vault.delete_secret` `{ path, all_versions? }` → `{ deleted: true, path, all_versions }`
 *   (default: soft-delete the latest version; `all_versions: true` removes every version)
 * - `vault.list_secrets`  `{ path }` → `{ keys }` (`[]` when the folder does not exist)
 * - `vault.renew_token`   `{ increment_seconds? }` → `{ ttl_seconds, renewable }`, never the token
 *
 * Whoever can send an envelope can read what the handler's token can, so every path must
 * match the config's `allowedPaths` globs (`[]` refuses all), and set/delete need a
 * read_write grant (`context.access`), like the db handler's writes.
 *
 * Error modes: bad payload or path → ENVELOPE_VALIDATION_ERROR; a path outside
 * allowedPaths, a write from a read_only grant, an unknown operation → InvalidOperationError;
 * Vault refusing (403) → InfraAuthenticationError; sealed, unreachable, 5xx →
 * InfraUnavailableError (retryable); too slow or cancelled → InfraTimeoutError (retryable;
 * node-vault cannot cancel a request, so a cancelled call is abandoned, not stopped);
 * a check-and-set mismatch → HandlerExecutionError with details.reason `cas_mismatch`;
 * after shutdown → SHUTTING_DOWN.
 */
import {
  HandlerExecutionError,
  InvalidOperationError,
  type ShuttingDownError,
  type ErrorContext,
  type HandlerInvocationContext,
  type JsonValue,
  type OnexEnvelope,
} from '@onex/core';
import type { HandlerDescription, HandlerHealth, ProtocolHandler } from '@onex/spi';
import { silentLogger, type Logger } from '../../logging/logger.js';
import type { Scheduler } from '../../runtime/scheduler.js';
import { matchesSecretScope } from '../../secrets/secret-scope.js';
import { KvV2 } from '../../vault/vault-kv.js';
import { openVaultSession, type VaultCallContext, type VaultSession } from '../../vault/vault-session.js';
import type { VaultTransport } from '../../vault/vault-transport.js';
import { parseVaultHandlerConfig, type ResolvedVaultHandlerConfig, type VaultHandlerConfig } from './vault-config.js';
import {
  parseVaultPayload,
  VAULT_RESPONSE_SHAPES,
  vaultDeleteSecretPayloadSchema,
  vaultGetSecretPayloadSchema,
  vaultListSecretsPayloadSchema,
  vaultRenewTokenPayloadSchema,
  vaultSetSecretPayloadSchema,
  type VaultDeleteSecretResponse,
  type VaultGetSecretResponse,
  type VaultListSecretsResponse,
  type VaultRenewTokenResponse,
  type VaultSetSecretResponse,
} from './vault-payload.js';
import { handlerShutDownError, initializeAgainError } from '../handler-state-errors.js';

/** Every operation VaultHandler accepts. */
export const VAULT_OPERATIONS = ['vault.get_secret', 'vault.set_secret', 'vault.delete_secret', 'vault.list_secrets', 'vault.renew_token'] as const;
export type VaultOperation = (typeof VAULT_OPERATIONS)[number];

export const VAULT_HANDLER_VERSION = '0.1.0';

export interface VaultHandlerOptions {
  /** Renewals, re-logins and lost tokens (never a token or a value). @default silentLogger */
  readonly logger?: Logger;
  /** Clock and timers of token renewal and request deadlines. @default systemScheduler */
  readonly scheduler?: Scheduler;
  /** Replaces node-vault (tests). @default node-vault */
  readonly transport?: VaultTransport;
}

/** `created → initializing → ready → shutdown`; a failed initialize leaves `failed` (retryable). */
export type VaultHandlerState = 'created' | 'initializing' | 'ready' | 'failed' | 'shutdown';

export class VaultHandler implements ProtocolHandler<VaultHandlerConfig> {
  readonly handlerType = 'vault' as const;
  readonly #options: VaultHandlerOptions;
  readonly #logger: Logger;
  #state: VaultHandlerState = 'created';
  #session: VaultSession | undefined;
  #kv: KvV2 | undefined;
  #config: ResolvedVaultHandlerConfig | undefined;

  constructor(options: VaultHandlerOptions = {}) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
  }

  get state(): VaultHandlerState {
    return this.#state;
  }

  /**
   * Validates `config` and logs in (token: lookup-self; AppRole: login), learning the
   * token's TTL so it is renewed in time.
   * @throws HandlerConfigurationError for a bad config or a second call;
   *   InfraAuthenticationError when Vault refuses the credentials; InfraUnavailableError /
   *   InfraTimeoutError when it cannot be reached.
   */
  async initialize(config: VaultHandlerConfig): Promise<void> {
    if (this.#state !== 'created' && this.#state !== 'failed') {
      throw initializeAgainError('VaultHandler', 'vault', this.#state, 'another Vault');
    }
    const resolved = parseVaultHandlerConfig(config);
    this.#state = 'initializing';
    let session: VaultSession;
    try {
      session = await openVaultSession({
        address: resolved.address,
        auth: resolved.auth,
        timeoutMs: resolved.timeoutMs,
        renewRatio: resolved.renewRatio,
        handlerType: 'vault',
        logger: this.#logger,
        ...(this.#options.scheduler ? { scheduler: this.#options.scheduler } : {}),
        ...(this.#options.transport ? { transport: this.#options.transport } : {}),
      });
    } catch (error) {
      if (this.#state === 'initializing') this.#state = 'failed';
      throw error;
    }
    if (this.#state !== 'initializing') {
      session.close();
      throw this.#shuttingDown({ handlerType: 'vault', operation: 'initialize' });
    }
    this.#session = session;
    this.#kv = new KvV2(session, resolved.mount);
    this.#config = resolved;
    this.#state = 'ready';
    const health = session.health();
    this.#logger.info(
      { handler_type: 'vault', target: session.target, mount: resolved.mount, auth_method: health.auth_method, ttl_seconds_left: health.ttl_seconds_left, allowed_paths: [...resolved.allowedPaths] },
      'vault handler ready',
    );
  }

  /**
   * Runs one envelope. Resolves to the operation's response payload.
   * @throws see the module header for the error modes.
   */
  async execute(envelope: OnexEnvelope, context: HandlerInvocationContext): Promise<JsonValue> {
    const errorContext: ErrorContext = { correlationId: context.correlationId ?? envelope.correlationId, operation: envelope.operation, handlerType: 'vault' };
    const { session, kv, config } = this.#ready(errorContext);
    const call: VaultCallContext = { operation: envelope.operation, correlationId: errorContext.correlationId, signal: context.signal };
    switch (envelope.operation) {
      case 'vault.get_secret': {
        const payload = parseVaultPayload(vaultGetSecretPayloadSchema, envelope.payload, errorContext);
        this.#checkPath(payload.path, config, errorContext);
        const secret = await kv.read(payload.path, payload.version, call);
        const response: VaultGetSecretResponse =
          secret === undefined ? { found: false } : { found: true, data: { ...secret.data }, version: secret.version, created_time: secret.createdTime };
        return response;
      }
      case 'vault.set_secret': {
        const payload = parseVaultPayload(vaultSetSecretPayloadSchema, envelope.payload, errorContext);
        this.#checkPath(payload.path, config, errorContext);
        this.#checkWrite(context, errorContext, payload.path);
        const written = await kv.write(payload.path, payload.data, payload.cas, call);
        return { version: written.version, created_time: written.createdTime } satisfies VaultSetSecretResponse;
      }
      case 'vault.delete_secret': {
        const payload = parseVaultPayload(vaultDeleteSecretPayloadSchema, envelope.payload, errorContext);
        this.#checkPath(payload.path, config, errorContext);
        this.#checkWrite(context, errorContext, payload.path);
        const allVersions = payload.all_versions ?? false;
        await kv.delete(payload.path, allVersions, call);
        return { deleted: true, path: payload.path, all_versions: allVersions } satisfies VaultDeleteSecretResponse;
      }
      case 'vault.list_secrets': {
        const payload = parseVaultPayload(vaultListSecretsPayloadSchema, envelope.payload, errorContext);
        this.#checkPath(payload.path, config, errorContext);
        return { keys: await kv.list(payload.path, call) } satisfies VaultListSecretsResponse;
      }
      case 'vault.renew_token': {
        const payload = parseVaultPayload(vaultRenewTokenPayloadSchema, envelope.payload, errorContext);
        const renewed = await session.renew(payload.increment_seconds, call);
        return { ttl_seconds: renewed.ttlSeconds, renewable: renewed.renewable } satisfies VaultRenewTokenResponse;
      }
      default:
        throw new InvalidOperationError(`Operation '${envelope.operation}' is not supported by the vault handler. Available: ${VAULT_OPERATIONS.join(', ')}`, {
          ...errorContext,
          details: { supported_operations: [...VAULT_OPERATIONS] },
          hint: 'Use one of the supported operations.',
        });
    }
  }

  /** Stops token renewal. Idempotent. The token is not revoked: it may be shared. */
  shutdown(): Promise<void> {
    this.#state = 'shutdown';
    this.#session?.close();
    this.#session = undefined;
    this.#kv = undefined;
    return Promise.resolve();
  }

  /**
   * `{ healthy, handler_type, state, target, mount, auth_method, reason, ttl_seconds_left,
   * renewable, renewals, logins }`, from the session's own state (no request): unhealthy
   * with a reason a person can act on when the token is lost. Never the token.
   */
  healthCheck(): Promise<HandlerHealth> {
    const session = this.#session;
    if (this.#state !== 'ready' || session === undefined) {
      return Promise.resolve({ healthy: false, handler_type: 'vault', state: this.#state, reason: `vault handler is ${this.#state}` });
    }
    const h = session.health();
    return Promise.resolve({
      healthy: h.healthy,
      handler_type: 'vault',
      state: this.#state,
      target: session.target,
      mount: this.#config?.mount ?? null,
      auth_method: h.auth_method,
      reason: h.reason,
      ttl_seconds_left: h.ttl_seconds_left,
      renewable: h.renewable,
      renewals: h.renewals,
      logins: h.logins,
    });
  }

  describe(): HandlerDescription {
    return {
      handlerType: 'vault',
      supportedOperations: [...VAULT_OPERATIONS],
      requiredPayloadFields: {
        'vault.get_secret': ['path'],
        'vault.set_secret': ['path', 'data'],
        'vault.delete_secret': ['path'],
        'vault.list_secrets': ['path'],
        'vault.renew_token': [],
      },
      responseShape: VAULT_OPERATIONS.map((op) => `${op}: ${VAULT_RESPONSE_SHAPES[op]}`).join('; '),
      version: VAULT_HANDLER_VERSION,
    };
  }

  #ready(context: ErrorContext): { session: VaultSession; kv: KvV2; config: ResolvedVaultHandlerConfig } {
    if (this.#state === 'shutdown') throw this.#shuttingDown(context);
    if (this.#state !== 'ready' || this.#session === undefined || this.#kv === undefined || this.#config === undefined) {
      throw new HandlerExecutionError(`VaultHandler is not initialized (state: ${this.#state})`, {
        ...context,
        hint: 'The runtime host must call initialize(config) and wait for it before routing envelopes.',
      });
    }
    return { session: this.#session, kv: this.#kv, config: this.#config };
  }

  #checkPath(path: string, config: ResolvedVaultHandlerConfig, context: ErrorContext): void {
    if (config.allowedPaths.some((glob) => matchesSecretScope(path, glob))) return;
    const allowed = config.allowedPaths.length > 0 ? config.allowedPaths.join(', ') : 'none';
    throw new InvalidOperationError(`vault: path "${path}" is outside the handler's allowed_paths (${allowed}); refused`, {
      ...context,
      details: { reason: 'path_not_allowed', path, allowed_paths: [...config.allowedPaths] },
      hint: 'Add a glob covering this path to allowed_paths in the vault handler config ("*" matches within a segment, "**" across; listing a folder needs the folder itself allowed), or use a path inside them.',
    });
  }

  #checkWrite(context: HandlerInvocationContext, errorContext: ErrorContext, path: string): void {
    if (context.access === 'read_write') return;
    throw new InvalidOperationError(`vault: ${errorContext.operation ?? 'this operation'} writes, but the calling node${context.nodeSlug === undefined ? '' : ` "${context.nodeSlug}"`} has read_only access`, {
      ...errorContext,
      details: { reason: 'read_only_access', path, access: context.access },
      hint: "Grant read_write for this operation in the node contract's io_operations, or only read secrets.",
    });
  }

  #shuttingDown(context: ErrorContext): ShuttingDownError {
    return handlerShutDownError('VaultHandler', context);
  }
}

/** Validates `config`, then returns an initialized VaultHandler. */
export async function createVaultHandler(config: VaultHandlerConfig, options: VaultHandlerOptions = {}): Promise<VaultHandler> {
  const handler = new VaultHandler(options);
  await handler.initialize(config);
  return handler;
}
