/**
 * The host's HTTP front door. Everything that reaches it may be hostile: a browser page on
 * another site, a caller without a token, a client holding thousands of idle sockets, this
 * very host calling itself through its http handler. Each is refused before any work starts,
 * and every refusal is an error envelope like any other, with a correlation id.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  IngressBodyTooLargeError,
  IngressForbiddenError,
  IngressInsecureConfigurationError,
  IngressLoopDetectedError,
  IngressMethodNotAllowedError,
  IngressRouteNotFoundError,
  IngressUnauthenticatedError,
  IngressUnsupportedMediaTypeError,
  isOnexErrorCode,
  ONEX_ERROR_CODES,
  RUNTIME_HOST_DEFAULTS,
  serializeEnvelope,
  toOnexError,
  type OnexEnvelope,
  type OnexError,
  type RateLimit,
  type SecretString,
} from '@onex/core';
import { withRuntimeId, type Logger } from '../logging/logger.js';
import { WarningLimiter } from '../logging/warning-limiter.js';
import type { TraceHeaders } from '../tracing/trace-context.js';
import { ingressListenError } from './ingress-listen-error.js';
import { IngressRateLimiter, ingressClientKey, ingressRateLimitedError } from './ingress-rate-limiter.js';
import type { RuntimeHostProcess } from './runtime-host-process.js';
import { systemScheduler, type Scheduler } from './scheduler.js';

/** Header outbound http handler calls carry: the id of the host that made them. */
export const ONEX_ORIGIN_HOST_HEADER = 'x-onex-origin-host';

/** A client allowed to call the ingress, with its resolved token. */
export interface IngressClientToken {
  readonly client: string;
  /** The bearer token; a SecretString (as the host resolves it) is revealed only to hash it. */
  readonly token: string | SecretString;
}

export interface IngressOptions {
  /** @default "127.0.0.1" */
  readonly host?: string;
  /** 0 picks a free port. @default 8085 */
  readonly port?: number;
  /** How long `POST /v1/envelopes` waits for the response; then 504 and the work is cancelled. @default 30000 */
  readonly requestTimeoutMs?: number;
  /** Largest accepted request body. @default 1048576 */
  readonly maxBodyBytes?: number;
  /**
   * Bearer tokens, one per client. When any is set, `POST /v1/envelopes`, `/health/handlers`
   * and `/metrics` need one; `/health/live` and `/health/ready` stay open for probes.
   * Without tokens the ingress only listens on a loopback address.
   * @default []
   */
  readonly authTokens?: readonly IngressClientToken[];
  /** Open connections beyond this are closed at once. @default 1024 */
  readonly maxConnections?: number;
  /** Time a client has to send the request headers. @default 10000 */
  readonly headersTimeoutMs?: number;
  /** Time a client has to send the whole request. @default 30000 */
  readonly bodyTimeoutMs?: number;
  /** An idle connection (keep-alive, or a silent socket) is closed after this long. @default 5000 */
  readonly idleTimeoutMs?: number;
  /**
   * Token bucket per client on `POST /v1/envelopes`: per authenticated client, or per remote
   * address (an IPv6 /64) without tokens. Over it: 429 with `Retry-After`. Absent: no limit.
   * @default undefined
   */
  readonly rateLimit?: RateLimit;
  /** Addresses (or clients) whose buckets are kept at most; idle ones are dropped first. @default 10000 */
  readonly rateLimitMaxTracked?: number;
  readonly logger?: Logger;
  /** Clock and timers of the warning and request rate limiters. @default systemScheduler */
  readonly scheduler?: Scheduler;
}

/** Connection counts, for tests and diagnostics. */
export interface IngressConnectionStats {
  /** Connections open now. */
  readonly open: number;
  /** The most connections open at once so far (never above `maxConnections`). */
  readonly peak: number;
  /** Connections closed on arrival because `maxConnections` were open. */
  readonly dropped: number;
}

export interface IngressServer {
  /** `http://host:port` once listening. */
  readonly url: string;
  connectionStats(): IngressConnectionStats;
  close(): Promise<void>;
}

/**
 * The HTTP status of an error answer: its code's `httpStatus` in `ONEX_ERROR_CODES`, the one
 * place statuses are chosen. A code this host does not know (a response from a newer one)
 * is answered as an internal error.
 */
function statusOf(code: string | undefined): number {
  return ONEX_ERROR_CODES[isOnexErrorCode(code) ? code : 'INTERNAL_ERROR'].httpStatus;
}
const ROUTES: Readonly<Record<string, string>> = {
  '/v1/envelopes': 'POST',
  '/health/live': 'GET',
  '/health/ready': 'GET',
  '/health/handlers': 'GET',
  '/metrics': 'GET',
};
const ROUTE_LIST = 'POST /v1/envelopes, GET /health/live, /health/ready, /health/handlers, /metrics';
/**
 * Open to anyone who can reach the port, so that probes need no token. `/metrics` is not
 * among them: it names handlers, operations and error rates, like `/health/handlers`, and
 * Prometheus sends a bearer token (`authorization: { credentials_file: ... }`).
 */
const OPEN_ROUTES = new Set(['/health/live', '/health/ready']);

/** A refusal: the error (whose code sets the status), and the reason logged (rate-limited) when it is worth a warning. */
interface Refusal {
  readonly error: OnexError;
  readonly headers?: Readonly<Record<string, string>>;
  readonly warn?: string;
}

function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || /^::ffff:127\.\d+\.\d+\.\d+$/.test(h);
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * Which client a bearer token belongs to. Both sides are hashed first, so the comparison is
 * over equal-length digests and its time tells nothing about the token's length or prefix;
 * every configured token is compared, without stopping at a match.
 */
function clientFor(authorization: string | undefined, tokens: readonly { client: string; digest: Buffer }[]): string | undefined {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization ?? '');
  const presented = sha256(match?.[1] ?? '');
  let client: string | undefined;
  for (const t of tokens) if (timingSafeEqual(presented, t.digest) && match !== null) client ??= t.client;
  return client;
}

/** Whether a browser says this request comes from another site (a page trying to drive the host). */
function crossSite(req: http.IncomingMessage): string | undefined {
  const fetchSite = req.headers['sec-fetch-site'];
  if (fetchSite === 'cross-site' || fetchSite === 'same-site') return `sec-fetch-site: ${fetchSite}`;
  const origin = req.headers.origin;
  if (origin === undefined) return undefined;
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    return 'origin: unparseable';
  }
  return originHost.toLowerCase() === (req.headers.host ?? '').toLowerCase() ? undefined : 'origin: other host';
}

/** W3C trace context headers (a repeated `traceparent` arrives joined with ", " and is then malformed, as the spec wants). */
function traceHeadersOf(req: http.IncomingMessage): TraceHeaders {
  const traceparent = req.headers.traceparent;
  const tracestate = req.headers.tracestate;
  return { traceparent: typeof traceparent === 'string' ? traceparent : undefined, tracestate: typeof tracestate === 'string' ? tracestate : undefined };
}

function isJson(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() === 'application/json';
}

/**
 * The host's one small HTTP server: how people and tests reach a host.
 *
 * - `POST /v1/envelopes` (`application/json`): an envelope (or a plain request object) in,
 *   its response envelope out with 200, whatever the response says. Refused or unanswered
 *   (invalid, no valid token, cross-site, too large, not JSON, over the rate limit, not
 *   running, no response in time, this host calling itself): an error envelope whose HTTP
 *   status is its code's `httpStatus` in `ONEX_ERROR_CODES` (docs/envelope.md lists them).
 * - `GET /health/live` (503 once the event loop runs later than the liveness limit),
 *   `GET /health/ready` (200 only while running and not stopping, the bus is connected and
 *   making progress, and no required handler failed its last health check or has an open
 *   breaker), `GET /health/handlers` (per handler its lifecycle state, circuit, in-flight
 *   calls and last error, plus a `bus` section; 503 when not ready).
 * - `GET /metrics` (Prometheus text; the bearer token like /health/handlers; 404 when metrics are off).
 * - Anything else: INGRESS_ROUTE_NOT_FOUND, or INGRESS_METHOD_NOT_ALLOWED for a known path
 *   with another method. Every error is an envelope, its status from the code table.
 */
export async function startIngressServer(host: RuntimeHostProcess, options: IngressOptions = {}): Promise<IngressServer> {
  const defaults = RUNTIME_HOST_DEFAULTS.ingress;
  // The ingress's lines carry the host's runtime_id, like the host's own.
  const logger = options.logger === undefined ? host.logger : withRuntimeId(options.logger, host.hostId);
  const timeoutMs = options.requestTimeoutMs ?? defaults.requestTimeoutMs;
  const maxBody = options.maxBodyBytes ?? 1_048_576;
  const idleMs = options.idleTimeoutMs ?? defaults.idleTimeoutMs;
  const bodyMs = options.bodyTimeoutMs ?? defaults.bodyTimeoutMs;
  const headersMs = Math.min(options.headersTimeoutMs ?? defaults.headersTimeoutMs, bodyMs);
  const listenHost = options.host ?? defaults.host;
  const reveal = (token: string | SecretString): string => (typeof token === 'string' ? token : token.reveal());
  const tokens = (options.authTokens ?? []).map((t) => ({ client: t.client, digest: sha256(reveal(t.token)) }));
  const authOn = tokens.length > 0;
  const empty = (options.authTokens ?? []).find((t) => t.token.length === 0);
  if (empty !== undefined) {
    // An empty token would let in anyone who sends "Bearer " with nothing after it.
    throw new IngressInsecureConfigurationError(`The ingress token of client "${empty.client}" is empty`, { hint: 'Set the environment variable its secret_ref names to a long random value.' });
  }
  if (!authOn && !isLoopback(listenHost)) {
    throw new IngressInsecureConfigurationError(`Refusing to listen on ${listenHost} without authentication: anyone who can reach it could run any operation of this host`, {
      hint: 'Add ingress.auth_tokens (each { client, token: { secret_ref: "env://NAME" } }), or listen on 127.0.0.1 behind a reverse proxy that authenticates and terminates TLS.',
    });
  }
  const scheduler = options.scheduler ?? systemScheduler;
  const warnings = new WarningLimiter({ logger, scheduler });
  const rateLimiter = options.rateLimit === undefined ? undefined : new IngressRateLimiter(options.rateLimit, scheduler, { maxTracked: options.rateLimitMaxTracked });

  const send = (res: http.ServerResponse, status: number, body: string, headers: Readonly<Record<string, string>> = {}): void => {
    if (res.headersSent) return;
    res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' });
    res.end(body);
  };
  const sendEnvelope = (res: http.ServerResponse, status: number, envelope: OnexEnvelope, headers?: Readonly<Record<string, string>>): void => send(res, status, serializeEnvelope(envelope), headers);
  /** An error envelope, with the status its code has in the table. */
  const sendError = (res: http.ServerResponse, envelope: OnexEnvelope, headers?: Readonly<Record<string, string>>): void => sendEnvelope(res, statusOf(envelope.error?.code), envelope, headers);
  const refuse = (req: http.IncomingMessage, res: http.ServerResponse, route: string, refusal: Refusal): void => {
    const envelope = host.refusal(refusal.error);
    // The correlation id the caller got back finds this line (unless it was one of the suppressed).
    if (refusal.warn !== undefined) warnings.warn({ route, reason: refusal.warn }, `ingress refused a request (${statusOf(refusal.error.code)})`, { remote: req.socket.remoteAddress, correlation_id: envelope.correlationId });
    // A refused body is not read; closing keeps the connection from carrying it into the next request.
    const headers = req.method === 'POST' ? { ...refusal.headers, connection: 'close' } : refusal.headers;
    sendError(res, envelope, headers);
  };

  /** Why this request is refused before any work, or undefined to serve it; the client when authenticated. */
  const check = (req: http.IncomingMessage, path: string): Refusal | { client: string | undefined } => {
    const method = req.method ?? 'GET';
    const allowed = ROUTES[path];
    if (req.headers[ONEX_ORIGIN_HOST_HEADER] === host.hostId) {
      return {
        error: new IngressLoopDetectedError('This request came from this host itself (its own x-onex-origin-host); refused to avoid a loop', {
          hint: 'A node of this host called its own ingress through an http handler. Route the operation to the node directly instead.',
        }),
        warn: 'self_call',
      };
    }
    const site = crossSite(req);
    if (site !== undefined) {
      return {
        error: new IngressForbiddenError('Cross-site browser requests are refused', { details: { reason: site.split(':')[0] ?? site }, hint: 'Call the ingress from a server or a command line, not from a web page.' }),
        warn: 'cross_site',
      };
    }
    if (allowed === undefined) {
      return { error: new IngressRouteNotFoundError(`No route ${method} ${path}`, { hint: `Routes: ${ROUTE_LIST}` }) };
    }
    if (allowed !== method) {
      return { error: new IngressMethodNotAllowedError(`${method} is not allowed on ${path}; use ${allowed}`, { hint: `Routes: ${ROUTE_LIST}` }), headers: { allow: allowed } };
    }
    if (!authOn || OPEN_ROUTES.has(path)) return { client: undefined };
    const authorization = req.headers.authorization;
    const client = clientFor(authorization, tokens);
    if (client === undefined) {
      const missing = authorization === undefined;
      return {
        error: new IngressUnauthenticatedError(missing ? 'This ingress needs a bearer token' : 'The bearer token is not valid', {
          hint: 'Send "Authorization: Bearer <token>" with a token listed in ingress.auth_tokens.',
        }),
        headers: { 'www-authenticate': missing ? 'Bearer realm="onex-runtime-host"' : 'Bearer realm="onex-runtime-host", error="invalid_token"' },
        warn: missing ? 'missing_token' : 'invalid_token',
      };
    }
    return { client };
  };

  const postEnvelope = (req: http.IncomingMessage, res: http.ServerResponse, route: string, client: string | undefined): void => {
    if (!isJson(req.headers['content-type'])) {
      refuse(req, res, route, {
        error: new IngressUnsupportedMediaTypeError('Request bodies must be application/json', { hint: 'Send the envelope with "Content-Type: application/json".' }),
        warn: 'not_json',
      });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBody) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => {
      if (tooLarge) {
        refuse(req, res, route, {
          error: new IngressBodyTooLargeError(`Request body exceeds ${maxBody} bytes`, { hint: 'Send smaller envelopes; large data belongs in a store, referenced from the payload.' }),
          warn: 'too_large',
        });
        return;
      }
      host
        .submit(Buffer.concat(chunks).toString('utf8'), timeoutMs, { ...(client === undefined ? {} : { client }), traceHeaders: traceHeadersOf(req) })
        .then(({ status, envelope }) => {
          if (status === 'ok') {
            // The exchange worked, whatever the response envelope says (a handler's failure included).
            sendEnvelope(res, 200, envelope);
            return;
          }
          if (status === 'invalid') warnings.warn({ route, reason: 'invalid_envelope', client }, `ingress refused a request (${statusOf(envelope.error?.code)})`, { remote: req.socket.remoteAddress, error_code: envelope.error?.code });
          sendError(res, envelope);
        })
        .catch((error: unknown) => {
          const e = toOnexError(error);
          logger.error({ err: e.toLogFields() }, 'ingress submit failed');
          sendError(res, host.refusal(e));
        });
    });
  };

  const serveMetrics = (req: http.IncomingMessage, res: http.ServerResponse, route: string): void => {
    host.metrics
      .scrape()
      .then((scraped) => {
        if (scraped === undefined) {
          refuse(req, res, route, { error: new IngressRouteNotFoundError('Metrics are off for this host', { hint: 'Set runtime.observability.metrics.enabled: true in the runtime host contract.' }) });
          return;
        }
        if (res.headersSent) return;
        res.writeHead(200, { 'content-type': scraped.contentType, 'content-length': Buffer.byteLength(scraped.body), 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' });
        res.end(scraped.body);
      })
      .catch((error: unknown) => {
        const e = toOnexError(error);
        logger.error({ err: e.toLogFields() }, 'metrics scrape failed');
        sendError(res, host.refusal(e));
      });
  };

  const server = http.createServer({ connectionsCheckingInterval: Math.max(100, Math.min(1_000, headersMs)) }, (req, res) => {
    // The idle timeout is for silent connections; a request waiting for its answer is not idle.
    req.socket.setTimeout(0);
    res.once('finish', () => req.socket.setTimeout(idleMs));
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = `${req.method ?? 'GET'} ${path}`;
    const verdict = check(req, path);
    if ('error' in verdict) {
      refuse(req, res, route, verdict);
      req.resume();
      return;
    }
    if (route === 'POST /v1/envelopes') {
      const admission = rateLimiter?.admit(ingressClientKey(verdict.client, req.socket.remoteAddress));
      if (admission?.admitted === false) {
        host.metrics.ingressRateLimited(verdict.client ?? 'anonymous');
        refuse(req, res, route, { ...ingressRateLimitedError(admission.retryAfterMs, verdict.client), warn: 'rate_limited' });
        req.resume();
        return;
      }
      postEnvelope(req, res, route, verdict.client);
      return;
    }
    if (route === 'GET /health/live') {
      const h = host.health();
      send(res, h.live ? 200 : 503, JSON.stringify({ status: h.live ? 'alive' : 'dead', state: h.state, event_loop_delay_ms: h.event_loop_delay_ms }));
      return;
    }
    if (route === 'GET /metrics') {
      serveMetrics(req, res, route);
      return;
    }
    if (route === 'GET /health/ready') {
      const h = host.health();
      send(res, h.ready ? 200 : 503, JSON.stringify({ status: h.ready ? 'ready' : 'not_ready', ...h }));
      return;
    }
    Promise.all([host.handlerStatuses(), host.bus.healthCheck()])
      .then(([handlers, bus]) => {
        // Same verdict as /health/ready: an optional handler that is down shows here without a 503.
        const h = host.health();
        // The bus section: for Kafka the group, assigned partitions, lag and paused state.
        send(res, h.ready ? 200 : 503, JSON.stringify({ state: h.state, ready: h.ready, ...(h.not_ready_reason === undefined ? {} : { not_ready_reason: h.not_ready_reason }), handlers, bus }));
      })
      .catch((error: unknown) => sendError(res, host.refusal(toOnexError(error))));
  });
  server.maxConnections = options.maxConnections ?? defaults.maxConnections;
  server.headersTimeout = headersMs;
  server.requestTimeout = bodyMs;
  server.keepAliveTimeout = idleMs;
  // Socket inactivity: a connection that never sends a request is closed too.
  server.timeout = idleMs;

  let open = 0;
  let peak = 0;
  let dropped = 0;
  const dropConnection = (): void => {
    dropped += 1;
    warnings.warn({ reason: 'max_connections' }, 'ingress refused a connection: max_connections reached', { max_connections: server.maxConnections });
  };
  server.on('connection', (socket: Socket) => {
    // Node drops sockets over maxConnections before this event, but counts a socket as gone a
    // tick before its 'close' event: this count is the conservative one, and it is the cap.
    if (open >= server.maxConnections) {
      socket.destroy();
      dropConnection();
      return;
    }
    open += 1;
    if (open > peak) peak = open;
    socket.once('close', () => {
      open -= 1;
    });
  });
  server.on('drop', dropConnection);

  const port = options.port ?? defaults.port;
  await new Promise<void>((resolve, reject) => {
    const failed = (error: unknown): void => reject(ingressListenError(error, listenHost, port) ?? error);
    server.once('error', failed);
    server.listen(port, listenHost, () => {
      server.off('error', failed);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${urlHost}:${address.port}`,
    connectionStats: () => ({ open, peak, dropped }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          warnings.flush();
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
