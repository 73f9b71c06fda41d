import { EnvelopeValidationError, InvalidOperationError, HandlerConfigurationError, type HandlerInvocationContext, type JsonValue, type OnexEnvelope } from '@onex/core';
import type { HandlerDescription, HandlerHealth, ProtocolHandler } from '@onex/spi';
import { Agent } from 'undici';
import { silentLogger, type Logger } from '../../logging/logger.js';
import { AddressPolicy } from './http-address-policy.js';
import { ORIGIN_HOST_HEADER, parseHttpHandlerConfig, type HttpHandlerConfig, type ResolvedHttpHandlerConfig } from './http-config.js';
import { DestinationRefusedError, guardedConnector } from './http-connector.js';
import { connectFailureReason, mapHttpError, notInitializedError, safeTarget, shuttingDownError, type HttpCallContext } from './http-errors.js';
import { HttpExchange } from './http-exchange.js';
import { HTTP_OPERATIONS, isHttpOperation, parseHttpPayload, type HttpOperation } from './http-payload.js';

/** Version reported by `describe()`; follows the @onex/infra package version. */
export const HTTP_HANDLER_VERSION = '0.1.0';

/**
 * Lifecycle of an HttpHandler:
 * - `created`: constructed, no pool yet; `execute` fails (not initialized).
 * - `ready`: `initialize` succeeded; the pool serves requests.
 * - `shut_down`: `shutdown` began; `execute` fails with SHUTTING_DOWN. Terminal.
 */
export type HttpHandlerState = 'created' | 'ready' | 'shut_down';

export interface HttpHandlerOptions {
  /**
   * Receives debug lines (method, origin, path length, status, duration; never headers or
   * query) and a warn line with the real `reason` whenever a destination could not be
   * reached, since callers only see a look-alike error. @default silentLogger
   */
  readonly logger?: Logger;
}

/**
 * Outbound HTTP client handler: operations `http.get|post|put|patch|delete|head`.
 *
 * Payload: `url` (required; absolute, or relative to `baseUrl`), `headers`, `query`,
 * `body` (objects/arrays sent as JSON; not for get/head), `timeout_ms`.
 * Response: `{ status_code, headers, body, body_parse_error? }` — any status, 2xx or not.
 *
 * Error modes: unknown operation → INVALID_OPERATION; bad payload (or a payload that
 * sets `x-onex-origin-host`) → ENVELOPE_VALIDATION_ERROR; deadline or caller
 * cancellation → INFRA_TIMEOUT; destination refused by policy, connection refused or
 * reset, DNS failure → one look-alike INFRA_CONNECTION_ERROR ("Could not connect to
 * <origin>"; the reason is logged, never returned); body over `maxResponseBytes` →
 * INFRA_RESPONSE_TOO_LARGE; before initialize → HANDLER_EXECUTION_ERROR; after shutdown
 * → SHUTTING_DOWN.
 *
 * Outbound policy (SSRF): only hosts `allowedDomains` admits, and never a loopback,
 * private, link-local (metadata), CGNAT, multicast or reserved address unless listed
 * (see {@link HttpHandlerConfig.allowedDomains}). The URL host is checked first, then
 * every DNS answer and the connected socket's peer address, so alternative notations
 * and DNS rebinding are caught. Redirects are never followed: a 3xx is returned as
 * the response, `location` header included, and following it is the caller's decision
 * (a new request, checked again).
 *
 * Timeouts: the handler's `timeoutMs` is the maximum; `payload.timeout_ms` may only
 * lower it. `context.signal` cancels a request in flight (the connection is dropped).
 *
 * One pooled undici `Agent` serves every request for the handler's lifetime; each
 * request is one {@link HttpExchange} with a single deadline timer.
 */
export class HttpHandler implements ProtocolHandler<HttpHandlerConfig> {
  readonly handlerType = 'http' as const;

  readonly #logger: Logger;
  #state: HttpHandlerState = 'created';
  #config: ResolvedHttpHandlerConfig | undefined;
  #policy: AddressPolicy | undefined;
  #agent: Agent | undefined;
  #shutdown: Promise<void> | undefined;
  #inFlight = 0;

  constructor(options: HttpHandlerOptions = {}) {
    this.#logger = options.logger ?? silentLogger;
  }

  get state(): HttpHandlerState {
    return this.#state;
  }

  /**
   * Validates `config` and opens the connection pool.
   *
   * @throws HandlerConfigurationError for invalid options or a second initialize.
   * @throws HandlerExecutionError (SHUTTING_DOWN) after shutdown.
   */
  async initialize(config: HttpHandlerConfig = {}): Promise<void> {
    if (this.#state === 'shut_down') throw shuttingDownError({});
    if (this.#state === 'ready') {
      throw new HandlerConfigurationError('The http handler is already initialized', {
        handlerType: 'http',
        hint: 'Call initialize() once per handler; create a new HttpHandler for a different configuration.',
      });
    }
    const resolved = parseHttpHandlerConfig(config);
    const policy = new AddressPolicy(resolved.allowedDomains);
    this.#agent = new Agent({
      connections: resolved.connections,
      // Every connection the pool opens goes through the address policy.
      connect: guardedConnector(policy, resolved.timeoutMs),
      headersTimeout: resolved.timeoutMs,
      bodyTimeout: resolved.timeoutMs,
    });
    this.#policy = policy;
    this.#config = resolved;
    this.#state = 'ready';
  }

  /**
   * Executes one request and resolves to its `HttpResponsePayload`.
   *
   * @throws InvalidOperationError, HandlerExecutionError, InfraTimeoutError,
   *   InfraConnectionError or InfraResponseTooLargeError (see the class comment).
   */
  async execute(envelope: OnexEnvelope, context: HandlerInvocationContext): Promise<JsonValue> {
    const operation = envelope.operation;
    const correlationId = context.correlationId ?? envelope.correlationId;
    if (this.#state === 'shut_down') throw shuttingDownError({ operation, correlationId });
    const agent = this.#agent;
    const config = this.#config;
    const policy = this.#policy;
    if (this.#state !== 'ready' || agent === undefined || config === undefined || policy === undefined) {
      throw notInitializedError({ operation, correlationId });
    }
    if (!isHttpOperation(operation)) throw unsupportedOperation(operation, correlationId);

    const spec = parseHttpPayload(operation, envelope.payload, { baseUrl: config.baseUrl?.reveal() }, { correlationId });
    const headers = withOriginMarker(spec.headers, config.hostId, operation, correlationId);
    const ctx: HttpCallContext = {
      operation,
      method: spec.method,
      correlationId,
      target: safeTarget(spec.url),
      // The configured timeout is the contract's maximum: a payload may only shorten it.
      timeoutMs: Math.min(spec.timeoutMs ?? config.timeoutMs, config.timeoutMs),
      maxResponseBytes: config.maxResponseBytes,
    };
    const path = `${spec.url.pathname}${spec.url.search}`;
    // The debug line is the only use of the clock; skip both when nobody listens.
    const started = this.#logger.isLevelEnabled('debug') ? performance.now() : undefined;
    const exchange = new HttpExchange(ctx);
    this.#inFlight += 1;
    try {
      // Fails fast on a host the policy refuses outright; the connector re-checks what DNS returns.
      const refusal = policy.checkHost(spec.url.hostname);
      if (refusal !== undefined) throw new DestinationRefusedError(refusal);
      const payload = await exchange.send(agent, { origin: spec.url.origin, path, headers, body: spec.body, signal: context.signal });
      this.#logDone(ctx, path.length, started, { status_code: payload.status_code });
      return payload;
    } catch (error) {
      const typed = mapHttpError(error, ctx, exchange.timedOut);
      this.#logConnectFailure(ctx, error);
      this.#logDone(ctx, path.length, started, { error_code: typed.code });
      throw typed;
    } finally {
      this.#inFlight -= 1;
    }
  }

  /**
   * Stops accepting requests and closes the pool, letting in-flight requests finish
   * (each is bounded by its timeout). Exactly once: later calls return the same promise.
   */
  shutdown(): Promise<void> {
    this.#shutdown ??= this.#close();
    return this.#shutdown;
  }

  async #close(): Promise<void> {
    this.#state = 'shut_down';
    const agent = this.#agent;
    this.#agent = undefined;
    if (agent === undefined) return;
    try {
      await agent.close();
    } catch {
      await agent.destroy().catch(() => undefined);
    }
  }

  async healthCheck(): Promise<HandlerHealth> {
    const config = this.#config;
    return {
      healthy: this.#state === 'ready',
      handler_type: 'http',
      initialized: config !== undefined,
      state: this.#state,
      timeout_ms: config?.timeoutMs ?? null,
      max_response_bytes: config?.maxResponseBytes ?? null,
      connections: config?.connections ?? null,
      // A count, not the hosts: null means "any public destination".
      allowed_domains: this.#policy?.allowListSize ?? null,
      in_flight: this.#inFlight,
    };
  }

  describe(): HandlerDescription {
    return {
      handlerType: 'http',
      supportedOperations: [...HTTP_OPERATIONS],
      requiredPayloadFields: Object.fromEntries(HTTP_OPERATIONS.map((op) => [op, ['url']])),
      responseShape:
        '{ status_code: number, headers: Record<string, string>, body: JSON | string | null, body_parse_error?: true }',
      version: HTTP_HANDLER_VERSION,
    };
  }

  /** The real reason behind a look-alike "Could not connect" error: for operators only. */
  #logConnectFailure(ctx: HttpCallContext, error: unknown): void {
    const failure = connectFailureReason(error);
    if (failure === undefined) return;
    this.#logger.warn({
      handler_type: 'http',
      operation: ctx.operation,
      method: ctx.method,
      origin: ctx.target,
      correlation_id: ctx.correlationId,
      reason: failure.reason,
      ...(failure.addressClass === undefined ? {} : { address_class: failure.addressClass }),
    }, 'http destination could not be reached');
  }

  #logDone(ctx: HttpCallContext, pathLength: number, started: number | undefined, outcome: Record<string, string | number>): void {
    if (started === undefined) return;
    this.#logger.debug({
      handler_type: 'http',
      operation: ctx.operation,
      method: ctx.method,
      origin: ctx.target,
      path_length: pathLength,
      duration_ms: Math.round(performance.now() - started),
      correlation_id: ctx.correlationId,
      ...outcome,
    }, 'http request finished');
  }
}

/**
 * The request headers with the self-call marker added. A payload may never carry the
 * marker itself: it would let a caller impersonate a host, or dodge the self-call check.
 */
function withOriginMarker(
  headers: Record<string, string>,
  hostId: string | undefined,
  operation: HttpOperation,
  correlationId: string | undefined,
): Record<string, string> {
  for (const name of Object.keys(headers)) {
    if (name.toLowerCase() === ORIGIN_HOST_HEADER) {
      throw new EnvelopeValidationError(`Invalid ${operation} payload: payload.headers.${name} is set by the runtime host, not by callers`, {
        handlerType: 'http',
        operation,
        correlationId,
        details: { issues: [{ path: `payload.headers.${name}`, message: 'is reserved for the runtime host' }] },
        hint: `Remove the ${ORIGIN_HOST_HEADER} header from the payload; the handler adds it itself.`,
      });
    }
  }
  return hostId === undefined ? headers : { ...headers, [ORIGIN_HOST_HEADER]: hostId };
}

function unsupportedOperation(operation: string, correlationId: string | undefined): InvalidOperationError {
  return new InvalidOperationError(
    `Operation "${operation}" is not supported by the http handler. Supported: ${HTTP_OPERATIONS.join(', ')}`,
    {
      handlerType: 'http',
      operation,
      correlationId,
      details: { supported_operations: [...HTTP_OPERATIONS] },
      hint: 'Use one of the supported operations, e.g. "http.get".',
    },
  );
}

/** Creates an HttpHandler and initializes it with `config`: the one entry point the app wires. */
export async function createHttpHandler(config: HttpHandlerConfig = {}, options: HttpHandlerOptions = {}): Promise<HttpHandler> {
  const handler = new HttpHandler(options);
  await handler.initialize(config);
  return handler;
}
