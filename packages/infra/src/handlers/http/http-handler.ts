import { InvalidOperationError, HandlerConfigurationError, type HandlerInvocationContext, type JsonValue, type OnexEnvelope } from '@onex/core';
import type { HandlerDescription, HandlerHealth, ProtocolHandler } from '@onex/spi';
import { Agent } from 'undici';
import { silentLogger, type Logger } from '../../logging/logger.js';
import { parseHttpHandlerConfig, type HttpHandlerConfig, type ResolvedHttpHandlerConfig } from './http-config.js';
import { mapHttpError, notInitializedError, safeTarget, shuttingDownError, type HttpCallContext } from './http-errors.js';
import { HttpExchange } from './http-exchange.js';
import { HTTP_OPERATIONS, isHttpOperation, parseHttpPayload } from './http-payload.js';

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
  /** Receives debug lines (method, origin, path length, status, duration; never headers or query). @default silentLogger */
  readonly logger?: Logger;
}

/**
 * Outbound HTTP client handler: operations `http.get|post|put|patch|delete|head`.
 *
 * Payload: `url` (required; absolute, or relative to `baseUrl`), `headers`, `query`,
 * `body` (objects/arrays sent as JSON; not for get/head), `timeout_ms`.
 * Response: `{ status_code, headers, body, body_parse_error? }` — any status, 2xx or not.
 *
 * Error modes: unknown operation → INVALID_OPERATION; bad payload →
 * ENVELOPE_VALIDATION_ERROR; deadline → INFRA_TIMEOUT; refused/reset/DNS →
 * INFRA_CONNECTION_ERROR; body over `maxResponseBytes` → INFRA_RESPONSE_TOO_LARGE;
 * before initialize → HANDLER_EXECUTION_ERROR; after shutdown → SHUTTING_DOWN.
 *
 * One pooled undici `Agent` serves every request for the handler's lifetime; each
 * request is one {@link HttpExchange} with a single deadline timer.
 */
export class HttpHandler implements ProtocolHandler<HttpHandlerConfig> {
  readonly handlerType = 'http' as const;

  readonly #logger: Logger;
  #state: HttpHandlerState = 'created';
  #config: ResolvedHttpHandlerConfig | undefined;
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
    this.#agent = new Agent({
      connections: resolved.connections,
      connect: { timeout: resolved.timeoutMs },
      headersTimeout: resolved.timeoutMs,
      bodyTimeout: resolved.timeoutMs,
    });
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
    if (this.#state !== 'ready' || agent === undefined || config === undefined) throw notInitializedError({ operation, correlationId });
    if (!isHttpOperation(operation)) throw unsupportedOperation(operation, correlationId);

    const spec = parseHttpPayload(operation, envelope.payload, { baseUrl: config.baseUrl }, { correlationId });
    const ctx: HttpCallContext = {
      operation,
      method: spec.method,
      correlationId,
      target: safeTarget(spec.url),
      timeoutMs: spec.timeoutMs ?? config.timeoutMs,
      maxResponseBytes: config.maxResponseBytes,
    };
    const path = `${spec.url.pathname}${spec.url.search}`;
    // The debug line is the only use of the clock; skip both when nobody listens.
    const started = this.#logger.isLevelEnabled('debug') ? performance.now() : undefined;
    const exchange = new HttpExchange(ctx);
    this.#inFlight += 1;
    try {
      const payload = await exchange.send(agent, { origin: spec.url.origin, path, headers: spec.headers, body: spec.body });
      this.#logDone(ctx, path.length, started, { status_code: payload.status_code });
      return payload;
    } catch (error) {
      const typed = mapHttpError(error, ctx, exchange.timedOut);
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
