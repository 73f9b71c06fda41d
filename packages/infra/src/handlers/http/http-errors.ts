import {
  ShuttingDownError,
  EnvelopeValidationError,
  HandlerExecutionError,
  InfraConnectionError,
  InfraResponseTooLargeError,
  InfraTimeoutError,
  OnexError,
  type ErrorContext,
  type JsonObject,
} from '@onex/core';
import type { HttpMethod } from './http-payload.js';

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

type Mapping = { readonly kind: 'timeout'; readonly phase: string } | {
  readonly kind: 'connection';
  readonly what: string;
  readonly hint: (target: string) => string;
};

const refusedHint = (t: string) => `Nothing accepts connections at ${t}: check the URL's host and port and that the service is running.`;
const droppedHint = () => 'The server or a proxy closed the connection; retry, and check the server logs if it persists.';
const dnsHint = (t: string) => `The host name of ${t} could not be resolved: check the URL and the DNS configuration.`;
const routeHint = (t: string) => `No network route to ${t}: check the host, firewalls and network configuration.`;

/** undici and Node.js error codes → category. Anything absent falls through to HANDLER_EXECUTION_ERROR. */
const CODE_MAP: Readonly<Record<string, Mapping>> = {
  UND_ERR_CONNECT_TIMEOUT: { kind: 'timeout', phase: 'connect' },
  ETIMEDOUT: { kind: 'timeout', phase: 'connect' },
  UND_ERR_HEADERS_TIMEOUT: { kind: 'timeout', phase: 'headers' },
  UND_ERR_BODY_TIMEOUT: { kind: 'timeout', phase: 'body' },
  ECONNREFUSED: { kind: 'connection', what: 'connection refused', hint: refusedHint },
  ECONNRESET: { kind: 'connection', what: 'connection reset', hint: droppedHint },
  ECONNABORTED: { kind: 'connection', what: 'connection aborted', hint: droppedHint },
  EPIPE: { kind: 'connection', what: 'connection closed while sending', hint: droppedHint },
  UND_ERR_SOCKET: { kind: 'connection', what: 'socket closed unexpectedly', hint: droppedHint },
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: { kind: 'connection', what: 'response body did not match its content-length', hint: droppedHint },
  ENOTFOUND: { kind: 'connection', what: 'host not found (DNS)', hint: dnsHint },
  EAI_AGAIN: { kind: 'connection', what: 'temporary DNS failure', hint: dnsHint },
  EHOSTUNREACH: { kind: 'connection', what: 'host unreachable', hint: routeHint },
  EHOSTDOWN: { kind: 'connection', what: 'host down', hint: routeHint },
  ENETUNREACH: { kind: 'connection', what: 'network unreachable', hint: routeHint },
  ENETDOWN: { kind: 'connection', what: 'network down', hint: routeHint },
};

const TLS_CODE = /^(ERR_TLS_|ERR_SSL_)|CERT|SELF_SIGNED|UNABLE_TO_/;

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
  const mapping = code === undefined ? undefined : CODE_MAP[code];
  const isTimeoutName = error instanceof Error && error.name === 'TimeoutError';

  if (timedOut || mapping?.kind === 'timeout' || isTimeoutName) {
    const phase = mapping?.kind === 'timeout' ? mapping.phase : 'response';
    return new InfraTimeoutError(`${what} timed out after ${ctx.timeoutMs} ms (waiting for ${phase})`, infraOptions(ctx, error,
      { ...errorCode, timeout_ms: ctx.timeoutMs, phase },
      'The server did not answer in time: check that it is healthy, or raise payload.timeout_ms or the handler timeoutMs.'));
  }
  if (mapping?.kind === 'connection') {
    return new InfraConnectionError(`${what} failed: ${mapping.what} (${code})`, infraOptions(ctx, error, errorCode, mapping.hint(ctx.target)));
  }
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
  return new ShuttingDownError('The http handler is shut down and accepts no more requests', {
    handlerType: 'http',
    operation: context.operation,
    correlationId: context.correlationId,
    hint: 'The runtime host is stopping; send the envelope again to a running instance.',
  });
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
