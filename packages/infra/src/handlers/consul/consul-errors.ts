/**
 * The one funnel from whatever the `consul` package (and papi, its HTTP client, and
 * node:http under it) threw into a typed error. Messages name the operation and the agent
 * (`http://host:port`) only; Consul's own text is kept for 4xx answers after it went
 * through the sanitizer with the token as a known secret, and KV keys appear only as
 * `sanitizeConsulKey` shows them.
 */
import {
  HandlerExecutionError,
  InfraAuthenticationError,
  InfraConnectionError,
  InfraRateLimitedError,
  InfraTimeoutError,
  InfraUnavailableError,
  OnexError,
  isOnexError,
  sanitizeMessage,
  type JsonObject,
  type SecretString,
} from '@onex/core';

/** What every error of one call carries. */
export interface ConsulCallContext {
  readonly operation: string;
  readonly correlationId: string | undefined;
  /** `http://host:port` of the agent. */
  readonly target: string;
  readonly timeoutMs: number;
  /** Redacted by value wherever Consul's text is quoted. */
  readonly token: SecretString | undefined;
}

/** Node.js codes of a connection that could not be made or was lost. */
const CONNECTION_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'EHOSTDOWN',
  'ENETUNREACH', 'ENETDOWN', 'EADDRNOTAVAIL', 'ENOTCONN', 'ETIMEDOUT',
]);

/** Longest piece of Consul's own text an error quotes. */
const MAX_QUOTED = 300;

/**
 * A KV key as errors and logs may show it: its first segment, the rest masked. Keys can
 * carry names of people or tenants further down (`users/alice@example.com/...`).
 */
export function sanitizeConsulKey(key: string): string {
  const slash = key.indexOf('/');
  const head = (slash === -1 ? key : key.slice(0, slash)).slice(0, 64);
  return slash === -1 || slash === key.length - 1 ? head + (slash === -1 ? '' : '/') : `${head}/***`;
}

interface PapiLike {
  readonly isPapi?: unknown;
  readonly isResponse?: unknown;
  readonly isTimeout?: unknown;
  readonly isAbort?: unknown;
  readonly isValidation?: unknown;
  readonly response?: { readonly statusCode?: unknown; readonly body?: unknown };
  readonly code?: unknown;
  readonly cause?: unknown;
  readonly message?: unknown;
}

function asPapi(error: unknown): PapiLike {
  return typeof error === 'object' && error !== null ? (error as PapiLike) : {};
}

/** The most specific Node.js `code` in an error or its cause chain. */
function errorCodeOf(error: unknown, depth = 0): string | undefined {
  if (depth > 4) return undefined;
  const e = asPapi(error);
  if (typeof e.code === 'string' && e.code !== '') return e.code;
  return e.cause === undefined ? undefined : errorCodeOf(e.cause, depth + 1);
}

/** Consul's answer, without the package's `consul: <method>:` prefix, sanitized and cut short. */
function consulText(error: unknown, ctx: ConsulCallContext): string {
  const e = asPapi(error);
  const rawBody = e.response?.body;
  // papi leaves a body without a text content type as a Buffer.
  const body = Buffer.isBuffer(rawBody) ? rawBody.toString('utf8') : rawBody;
  const raw = typeof body === 'string' && body.trim() !== '' ? body : typeof e.message === 'string' ? e.message : '';
  const text = raw.replace(/^consul: [\w.]+: /, '').trim();
  const secrets = ctx.token === undefined ? [] : [ctx.token.reveal()];
  const clean = sanitizeMessage(text, { secrets });
  return clean.length > MAX_QUOTED ? `${clean.slice(0, MAX_QUOTED)}…` : clean;
}

function infraOptions(ctx: ConsulCallContext, cause: unknown, details: JsonObject, hint: string) {
  return {
    handlerType: 'consul',
    operation: ctx.operation,
    correlationId: ctx.correlationId,
    transportType: 'consul' as const,
    target: ctx.target,
    details,
    hint,
    cause,
  };
}

function executionOptions(ctx: ConsulCallContext, cause: unknown, details: JsonObject, hint: string) {
  return { handlerType: 'consul', operation: ctx.operation, correlationId: ctx.correlationId, details: { ...details, transport_type: 'consul', target: ctx.target }, hint, cause };
}

/**
 * The caller gave up (`context.signal` aborted). Its reason wins when it is already a
 * typed error (the host says why it stopped); otherwise a timeout on the caller's side.
 */
export function cancelledConsulError(ctx: ConsulCallContext, reason: unknown): OnexError {
  if (isOnexError(reason)) return reason;
  return new InfraTimeoutError(`consul ${ctx.operation} against ${ctx.target} was cancelled: the caller stopped waiting`, infraOptions(ctx, undefined,
    { phase: 'cancelled' }, 'The caller gave up (its deadline passed or the host is stopping); the request was aborted. A write may still have reached the agent.'));
}

/**
 * Maps a failure of one call to the agent.
 * - 401/403 → InfraAuthenticationError (fix the token or its ACL policy)
 * - 429 → InfraRateLimitedError; 5xx → InfraUnavailableError (no leader, agent overloaded): retryable
 * - connection refused, reset, DNS → InfraConnectionError (retryable)
 * - the per-call timeout → InfraTimeoutError
 * - other 4xx (400 bad request, 404, 409) → HandlerExecutionError quoting Consul's sanitized text, not retryable
 * - anything else → HandlerExecutionError ("failed unexpectedly")
 */
export function mapConsulError(error: unknown, ctx: ConsulCallContext): OnexError {
  if (error instanceof OnexError) return error.withContext({ handlerType: 'consul', operation: ctx.operation, correlationId: ctx.correlationId });
  const e = asPapi(error);
  const what = `consul ${ctx.operation} against ${ctx.target}`;
  const status = typeof e.response?.statusCode === 'number' ? e.response.statusCode : undefined;
  if (e.isResponse === true && status !== undefined) {
    const details: JsonObject = { status_code: status };
    if (status === 401 || status === 403) {
      return new InfraAuthenticationError(`${what} was refused: permission denied (HTTP ${status})`, infraOptions(ctx, error, details,
        'Check the consul handler token (its secret_ref) and that its ACL policy grants this operation on this service or key.'));
    }
    if (status === 429) {
      return new InfraRateLimitedError(`${what} was rate limited by the agent (HTTP 429)`, infraOptions(ctx, error, details, 'Slow down; the agent limits requests per client.'));
    }
    if (status >= 500) {
      return new InfraUnavailableError(`${what} failed: the agent could not serve it (HTTP ${status}: ${consulText(error, ctx)})`, infraOptions(ctx, error, details,
        'Check the Consul agent and its cluster (a leader must be elected); the call can be retried.'));
    }
    return new HandlerExecutionError(`${what} was rejected (HTTP ${status}): ${consulText(error, ctx)}`, {
      ...executionOptions(ctx, error, details, 'Consul refused the request as sent; fix the payload (see the message), sending it again will not help.'),
      retryable: false,
    });
  }
  if (e.isTimeout === true || errorCodeOf(error) === 'ESOCKETTIMEDOUT') {
    return new InfraTimeoutError(`${what} timed out after ${ctx.timeoutMs} ms`, infraOptions(ctx, error, { timeout_ms: ctx.timeoutMs },
      'The agent did not answer in time: check that it is healthy, or raise the binding timeout_ms.'));
  }
  const code = errorCodeOf(error);
  if (code !== undefined && CONNECTION_CODES.has(code)) {
    return new InfraConnectionError(`Could not reach the Consul agent at ${ctx.target} (${code})`, {
      ...infraOptions(ctx, error, { error_code: code }, `Check that a Consul agent listens on ${ctx.target} and that the handler's address is right.`),
      retryable: true,
    });
  }
  if (e.isValidation === true) {
    return new HandlerExecutionError(`${what} was refused by the client library: ${consulText(error, ctx)}`, {
      ...executionOptions(ctx, error, {}, 'Fix the payload; see `onex-runtime-host describe` for the consul operations.'),
      retryable: false,
    });
  }
  const name = error instanceof Error ? error.name : typeof error;
  return new HandlerExecutionError(`${what} failed unexpectedly (${code ?? name})`, executionOptions(ctx, error, code === undefined ? {} : { error_code: code },
    'This failure is not mapped; the runtime host logs have the cause.'));
}
