import {
  type ShuttingDownError,
  EnvelopeValidationError,
  HandlerExecutionError,
  InfraConnectionError,
  InfraResponseTooLargeError,
  InfraTimeoutError,
  OnexError,
  isOnexError,
  type ErrorContext,
  type JsonObject,
} from '@onex/core';
import { DestinationRefusedError } from './http-connector.js';
import type { HttpMethod } from './http-payload.js';
import { handlerShutDownError } from '../handler-state-errors.js';

/** What every error of one request carries. `target` is an origin: never userinfo, path or query. */
export interface HttpCallContext {
  readonly operation: string;
  readonly method: HttpMethod;
  readonly correlationId: string | undefined;
  readonly target: string;
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
}

/** `scheme://host:port` of a URL: safe to log and to put in errors (no credentials, no path, no query). */
export function safeTarget(url: URL): string {
  return url.origin;
}

/**
 * Failures to reach the server at all. They all become one look-alike error (see
 * {@link couldNotConnectError}), so the handler cannot be used to map which hosts and
 * ports exist: a policy refusal, a closed port, a reset and a DNS miss read the same.
 */
const CONNECT_FAILURE_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME', 'EHOSTUNREACH', 'EHOSTDOWN', 'ENETUNREACH', 'ENETDOWN',
  'EADDRNOTAVAIL', 'ENOTCONN',
]);

/** undici and Node.js error codes of a phase that ran out of time. */
const TIMEOUT_PHASES: Readonly<Record<string, string>> = {
  UND_ERR_CONNECT_TIMEOUT: 'connect',
  ETIMEDOUT: 'connect',
  UND_ERR_HEADERS_TIMEOUT: 'headers',
  UND_ERR_BODY_TIMEOUT: 'body',
};

const TLS_CODE = /^(ERR_TLS_|ERR_SSL_)|CERT|SELF_SIGNED|UNABLE_TO_/;

/** A refusal by the address policy, wherever it sits in the cause chain. */
function destinationRefusal(error: unknown, depth = 0): DestinationRefusedError | undefined {
  if (error instanceof DestinationRefusedError) return error;
  if (typeof error !== 'object' || error === null || depth > 4) return undefined;
  const { cause, errors } = error as { cause?: unknown; errors?: unknown };
  if (Array.isArray(errors)) {
    for (const member of errors) {
      const found = destinationRefusal(member, depth + 1);
      if (found !== undefined) return found;
    }
  }
  return destinationRefusal(cause, depth + 1);
}

/**
 * Why a connection could not be made, for the host log only: `address_not_allowed` /
 * `host_not_allowed` for a policy refusal, else the driver's code (`ECONNREFUSED`, ...).
 * `undefined` when `error` is not such a failure.
 */
export function connectFailureReason(error: unknown): { reason: string; addressClass?: string } | undefined {
  const refusal = destinationRefusal(error);
  if (refusal !== undefined) return refusal.addressClass === undefined ? { reason: refusal.reason } : { reason: refusal.reason, addressClass: refusal.addressClass };
  const code = errorCodeOf(error);
  return code !== undefined && CONNECT_FAILURE_CODES.has(code) ? { reason: code } : undefined;
}

/**
 * The one error for "the server could not be reached", whatever the reason: same class,
 * code, message shape, hint and details keys for a policy refusal, a refused or reset
 * connection and a DNS failure. The real reason goes to the host log only.
 */
export function couldNotConnectError(ctx: HttpCallContext, cause: unknown): InfraConnectionError {
  return new InfraConnectionError(`Could not connect to ${ctx.target}`, infraOptions(ctx, cause, {},
    `Check that ${ctx.target} is the intended host and port, that the service runs, and that the handler's allowedDomains admits it; the runtime host log has the reason.`));
}

/**
 * The caller gave up (`context.signal` aborted). Its reason wins when it is already a
 * typed error (the host says why it stopped); otherwise this is a timeout on the caller's side.
 */
export function cancelledError(ctx: HttpCallContext, reason: unknown): OnexError {
  if (isOnexError(reason)) return reason;
  return new InfraTimeoutError(`HTTP ${ctx.method} to ${ctx.target} was cancelled: the caller stopped waiting`, infraOptions(ctx, undefined,
    { phase: 'cancelled' }, 'The caller gave up (its deadline passed or the host is stopping); the request was abandoned and its connection dropped.'));
}

/** The most specific `code` in an error, its `cause` chain or (happy eyeballs) its AggregateError members. */
export function errorCodeOf(error: unknown, depth = 0): string | undefined {
  if (typeof error !== 'object' || error === null || depth > 4) return undefined;
  const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === 'string' && code !== '') return code;
  if (Array.isArray(errors) && errors.length > 0) return errorCodeOf(errors[0], depth + 1);
  return errorCodeOf(cause, depth + 1);
}

function commonOptions(ctx: HttpCallContext, cause: unknown, details: JsonObject, hint: string) {
  return {
    handlerType: 'http',
    operation: ctx.operation,
    correlationId: ctx.correlationId,
    details: { method: ctx.method, ...details },
    hint,
    cause,
  };
}

/** Options for the Infra* errors, which put `transport_type` and `target` into details themselves. */
function infraOptions(ctx: HttpCallContext, cause: unknown, details: JsonObject, hint: string) {
  return { ...commonOptions(ctx, cause, details, hint), transportType: 'http' as const, target: ctx.target };
}

/** Options for non-infra errors, with the same `transport_type` and `target` details. */
function executionOptions(ctx: HttpCallContext, cause: unknown, details: JsonObject, hint: string) {
  return commonOptions(ctx, cause, { ...details, transport_type: 'http', target: ctx.target }, hint);
}

/**
 * The funnel from whatever undici or Node.js threw into a typed error. Messages name the
 * method and the origin only; the raw driver message stays in `cause`, for local logs.
 *
 * @param timedOut true when the handler's own overall deadline fired (the abort then surfaces as an AbortError).
 */
export function mapHttpError(error: unknown, ctx: HttpCallContext, timedOut: boolean): OnexError {
  if (error instanceof OnexError) {
    return error.withContext({ handlerType: 'http', operation: ctx.operation, correlationId: ctx.correlationId });
  }
  const code = errorCodeOf(error);
  const what = `HTTP ${ctx.method} to ${ctx.target}`;
  const errorCode: JsonObject = code === undefined ? {} : { error_code: code };
  const timeoutPhase = code === undefined ? undefined : TIMEOUT_PHASES[code];
  const isTimeoutName = error instanceof Error && error.name === 'TimeoutError';

  if (timedOut || timeoutPhase !== undefined || isTimeoutName) {
    const phase = timeoutPhase ?? 'response';
    return new InfraTimeoutError(`${what} timed out after ${ctx.timeoutMs} ms (waiting for ${phase})`, infraOptions(ctx, error,
      { ...errorCode, timeout_ms: ctx.timeoutMs, phase },
      'The server did not answer in time: check that it is healthy, or raise the handler timeoutMs (payload.timeout_ms can only lower it).'));
  }
  if (connectFailureReason(error) !== undefined) return couldNotConnectError(ctx, error);
  if (code !== undefined && TLS_CODE.test(code)) {
    return new InfraConnectionError(`${what} failed: TLS handshake rejected (${code})`, {
      ...infraOptions(ctx, error, errorCode, `Check the certificate of ${ctx.target} and its trust chain, and that the URL uses the right scheme.`),
      retryable: false,
    });
  }
  if (code?.startsWith('HPE_')) {
    return new InfraConnectionError(`${what} failed: the server sent an invalid HTTP response (${code})`, {
      ...infraOptions(ctx, error, errorCode, `Check that ${ctx.target} speaks HTTP/1.1 on that port (not TLS, not another protocol).`),
      retryable: false,
    });
  }
  if (code === 'UND_ERR_HEADERS_OVERFLOW' || code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') {
    return new InfraResponseTooLargeError(`${what} failed: response ${code === 'UND_ERR_HEADERS_OVERFLOW' ? 'headers' : 'body'} too large (${code})`,
      infraOptions(ctx, error, { ...errorCode, max_response_bytes: ctx.maxResponseBytes }, 'Ask the server for a smaller response.'));
  }
  if (code === 'UND_ERR_CLOSED' || code === 'UND_ERR_DESTROYED') return shuttingDownError(ctx);
  if (code === 'UND_ERR_INVALID_ARG' || code === 'UND_ERR_NOT_SUPPORTED') {
    const reason = error instanceof Error ? error.message : 'invalid request';
    return new EnvelopeValidationError(`${what} was rejected before sending: ${reason}`, {
      ...executionOptions(ctx, error, errorCode, 'Fix the payload headers or body; see the handler description for the payload shape.'),
    });
  }
  const name = error instanceof Error ? error.name : typeof error;
  return new HandlerExecutionError(`${what} failed unexpectedly (${code ?? name})`, {
    ...executionOptions(ctx, error, errorCode, 'This failure is not mapped; the runtime host logs have the cause.'),
  });
}

/** The body crossed `maxResponseBytes`: announced by content-length, or counted while reading. */
export function responseTooLargeError(ctx: HttpCallContext, size: { contentLength?: number; receivedBytes?: number }): InfraResponseTooLargeError {
  const details: JsonObject = { max_response_bytes: ctx.maxResponseBytes };
  if (size.contentLength !== undefined) details.content_length = size.contentLength;
  if (size.receivedBytes !== undefined) details.received_bytes = size.receivedBytes;
  return new InfraResponseTooLargeError(
    `HTTP ${ctx.method} to ${ctx.target}: response body exceeds maxResponseBytes (${ctx.maxResponseBytes} bytes)`,
    infraOptions(ctx, undefined, details,
      'Ask for less data (pagination, filters), check the size first with http.head, or raise maxResponseBytes in the handler configuration.'),
  );
}

/** execute() after shutdown() began. Retryable: another runtime instance may serve it. */
export function shuttingDownError(context: ErrorContext): ShuttingDownError {
  return handlerShutDownError('HttpHandler', { handlerType: 'http', operation: context.operation, correlationId: context.correlationId });
}

/** execute() before initialize(). */
export function notInitializedError(context: ErrorContext): HandlerExecutionError {
  return new HandlerExecutionError('The http handler was not initialized', {
    handlerType: 'http',
    operation: context.operation,
    correlationId: context.correlationId,
    hint: 'Call initialize(config) (or use createHttpHandler) before execute().',
  });
}
