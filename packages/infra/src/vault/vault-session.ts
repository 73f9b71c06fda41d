/**
 * A logged-in Vault client, shared by the vault handler and the Vault secret source:
 * token or AppRole auth, the token renewed on the injected scheduler before it runs out,
 * AppRole logging in again when renewing fails or hits the token's max TTL, a deadline per
 * request, an abort signal honoured as far as node-vault allows, and every failure mapped
 * to a typed error (vault-errors.ts). The token never leaves this object except in the
 * `X-Vault-Token` header of a request.
 */
import { ShuttingDownError, isOnexError, SecretString, type CancellationSignal, type OnexError } from '@onex/core';
import { z } from 'zod';
import { silentLogger, type Logger } from '../logging/logger.js';
import { systemScheduler, type Scheduler, type TimerHandle } from '../runtime/scheduler.js';
import { isVaultNotFound, mapVaultError, unexpectedVaultResponse, vaultApiFailure, vaultPermissionDenied, vaultTarget, vaultTimeoutError, type VaultErrorContext } from './vault-errors.js';
import { createNodeVaultTransport, type VaultMethod, type VaultTransport } from './vault-transport.js';

/** How the session logs in. Credentials stay wrapped until they go into a request. */
export type VaultAuthOptions =
  | { readonly method: 'token'; readonly token: SecretString }
  | {
      readonly method: 'approle';
      readonly roleId: SecretString;
      readonly secretId: SecretString;
      /** Where AppRole is mounted. @default "approle" */
      readonly mountPoint?: string | undefined;
    };

/** @default 2/3 of the token's TTL */
export const DEFAULT_VAULT_RENEW_RATIO = 2 / 3;
/** @default "approle" */
export const DEFAULT_APPROLE_MOUNT = 'approle';
/** Renewal timers never fire faster than this, so a tiny TTL cannot make them spin. */
const MIN_RENEW_DELAY_MS = 250;

export interface VaultSessionOptions {
  /** `http(s)://host:port` of Vault or OpenBao. */
  readonly address: string;
  readonly auth: VaultAuthOptions;
  /** Budget of each request, login and renewal included. */
  readonly timeoutMs: number;
  /** Renew after this share of the token's TTL (0 < ratio < 1). @default DEFAULT_VAULT_RENEW_RATIO */
  readonly renewRatio?: number;
  /** Clock and timers of the renewals and request deadlines. @default systemScheduler */
  readonly scheduler?: Scheduler;
  /** Renewals, re-logins and lost tokens are logged here (never the token). @default silentLogger */
  readonly logger?: Logger;
  /** Names the caller in errors, e.g. `vault`. */
  readonly handlerType?: string;
  /** Replaces node-vault (tests of branches a real server cannot produce). @default node-vault */
  readonly transport?: VaultTransport;
}

/** What the session reports about itself; never the token. */
export interface VaultSessionHealth {
  readonly auth_method: 'token' | 'approle';
  readonly healthy: boolean;
  /** Why it is unhealthy (or the last renewal problem), for a person; null when all is well. */
  readonly reason: string | null;
  /** Seconds until the token expires; null for a token without expiry (e.g. a root token). */
  readonly ttl_seconds_left: number | null;
  readonly renewable: boolean;
  /** Successful renewals since the session opened. */
  readonly renewals: number;
  /** Successful logins since the session opened (AppRole re-logins count). */
  readonly logins: number;
}

/** One call through the session. */
export interface VaultCall {
  readonly method: VaultMethod;
  /** API path below `/v1/`, e.g. `secret/data/app/db`. */
  readonly path: string;
  readonly body?: Readonly<Record<string, unknown>> | undefined;
}

/** Who is asking: for error context and cancellation. */
export interface VaultCallContext {
  readonly operation?: string | undefined;
  readonly correlationId?: string | undefined;
  /** Aborting it stops waiting for the answer (node-vault cannot cancel the request itself). */
  readonly signal?: CancellationSignal | undefined;
}

const authSchema = z.object({
  auth: z.object({
    client_token: z.string().min(1),
    lease_duration: z.number().int().nonnegative(),
    renewable: z.boolean(),
  }),
});
const lookupSchema = z.object({
  data: z.object({
    ttl: z.number().int().nonnegative(),
    renewable: z.boolean().optional(),
  }),
});

/** The token's TTL and renewability as Vault last told it. */
interface TokenLease {
  readonly token: SecretString;
  /** Epoch ms when it runs out; undefined when it never does. */
  readonly expiresAt: number | undefined;
  readonly ttlSeconds: number;
  readonly renewable: boolean;
}

/**
 * Open with {@link openVaultSession}. `call` sends one request with the current token;
 * `renew` renews on demand; `health` says whether the token is still good and why not;
 * `close` stops renewals.
 */
export class VaultSession {
  readonly target: string;
  readonly #auth: VaultAuthOptions;
  readonly #transport: VaultTransport;
  readonly #timeoutMs: number;
  readonly #ratio: number;
  readonly #scheduler: Scheduler;
  readonly #logger: Logger;
  readonly #handlerType: string | undefined;
  #lease: TokenLease | undefined;
  #timer: TimerHandle | undefined;
  /** Set when the token is lost for good (cannot renew, cannot log in again). */
  #fatal: string | undefined;
  /** The last renewal problem while the token is still valid. */
  #warning: string | undefined;
  /** The token's ttl was capped at renewal: it is at its max TTL, renewing will not extend it. */
  #capped = false;
  #renewals = 0;
  #logins = 0;
  #closed = false;

  constructor(options: VaultSessionOptions) {
    if (!(options.timeoutMs > 0)) throw new RangeError('VaultSession: timeoutMs must be positive');
    const ratio = options.renewRatio ?? DEFAULT_VAULT_RENEW_RATIO;
    if (!(ratio > 0 && ratio < 1)) throw new RangeError('VaultSession: renewRatio must lie between 0 and 1');
    this.target = vaultTarget(options.address);
    this.#auth = options.auth;
    this.#transport = options.transport ?? createNodeVaultTransport(options.address);
    this.#timeoutMs = options.timeoutMs;
    this.#ratio = ratio;
    this.#scheduler = options.scheduler ?? systemScheduler;
    this.#logger = options.logger ?? silentLogger;
    this.#handlerType = options.handlerType;
  }

  get authMethod(): 'token' | 'approle' {
    return this.#auth.method;
  }

  /**
   * Logs in (AppRole) or checks the token (lookup-self), learns its TTL and schedules the
   * first renewal.
   * @throws InfraAuthenticationError when Vault refuses the credentials; InfraUnavailableError /
   *   InfraTimeoutError when it cannot be reached.
   */
  async login(): Promise<void> {
    this.#assertOpen({ operation: 'login' });
    const lease = this.#auth.method === 'approle' ? await this.#approleLogin() : await this.#lookupToken(this.#auth.token);
    this.#adopt(lease);
    this.#logins += 1;
    this.#capped = false;
    this.#fatal = undefined;
    this.#warning = undefined;
  }

  /**
   * Sends one request with the session's token.
   * @returns the response body (unknown: narrow it), or `undefined` for a 404 when
   *   `notFound` is `"undefined"` and Vault gave no error text (nothing at the path).
   * @throws a typed error from mapVaultError; the signal's reason (or InfraTimeoutError) when aborted.
   */
  async call(call: VaultCall, context: VaultCallContext = {}, notFound: 'undefined' | 'error' = 'error'): Promise<unknown> {
    const errorContext = this.#context(context, call.path);
    this.#assertOpen(errorContext);
    const token = this.#lease?.token;
    try {
      return await this.#send(call, token, errorContext, context.signal);
    } catch (error) {
      if (notFound === 'undefined' && isVaultNotFound(error) && (vaultApiFailure(error)?.errors.length ?? 0) === 0) return undefined;
      throw mapVaultError(error, errorContext);
    }
  }

  /**
   * Renews the token now (renew-self) and reschedules the next renewal.
   * @returns the new TTL and whether it can be renewed again.
   */
  async renew(incrementSeconds?: number, context: VaultCallContext = {}): Promise<{ ttlSeconds: number; renewable: boolean }> {
    const errorContext = this.#context(context, 'auth/token/renew-self');
    this.#assertOpen(errorContext);
    const lease = await this.#renewSelf(incrementSeconds, errorContext, context.signal);
    return { ttlSeconds: lease.ttlSeconds, renewable: lease.renewable };
  }

  health(): VaultSessionHealth {
    const lease = this.#lease;
    const left = lease?.expiresAt === undefined ? null : Math.max(0, Math.floor((lease.expiresAt - this.#scheduler.now()) / 1000));
    const expired = lease?.expiresAt !== undefined && this.#scheduler.now() >= lease.expiresAt;
    let reason = this.#fatal ?? null;
    if (this.#closed) reason = 'the Vault session is closed';
    else if (lease === undefined) reason ??= 'not logged in to Vault yet';
    else if (expired) reason ??= `the Vault token expired${this.#warning === undefined ? '' : ` (${this.#warning})`}`;
    const healthy = reason === null;
    return {
      auth_method: this.#auth.method,
      healthy,
      reason: reason ?? this.#warning ?? null,
      ttl_seconds_left: left,
      renewable: lease?.renewable ?? false,
      renewals: this.#renewals,
      logins: this.#logins,
    };
  }

  /** Stops renewals; later calls fail with ShuttingDownError. Harmless twice. The token is not revoked (it may be shared). */
  close(): void {
    this.#closed = true;
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  #assertOpen(context: { operation?: string | undefined; correlationId?: string | undefined }): void {
    if (!this.#closed) return;
    throw new ShuttingDownError('The Vault session is closed and sends no more requests', {
      handlerType: this.#handlerType,
      operation: context.operation,
      correlationId: context.correlationId,
      hint: 'The host or secret source is stopping; send the call to a running instance.',
    });
  }

  #context(context: VaultCallContext, path: string): VaultErrorContext {
    return { target: this.target, path, handlerType: this.#handlerType, operation: context.operation, correlationId: context.correlationId };
  }

  async #approleLogin(): Promise<TokenLease> {
    const auth = this.#auth;
    if (auth.method !== 'approle') throw new Error('unreachable: AppRole login without AppRole credentials');
    const path = `auth/${auth.mountPoint ?? DEFAULT_APPROLE_MOUNT}/login`;
    const context = this.#context({ operation: 'login' }, path);
    let body: unknown;
    try {
      body = await this.#send({ method: 'POST', path, body: { role_id: auth.roleId.reveal(), secret_id: auth.secretId.reveal() } }, undefined, context, undefined);
    } catch (error) {
      // AppRole answers a bad role_id or secret_id with 400 "invalid role or secret ID".
      if (vaultApiFailure(error)?.statusCode === 400) {
        throw vaultPermissionDenied(context, 'AppRole login', 400, 'Check role_id and secret_id (a secret_id expires or runs out of uses) and the AppRole mount point.');
      }
      throw mapVaultError(error, context, 'AppRole login');
    }
    const parsed = authSchema.safeParse(body);
    if (!parsed.success) throw unexpectedVaultResponse(context, 'AppRole login response');
    return this.#leaseOf(parsed.data.auth);
  }

  async #lookupToken(token: SecretString): Promise<TokenLease> {
    const context = this.#context({ operation: 'login' }, 'auth/token/lookup-self');
    let body: unknown;
    try {
      body = await this.#send({ method: 'GET', path: 'auth/token/lookup-self' }, token, context, undefined);
    } catch (error) {
      throw mapVaultError(error, context, 'Vault token lookup');
    }
    const parsed = lookupSchema.safeParse(body);
    if (!parsed.success) throw unexpectedVaultResponse(context, 'Token lookup response');
    const { ttl, renewable } = parsed.data.data;
    return { token, ttlSeconds: ttl, renewable: renewable ?? false, expiresAt: ttl > 0 ? this.#scheduler.now() + ttl * 1000 : undefined };
  }

  async #renewSelf(incrementSeconds: number | undefined, context: VaultErrorContext, signal: CancellationSignal | undefined): Promise<TokenLease> {
    const current = this.#lease;
    let body: unknown;
    try {
      body = await this.#send(
        { method: 'POST', path: 'auth/token/renew-self', body: incrementSeconds === undefined ? {} : { increment: `${incrementSeconds}s` } },
        current?.token,
        context,
        signal,
      );
    } catch (error) {
      throw mapVaultError(error, context, 'Vault token renewal');
    }
    const parsed = authSchema.safeParse(body);
    if (!parsed.success) throw unexpectedVaultResponse(context, 'Token renewal response');
    const lease = this.#leaseOf(parsed.data.auth);
    // Vault grants less than the role's TTL once the token nears its max TTL: renewing
    // again will not help, so AppRole logs in afresh next time.
    this.#capped = current !== undefined && lease.ttlSeconds < current.ttlSeconds && incrementSeconds === undefined;
    this.#renewals += 1;
    this.#warning = undefined;
    this.#adopt(lease);
    return lease;
  }

  #leaseOf(auth: z.output<typeof authSchema>['auth']): TokenLease {
    const ttl = auth.lease_duration;
    return { token: SecretString.of(auth.client_token), ttlSeconds: ttl, renewable: auth.renewable, expiresAt: ttl > 0 ? this.#scheduler.now() + ttl * 1000 : undefined };
  }

  /** Takes a fresh lease and plans the next renewal (or re-login) at the ratio of its TTL. */
  #adopt(lease: TokenLease): void {
    this.#lease = lease;
    this.#timer?.cancel();
    this.#timer = undefined;
    if (this.#closed || lease.expiresAt === undefined) return;
    // A non-renewable token with a TTL can only be replaced by a new login.
    if (!lease.renewable && this.#auth.method !== 'approle') return;
    this.#schedule(lease.ttlSeconds * 1000 * this.#ratio);
  }

  #schedule(delayMs: number): void {
    this.#timer?.cancel();
    this.#timer = this.#scheduler.setTimeout(() => {
      this.#timer = undefined;
      void this.#refresh();
    }, Math.max(MIN_RENEW_DELAY_MS, delayMs));
  }

  /** The timer's work: renew; for AppRole, log in again when renewal cannot help or fails. */
  async #refresh(): Promise<void> {
    if (this.#closed) return;
    const lease = this.#lease;
    const approle = this.#auth.method === 'approle';
    let loggedIn = false;
    try {
      if (approle && (lease === undefined || !lease.renewable || this.#capped)) {
        loggedIn = true;
        await this.login();
        this.#logger.info({ handler_type: this.#handlerType, target: this.target, auth_method: 'approle' }, 'vault: logged in again with AppRole (token at its max TTL or not renewable)');
      } else {
        await this.#renewSelf(undefined, this.#context({ operation: 'renew_token' }, 'auth/token/renew-self'), undefined);
      }
      return;
    } catch (error) {
      if (this.#closed) return;
      let failure = asOnexError(error, this.#context({ operation: 'renew_token' }, 'auth/token/renew-self'));
      if (approle && !loggedIn) {
        try {
          await this.login();
          this.#logger.info({ handler_type: this.#handlerType, target: this.target, auth_method: 'approle' }, 'vault: token renewal failed; logged in again with AppRole');
          return;
        } catch (loginError) {
          failure = asOnexError(loginError, this.#context({ operation: 'login' }, 'auth/approle/login'));
        }
      }
      this.#afterFailure(failure);
    }
  }

  /**
   * A renewal (and, for AppRole, a re-login) failed. A transient failure is tried again
   * while the token is still valid; a refusal, or token auth with nothing left to renew,
   * loses the token for good and says what a person must do.
   */
  #afterFailure(failure: OnexError): void {
    const remaining = (this.#lease?.expiresAt ?? Number.POSITIVE_INFINITY) - this.#scheduler.now();
    const fields = { handler_type: this.#handlerType, target: this.target, auth_method: this.#auth.method, error_code: failure.code, error_message: failure.message };
    if (failure.retryable && remaining > 0) {
      this.#warning = `token renewal failed (${failure.code}); trying again while the token is valid`;
      this.#logger.warn({ ...fields, remaining_ms: Number.isFinite(remaining) ? remaining : null }, 'vault: token renewal failed; will try again');
      this.#schedule(Number.isFinite(remaining) ? remaining / 2 : 30_000);
      return;
    }
    if (failure.retryable) {
      // The token is gone, Vault is still unreachable: keep trying so the session recovers.
      this.#warning = `Vault is not reachable to renew or replace the token (${failure.code})`;
      this.#logger.warn(fields, 'vault: token expired and Vault is not reachable; will try again');
      this.#schedule(Math.min(30_000, Math.max(1_000, this.#timeoutMs)));
      return;
    }
    this.#fatal =
      this.#auth.method === 'approle'
        ? `AppRole login was refused (${failure.code}): the role_id or secret_id is no longer valid; give the host a new secret_id and restart it`
        : `the Vault token can no longer be renewed (${failure.code}: revoked, expired or past its max TTL) and token auth cannot log in again; give the host a new token, or use AppRole, and restart it`;
    this.#logger.error(fields, `vault: ${this.#fatal}`);
  }

  /** One request, raced against the deadline and the caller's signal. */
  #send(call: VaultCall, token: SecretString | undefined, context: VaultErrorContext, signal: CancellationSignal | undefined): Promise<unknown> {
    if (signal?.aborted === true) return Promise.reject(abortError(signal, context));
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (settle: () => void): void => {
        if (settled) return;
        settled = true;
        timer.cancel();
        signal?.removeEventListener('abort', onAbort);
        settle();
      };
      // node-vault forwards no AbortSignal: an aborted call is abandoned (its answer is
      // ignored); the socket itself ends at the HTTP client's timeout.
      const onAbort = (): void => finish(() => reject(abortError(signal as CancellationSignal, context)));
      const timer = this.#scheduler.setTimeout(() => finish(() => reject(vaultTimeoutError(context))), this.#timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#transport
        .send({ method: call.method, path: call.path, body: call.body, token: token?.reveal(), timeoutMs: this.#timeoutMs })
        .then(
          (body) => finish(() => resolve(body)),
          (error: unknown) => finish(() => reject(error)),
        );
    });
  }
}

function abortError(signal: CancellationSignal, context: VaultErrorContext): OnexError {
  if (isOnexError(signal.reason)) return signal.reason;
  const error = vaultTimeoutError(context, 'Vault request (cancelled: the caller gave up)');
  return error;
}

function asOnexError(error: unknown, context: VaultErrorContext): OnexError {
  return isOnexError(error) ? error : mapVaultError(error, context);
}

/** Opens a session: builds it and logs in. */
export async function openVaultSession(options: VaultSessionOptions): Promise<VaultSession> {
  const session = new VaultSession(options);
  try {
    await session.login();
  } catch (error) {
    session.close();
    throw error;
  }
  return session;
}
