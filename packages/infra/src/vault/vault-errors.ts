/**
 * Vault failures → typed errors, in one place for the handler and the secret source.
 * node-vault does not export its error classes: an API failure is recognised by
 * `err.response.statusCode` (its body's `errors` list says why), a network failure by
 * the socket error `code`. The raw error is never kept as `cause`: axios errors carry the
 * request config, headers (`X-Vault-Token`) included.
 */
import {
  HandlerExecutionError,
  InfraAuthenticationError,
  InfraConnectionError,
  InfraRateLimitedError,
  InfraTimeoutError,
  InfraUnavailableError,
  isOnexError,
  sanitizeMessage,
  type ErrorContext,
  type JsonObject,
  type OnexError,
} from '@onex/core';
import { z } from 'zod';

/** What failed and where: the server (host:port, never credentials) and the API path. */
export interface VaultErrorContext extends ErrorContext {
  readonly target: string;
  /** The API path (below /v1/), e.g. `secret/data/app/db`; names a place, never a value. */
  readonly path?: string | undefined;
}

const apiErrorSchema = z.object({
  response: z.object({
    statusCode: z.number().int(),
    body: z.unknown().optional(),
  }),
});
const errorsBodySchema = z.object({ errors: z.array(z.string()) });

/** A node-vault API failure: the HTTP status and Vault's `errors` list (possibly empty). */
export interface VaultApiFailure {
  readonly statusCode: number;
  readonly errors: readonly string[];
}

/** The status and messages of a node-vault API error, or undefined for anything else. */
export function vaultApiFailure(error: unknown): VaultApiFailure | undefined {
  const parsed = apiErrorSchema.safeParse(error);
  if (!parsed.success) return undefined;
  const body = errorsBodySchema.safeParse(parsed.data.response.body);
  return { statusCode: parsed.data.response.statusCode, errors: body.success ? body.data.errors : [] };
}

/** True for a 404 without errors: Vault's "nothing at this path". */
export function isVaultNotFound(error: unknown): boolean {
  return vaultApiFailure(error)?.statusCode === 404;
}

/** Why a failure happened, as `details.reason` on the wire. */
export type VaultFailureReason =
  | 'permission_denied'
  | 'sealed'
  | 'unavailable'
  | 'connection_failed'
  | 'timeout'
  | 'bad_request'
  | 'cas_mismatch'
  | 'rate_limited'
  | 'not_found'
  | 'unexpected_response';

/** Socket error codes that mean "the server is not there right now". */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ERR_SOCKET_CLOSED']);
/** axios reports its own timeout as ECONNABORTED (ETIMEDOUT with clarifyTimeoutError). */
const TIMEOUT_CODES = new Set(['ECONNABORTED', 'ETIMEDOUT', 'ESOCKETTIMEDOUT']);

function socketCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  // axios wraps the socket error; some versions keep its code only on `cause`.
  const cause = (error as { cause?: unknown }).cause;
  return cause === error ? undefined : socketCode(cause);
}

/** Vault's first error message, trimmed and scrubbed: it may echo request data. */
function vaultMessage(failure: VaultApiFailure): string {
  const text = failure.errors.join('; ').replace(/\s+/g, ' ').trim();
  const short = text.length > 300 ? `${text.slice(0, 300)}…` : text;
  return sanitizeMessage(short.length > 0 ? short : `HTTP ${failure.statusCode}`);
}

const SEALED_RE = /\bsealed\b/i;
const CAS_RE = /check-and-set|\bcas\b/i;

/**
 * Maps any failure of a Vault call to a typed error. Callers deal with 404 themselves
 * (see {@link isVaultNotFound}) where "not found" is an answer, not a failure.
 */
export function mapVaultError(error: unknown, context: VaultErrorContext, what = 'Vault request'): OnexError {
  if (isOnexError(error)) return error.withContext(context);
  const base = { correlationId: context.correlationId, handlerType: context.handlerType, operation: context.operation, transportType: 'vault' as const, target: context.target };
  const where = context.path === undefined ? context.target : `${context.target} (${context.path})`;
  const details = (reason: VaultFailureReason, extra: JsonObject = {}): JsonObject => {
    const out: JsonObject = { reason, transport_type: 'vault', target: context.target, ...extra };
    if (context.path !== undefined) out.path = context.path;
    return out;
  };

  const failure = vaultApiFailure(error);
  if (failure !== undefined) {
    const status = failure.statusCode;
    const message = vaultMessage(failure);
    if (status === 503 || failure.errors.some((e) => SEALED_RE.test(e))) {
      const sealed = failure.errors.some((e) => SEALED_RE.test(e));
      return new InfraUnavailableError(`${what} to ${where} failed: Vault is ${sealed ? 'sealed' : 'unavailable'} (HTTP ${status}: ${message})`, {
        ...base,
        retryable: true,
        details: details(sealed ? 'sealed' : 'unavailable', { status_code: status }),
        hint: sealed ? 'An operator must unseal Vault (bao/vault operator unseal); the call can be sent again afterwards.' : 'Vault is in standby or maintenance; send the call again later.',
      });
    }
    if (status === 401 || status === 403) return vaultPermissionDenied(context, what, status);
    if (status === 429) {
      return new InfraRateLimitedError(`${what} to ${where} was rate limited (HTTP 429)`, {
        ...base,
        retryable: true,
        details: details('rate_limited', { status_code: status }),
        hint: 'Send the call again after a pause, or raise the Vault rate-limit quota.',
      });
    }
    if (status >= 500 || status === 412) {
      return new InfraUnavailableError(`${what} to ${where} failed: Vault answered HTTP ${status} (${message})`, {
        ...base,
        retryable: true,
        details: details('unavailable', { status_code: status }),
        hint: 'Vault could not serve the call right now; send it again later and check the Vault server log.',
      });
    }
    if (status === 400 && failure.errors.some((e) => CAS_RE.test(e))) {
      return new HandlerExecutionError(`${what} to ${where} failed: check-and-set mismatch (${message})`, {
        ...base,
        retryable: false,
        details: details('cas_mismatch', { status_code: status }),
        hint: 'The secret changed since the version you passed as cas; read it again, then write with its current version (cas: 0 writes only when the secret does not exist).',
      });
    }
    if (status === 404) {
      return new HandlerExecutionError(`${what} to ${where} failed: nothing at this path (HTTP 404${failure.errors.length > 0 ? `: ${message}` : ''})`, {
        ...base,
        retryable: false,
        details: details('not_found', { status_code: status }),
        hint: 'Check the path and that the secrets engine is mounted there (KV v2 paths need "data/" after the mount).',
      });
    }
    return new HandlerExecutionError(`${what} to ${where} was rejected (HTTP ${status}: ${message})`, {
      ...base,
      retryable: false,
      details: details('bad_request', { status_code: status }),
      hint: 'Vault refused the request as malformed; check the path and the payload.',
    });
  }

  const code = socketCode(error);
  if (code !== undefined && TIMEOUT_CODES.has(code)) return vaultTimeoutError(context, what);
  if (code !== undefined && CONNECTION_CODES.has(code)) {
    return new InfraUnavailableError(`${what} to ${where} failed: Vault is not reachable (${code})`, {
      ...base,
      retryable: true,
      details: details('connection_failed', { socket_code: code }),
      hint: 'Check that Vault runs and that the address is right; the call can be sent again.',
    });
  }
  return new InfraConnectionError(`${what} to ${where} failed${code === undefined ? '' : ` (${code})`}`, {
    ...base,
    retryable: true,
    details: details('connection_failed', code === undefined ? {} : { socket_code: code }),
    hint: 'Check that Vault runs and that the address is right; the call can be sent again.',
  });
}

/** Vault refused the credentials or the token's policy does not allow the call. Not retryable. */
export function vaultPermissionDenied(context: VaultErrorContext, what: string, status: number, hint?: string): InfraAuthenticationError {
  const where = context.path === undefined ? context.target : `${context.target} (${context.path})`;
  return new InfraAuthenticationError(`${what} to ${where} was refused: permission denied (HTTP ${status})`, {
    correlationId: context.correlationId,
    handlerType: context.handlerType,
    operation: context.operation,
    transportType: 'vault',
    target: context.target,
    retryable: false,
    details: { reason: 'permission_denied', status_code: status, ...(context.path === undefined ? {} : { path: context.path }) },
    hint: hint ?? "Grant the token's policy access to this path (and capability), or check that the token is still valid.",
  });
}

/** The call did not finish within its budget. */
export function vaultTimeoutError(context: VaultErrorContext, what = 'Vault request'): InfraTimeoutError {
  const where = context.path === undefined ? context.target : `${context.target} (${context.path})`;
  return new InfraTimeoutError(`${what} to ${where} did not answer in time`, {
    correlationId: context.correlationId,
    handlerType: context.handlerType,
    operation: context.operation,
    transportType: 'vault',
    target: context.target,
    retryable: true,
    details: context.path === undefined ? { reason: 'timeout' } : { reason: 'timeout', path: context.path },
    hint: 'Vault was slow or unreachable; send the call again, or raise timeout_ms.',
  });
}

/** A response that does not have the shape the Vault API documents. */
export function unexpectedVaultResponse(context: VaultErrorContext, what: string): HandlerExecutionError {
  return new HandlerExecutionError(`${what} from ${context.target} had an unexpected shape`, {
    correlationId: context.correlationId,
    handlerType: context.handlerType,
    operation: context.operation,
    retryable: false,
    details: { reason: 'unexpected_response', transport_type: 'vault', target: context.target, ...(context.path === undefined ? {} : { path: context.path }) },
    hint: 'Check that the address points at Vault or OpenBao and that the mount is a KV version 2 engine.',
  });
}

/** `host:port` of an address, for messages (never user info). */
export function vaultTarget(address: string): string {
  try {
    const url = new URL(address);
    return `${url.protocol}//${url.host}`;
  } catch {
    return 'vault';
  }
}
