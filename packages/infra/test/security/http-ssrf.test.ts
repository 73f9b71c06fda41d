/**
 * SSRF and abuse attacks on the http handler, one per test, against real loopback
 * servers that count every request they receive. A refused request must leave the
 * target's counter at zero: refusing late (after the request went out) is not refusing.
 */
import { describe, it, expect, afterEach } from 'vitest';
import http from 'node:http';
import { getEventListeners } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { createInvocationContext, createRequestEnvelope, EnvelopeValidationError, OnexError, ShuttingDownError, type CancellationSignal, type JsonValue } from '@onex/core';
import { deterministicProviders } from '@onex/core/testing';
import { createLogger } from '../../src/logging/logger.js';
import { createHttpHandler, type HttpHandler, type HttpHandlerConfig, type HttpResponsePayload } from '../../src/handlers/http/index.js';

interface Target {
  readonly port: number;
  readonly origin: string;
  /** Requests received, with the headers they carried. */
  readonly hits: http.IncomingHttpHeaders[];
  /** Raw TCP connections accepted (a request may never get as far as being parsed). */
  connections: number;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A loopback server that records every hit; `respond` decides the answer (or never answers). */
async function target(respond: (req: http.IncomingMessage, res: http.ServerResponse) => void = (_req, res) => res.end('ok'), host = '127.0.0.1'): Promise<Target> {
  const hits: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    hits.push(req.headers);
    respond(req, res);
  });
  const t = { port: 0, origin: '', hits, connections: 0 };
  server.on('connection', () => (t.connections += 1));
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  t.port = (server.address() as AddressInfo).port;
  t.origin = host.includes(':') ? `http://[${host}]:${t.port}` : `http://${host}:${t.port}`;
  cleanups.push(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return t;
}

/** A loopback TCP server that resets every connection as soon as the request arrives. */
async function resettingServer(): Promise<number> {
  const server = net.createServer((socket) => socket.once('data', () => socket.resetAndDestroy()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function handlerWith(config: HttpHandlerConfig = {}, lines?: string[]): Promise<HttpHandler> {
  const logger = lines === undefined ? undefined : createLogger({ level: 'warn', destination: { write: (line: string) => void lines.push(line) } });
  const handler = await createHttpHandler({ timeoutMs: 5_000, ...config }, logger === undefined ? {} : { logger });
  cleanups.push(() => handler.shutdown());
  return handler;
}

const providers = deterministicProviders();

function call(handler: HttpHandler, payload: JsonValue, signal?: CancellationSignal, operation = 'http.get'): Promise<JsonValue> {
  const envelope = createRequestEnvelope({ operation, payload, correlationId: '00000000-0000-0000-0000-00000000055f' }, providers);
  return handler.execute(envelope, createInvocationContext(envelope, { signal }));
}

async function failure(promise: Promise<unknown>): Promise<OnexError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(OnexError);
  return error as OnexError;
}

/** The request is refused with the look-alike connection error and the target saw nothing. */
async function expectRefused(handler: HttpHandler, url: string, t: Target): Promise<OnexError> {
  const error = await failure(call(handler, { url }));
  expect(error.code).toBe('INFRA_CONNECTION_ERROR');
  expect(error.message).toMatch(/^Could not connect to /);
  expect(t.hits).toHaveLength(0);
  expect(t.connections).toBe(0);
  return error;
}

describe('private-address refusal, in every notation (no allow-list)', () => {
  it('refuses 0x7f000001 (hex IPv4)', async () => {
    const t = await target();
    await expectRefused(await handlerWith(), `http://0x7f000001:${t.port}/`, t);
  });

  it('refuses 2130706433 (decimal IPv4)', async () => {
    const t = await target();
    await expectRefused(await handlerWith(), `http://2130706433:${t.port}/`, t);
  });

  it('refuses 127.1 (short IPv4)', async () => {
    const t = await target();
    await expectRefused(await handlerWith(), `http://127.1:${t.port}/`, t);
  });

  it('refuses 0177.0.0.1 (octal IPv4)', async () => {
    const t = await target();
    await expectRefused(await handlerWith(), `http://0177.0.0.1:${t.port}/`, t);
  });

  it('refuses 0.0.0.0 (unspecified, reaches local listeners)', async () => {
    const t = await target();
    await expectRefused(await handlerWith(), `http://0.0.0.0:${t.port}/`, t);
  });

  it('refuses [::ffff:127.0.0.1] (IPv4-mapped IPv6)', async () => {
    const t = await target();
    await expectRefused(await handlerWith(), `http://[::ffff:127.0.0.1]:${t.port}/`, t);
  });

  it('refuses [::1] (IPv6 loopback)', async () => {
    const t = await target(undefined, '::1');
    await expectRefused(await handlerWith(), `http://[::1]:${t.port}/`, t);
  });

  it('refuses localhost: a DNS name that resolves to loopback', async () => {
    const t = await target();
    const lines: string[] = [];
    await expectRefused(await handlerWith({}, lines), `http://localhost:${t.port}/`, t);
    // The refusal happened at resolution time, and the operator can see why.
    expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ level: 'warn', reason: 'address_not_allowed', address_class: 'loopback' }),
    ]);
  });

  it('refuses a name on the allow-list whose DNS answer is loopback, unless listed exactly', async () => {
    const t = await target();
    // A wildcard never opens a private address, even when the name matches it.
    const wildcard = await handlerWith({ allowedDomains: ['*.localhost'] });
    await expectRefused(wildcard, `http://app.localhost:${t.port}/`, t);
  });

  it('refuses 169.254.169.254 (cloud metadata)', async () => {
    const lines: string[] = [];
    const error = await failure(call(await handlerWith({}, lines), { url: 'http://169.254.169.254/latest/meta-data/' }));
    expect(error.code).toBe('INFRA_CONNECTION_ERROR');
    expect(error.message).toBe('Could not connect to http://169.254.169.254');
    expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ reason: 'address_not_allowed', address_class: 'link_local' }),
    ]);
  });
});

describe('allow-list', () => {
  it('permits the listed loopback host', async () => {
    const t = await target();
    const res = (await call(await handlerWith({ allowedDomains: ['127.0.0.1'] }), { url: `${t.origin}/x` })) as HttpResponsePayload;
    expect(res.status_code).toBe(200);
    expect(t.hits).toHaveLength(1);
  });

  it('refuses every destination with an empty list', async () => {
    const t = await target();
    const none = await handlerWith({ allowedDomains: [] });
    await expectRefused(none, `${t.origin}/`, t);
    await expectRefused(none, `http://localhost:${t.port}/`, t);
    const error = await failure(call(none, { url: 'http://example.com/' }));
    expect(error.code).toBe('INFRA_CONNECTION_ERROR');
  });

  it('refuses a host that is not on the list before connecting', async () => {
    const t = await target();
    await expectRefused(await handlerWith({ allowedDomains: ['api.example.com'] }), `${t.origin}/`, t);
  });
});

describe('redirects', () => {
  it('returns a 302 to a loopback URL as the response and does not follow it', async () => {
    const inner = await target();
    const outer = await target((_req, res) => {
      res.statusCode = 302;
      res.setHeader('location', `${inner.origin}/secret`);
      res.end();
    });
    // Only the redirecting server is reachable; the inner one stands for an internal service.
    const handler = await handlerWith({ allowedDomains: ['127.0.0.1'] });
    const res = (await call(handler, { url: `${outer.origin}/go` })) as HttpResponsePayload;
    expect(res.status_code).toBe(302);
    expect(res.headers.location).toBe(`${inner.origin}/secret`);
    expect(outer.hits).toHaveLength(1);
    expect(inner.hits).toHaveLength(0);
  });
});

describe('no port scanner', () => {
  it('a policy refusal, a refused connection, a reset and a DNS failure look alike to the caller', async () => {
    const lines: string[] = [];
    const handler = await handlerWith({ allowedDomains: ['127.0.0.1', 'nonexistent.invalid'] }, lines);
    const refusedPort = await closedPort();
    const resetPort = await resettingServer();
    const urls = {
      policy: `http://10.0.0.1:${refusedPort}/`,
      refused: `http://127.0.0.1:${refusedPort}/`,
      reset: `http://127.0.0.1:${resetPort}/`,
      dns: 'http://nonexistent.invalid/',
    };
    const shapes: Record<string, unknown> = {};
    for (const [kind, url] of Object.entries(urls)) {
      const error = await failure(call(handler, { url }));
      const origin = new URL(url).origin;
      // Everything the caller sees, with the origin blanked out.
      const visible = JSON.stringify({
        class: error.constructor.name,
        code: error.code,
        retryable: error.retryable,
        message: error.message,
        hint: error.hint,
        details: error.details,
        wire: error.toEnvelopeError(),
      }).split(origin).join('<origin>');
      shapes[kind] = JSON.parse(visible) as unknown;
    }
    expect(shapes.policy).toMatchObject({ class: 'InfraConnectionError', code: 'INFRA_CONNECTION_ERROR', message: 'Could not connect to <origin>' });
    expect(shapes.refused).toEqual(shapes.policy);
    expect(shapes.reset).toEqual(shapes.policy);
    expect(shapes.dns).toEqual(shapes.policy);
    // The real reasons reach the host log only.
    const reasons = lines.map((l) => (JSON.parse(l) as { reason: string }).reason);
    // A sandbox without a resolver answers EAI_AGAIN instead of ENOTFOUND; either is a DNS failure.
    expect(reasons).toEqual(['host_not_allowed', 'ECONNREFUSED', 'ECONNRESET', expect.stringMatching(/^(ENOTFOUND|EAI_AGAIN)$/)]);
  });
});

describe('timeouts and cancellation', () => {
  it('caps a huge payload timeout_ms at the configured timeoutMs', async () => {
    const t = await target(() => undefined);
    const handler = await handlerWith({ timeoutMs: 300, allowedDomains: ['127.0.0.1'] });
    const error = await failure(call(handler, { url: `${t.origin}/hang`, timeout_ms: 2_147_483_647 }));
    expect(error.code).toBe('INFRA_TIMEOUT');
    expect(error.details).toMatchObject({ timeout_ms: 300 });
  });

  it('does not send a request whose signal is already aborted', async () => {
    const t = await target();
    const handler = await handlerWith({ allowedDomains: ['127.0.0.1'] });
    const controller = new AbortController();
    controller.abort();
    const error = await failure(call(handler, { url: `${t.origin}/` }, controller.signal));
    expect(error.code).toBe('INFRA_TIMEOUT');
    expect(error.message).toContain('cancelled');
    expect(t.hits).toHaveLength(0);
  });

  it('aborts a request in flight when the signal fires, drops the connection and keeps no listener', async () => {
    let arrived!: () => void;
    const atServer = new Promise<void>((resolve) => (arrived = resolve));
    let closed!: () => void;
    const connectionClosed = new Promise<void>((resolve) => (closed = resolve));
    const t = await target((req) => {
      req.socket.once('close', () => closed());
      arrived();
    });
    const handler = await handlerWith({ allowedDomains: ['127.0.0.1'] });
    const controller = new AbortController();
    const pending = failure(call(handler, { url: `${t.origin}/hang` }, controller.signal));
    await atServer;
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    controller.abort();
    const error = await pending;
    expect(error.code).toBe('INFRA_TIMEOUT');
    expect(error.message).toContain('cancelled');
    await connectionClosed;
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(await handler.healthCheck()).toMatchObject({ in_flight: 0 });
  });

  it('rejects with the signal reason when it is a typed error', async () => {
    const t = await target(() => undefined);
    const handler = await handlerWith({ allowedDomains: ['127.0.0.1'] });
    const controller = new AbortController();
    const reason = new ShuttingDownError('host is stopping');
    const pending = failure(call(handler, { url: `${t.origin}/hang` }, controller.signal));
    controller.abort(reason);
    const error = await pending;
    expect(error.code).toBe('SHUTTING_DOWN');
    expect(error.message).toBe('host is stopping');
  });

  it('removes its abort listener when a request completes normally', async () => {
    const t = await target();
    const handler = await handlerWith({ allowedDomains: ['127.0.0.1'] });
    const controller = new AbortController();
    for (let i = 0; i < 3; i += 1) await call(handler, { url: `${t.origin}/` }, controller.signal);
    expect(t.hits).toHaveLength(3);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});

describe('self-call marker', () => {
  it('sends x-onex-origin-host with the configured hostId', async () => {
    const t = await target();
    await call(await handlerWith({ allowedDomains: ['127.0.0.1'], hostId: 'host-7' }), { url: `${t.origin}/` });
    expect(t.hits[0]?.['x-onex-origin-host']).toBe('host-7');
  });

  it('refuses a payload that sets x-onex-origin-host itself', async () => {
    const t = await target();
    const handler = await handlerWith({ allowedDomains: ['127.0.0.1'], hostId: 'host-7' });
    for (const name of ['x-onex-origin-host', 'X-Onex-Origin-Host']) {
      const error = await failure(call(handler, { url: `${t.origin}/`, headers: { [name]: 'host-7' } }));
      expect(error).toBeInstanceOf(EnvelopeValidationError);
      expect(error.code).toBe('ENVELOPE_VALIDATION_ERROR');
    }
    expect(t.hits).toHaveLength(0);
  });
});
