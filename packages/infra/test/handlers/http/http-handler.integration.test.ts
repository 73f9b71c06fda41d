/**
 * HttpHandler against a real node:http server on 127.0.0.1 (no mocks): every
 * operation, response parsing, and each failure mode mapped to its typed error.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInvocationContext, createRequestEnvelope, OnexError, type JsonValue } from '@onex/core';
import { deterministicProviders } from '@onex/core/testing';
import { createLogger } from '../../../src/logging/logger.js';
import { createHttpHandler, HttpHandler, type HttpResponsePayload } from '../../../src/handlers/http/index.js';

interface TestServer {
  readonly origin: string;
  readonly port: number;
  readonly sockets: Set<unknown>;
  close(): Promise<void>;
}

async function startServer(listener: http.RequestListener): Promise<TestServer> {
  const server = http.createServer(listener);
  const sockets = new Set<unknown>();
  server.on('connection', (socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    sockets,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port on which nothing listens: a server's port right after it closed. */
async function closedPort(): Promise<number> {
  const server = await startServer(() => undefined);
  await server.close();
  return server.port;
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('end', () => resolve(text));
  });
}

const routes: Record<string, (req: http.IncomingMessage, res: http.ServerResponse) => void | Promise<void>> = {
  '/echo': async (req, res) => {
    const body = await readBody(req);
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.setHeader('x-echo', 'yes');
    res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body }));
  },
  '/text': (_req, res) => {
    res.setHeader('content-type', 'text/plain; charset=utf-8');
    res.end('héllo');
  },
  '/problem': (_req, res) => {
    res.statusCode = 422;
    res.setHeader('content-type', 'application/problem+json');
    res.end(JSON.stringify({ title: 'Unprocessable', status: 422 }));
  },
  '/bad-json': (_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end('{"not": json');
  },
  '/missing': (_req, res) => {
    res.statusCode = 404;
    res.end('no such thing');
  },
  '/no-content': (_req, res) => {
    res.statusCode = 204;
    res.end();
  },
  '/cookies': (_req, res) => {
    res.setHeader('set-cookie', ['a=1', 'b=2']);
    res.end();
  },
  '/latin1': (_req, res) => {
    res.setHeader('content-type', 'text/plain; charset=ISO-8859-1');
    res.end(Buffer.from([0x68, 0xe9, 0x6c]));
  },
  '/bom-json': (_req, res) => {
    res.setHeader('content-type', 'application/json; charset="UTF-8"');
    res.end(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"b":2}')]));
  },
  '/hang': () => undefined,
  '/big': (_req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end('x'.repeat(64 * 1024));
  },
  '/endless': (_req, res) => {
    // Chunked, no content-length, never ends: only a size check while reading can stop it.
    const chunk = 'y'.repeat(1024);
    const timer = setInterval(() => res.write(chunk), 2);
    res.on('close', () => clearInterval(timer));
  },
};

/** The test server listens on loopback, which the handler refuses unless listed. */
const LOOPBACK = ['127.0.0.1'];

let server: TestServer;
let handler: HttpHandler;
const providers = deterministicProviders();

beforeAll(async () => {
  server = await startServer((req, res) => {
    const route = routes[new URL(req.url ?? '/', 'http://x').pathname];
    if (route) void route(req, res);
    else {
      res.statusCode = 500;
      res.end('unknown route');
    }
  });
  handler = await createHttpHandler({ timeoutMs: 5_000, maxResponseBytes: 16 * 1024, connections: 2, allowedDomains: LOOPBACK });
});

afterAll(async () => {
  await handler.shutdown();
  await server.close();
});

function call(h: HttpHandler, operation: string, payload: JsonValue): Promise<JsonValue> {
  const envelope = createRequestEnvelope({ operation, payload, correlationId: '00000000-0000-0000-0000-0000000000c1' }, providers);
  return h.execute(envelope, createInvocationContext(envelope));
}

async function send(operation: string, payload: JsonValue, h: HttpHandler = handler): Promise<HttpResponsePayload> {
  return (await call(h, operation, payload)) as HttpResponsePayload;
}

async function failure(promise: Promise<unknown>): Promise<OnexError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OnexError);
  return error as OnexError;
}

type Echo = { method: string; url: string; headers: Record<string, string>; body: string };

describe('HttpHandler operations', () => {
  it('GET appends query parameters and parses a JSON response', async () => {
    const res = await send('http.get', { url: `${server.origin}/echo?fixed=1`, query: { page: 2, tag: ['a', 'b'] }, headers: { 'X-Trace': 't1' } });
    expect(res.status_code).toBe(200);
    expect(res.headers['x-echo']).toBe('yes');
    const echo = res.body as Echo;
    expect(echo.method).toBe('GET');
    expect(echo.url).toBe('/echo?fixed=1&page=2&tag=a&tag=b');
    expect(echo.headers['x-trace']).toBe('t1');
    expect(echo.body).toBe('');
  });

  it('POST sends an object as JSON', async () => {
    const res = await send('http.post', { url: `${server.origin}/echo`, body: { name: 'widget', tags: ['a'] } });
    const echo = res.body as Echo;
    expect(echo.method).toBe('POST');
    expect(echo.headers['content-type']).toBe('application/json');
    expect(JSON.parse(echo.body)).toEqual({ name: 'widget', tags: ['a'] });
  });

  it('PUT sends a string body as is', async () => {
    const res = await send('http.put', { url: `${server.origin}/echo`, body: 'raw text', headers: { 'content-type': 'text/csv' } });
    const echo = res.body as Echo;
    expect(echo.method).toBe('PUT');
    expect(echo.body).toBe('raw text');
    expect(echo.headers['content-type']).toBe('text/csv');
  });

  it('PATCH and DELETE reach the server with their bodies', async () => {
    const patched = (await send('http.patch', { url: `${server.origin}/echo`, body: [{ op: 'remove', path: '/a' }] })).body as Echo;
    expect(patched.method).toBe('PATCH');
    expect(JSON.parse(patched.body)).toEqual([{ op: 'remove', path: '/a' }]);
    const deleted = (await send('http.delete', { url: `${server.origin}/echo?id=9` })).body as Echo;
    expect(deleted.method).toBe('DELETE');
    expect(deleted.url).toBe('/echo?id=9');
  });

  it('HEAD returns status and headers with a null body', async () => {
    const res = await send('http.head', { url: `${server.origin}/echo` });
    expect(res.status_code).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.body).toBeNull();
  });

  it('resolves relative URLs against baseUrl', async () => {
    const scoped = await createHttpHandler({ baseUrl: `${server.origin}/`, allowedDomains: LOOPBACK });
    try {
      const res = await send('http.get', { url: 'echo' }, scoped);
      expect((res.body as Echo).url).toBe('/echo');
    } finally {
      await scoped.shutdown();
    }
  });

  it('sends URL credentials as Basic auth, never in the request line', async () => {
    const url = `http://alice:s3cr%40t@127.0.0.1:${server.port}/echo`;
    const echo = (await send('http.get', { url })).body as Echo;
    expect(echo.headers.authorization).toBe(`Basic ${Buffer.from('alice:s3cr@t').toString('base64')}`);
    expect(echo.url).toBe('/echo');
  });

  it('serves concurrent requests from one pool bounded by `connections`', async () => {
    const pooled = await createHttpHandler({ connections: 2, allowedDomains: LOOPBACK });
    const before = server.sockets.size;
    try {
      const results = await Promise.all(Array.from({ length: 12 }, () => send('http.get', { url: `${server.origin}/text` }, pooled)));
      expect(results.every((r) => r.status_code === 200)).toBe(true);
      expect(server.sockets.size - before).toBeLessThanOrEqual(2);
    } finally {
      await pooled.shutdown();
    }
  });
});

describe('HttpHandler response parsing', () => {
  it('returns text for non-JSON content types, decoding the charset', async () => {
    const res = await send('http.get', { url: `${server.origin}/text` });
    expect(res.body).toBe('héllo');
    expect(res.body_parse_error).toBeUndefined();
  });

  it('parses +json media types and returns non-2xx as a normal result', async () => {
    const res = await send('http.post', { url: `${server.origin}/problem`, body: {} });
    expect(res.status_code).toBe(422);
    expect(res.body).toEqual({ title: 'Unprocessable', status: 422 });
    const missing = await send('http.get', { url: `${server.origin}/missing` });
    expect(missing).toMatchObject({ status_code: 404, body: 'no such thing' });
  });

  it('falls back to text and flags invalid JSON', async () => {
    const res = await send('http.get', { url: `${server.origin}/bad-json` });
    expect(res.body).toBe('{"not": json');
    expect(res.body_parse_error).toBe(true);
  });

  it('decodes the declared charset and drops a UTF-8 byte order mark before parsing JSON', async () => {
    const latin1 = await send('http.get', { url: `${server.origin}/latin1` });
    expect(latin1.body).toBe('hél');
    const bom = await send('http.get', { url: `${server.origin}/bom-json` });
    expect(bom.body).toEqual({ b: 2 });
    expect(bom.body_parse_error).toBeUndefined();
  });

  it('returns null for 204 and joins repeated headers', async () => {
    expect((await send('http.delete', { url: `${server.origin}/no-content` })).body).toBeNull();
    const cookies = await send('http.get', { url: `${server.origin}/cookies` });
    expect(cookies.headers['set-cookie']).toBe('a=1, b=2');
    expect(cookies.body).toBeNull();
  });
});

describe('HttpHandler failures', () => {
  it('maps a per-request timeout_ms deadline to a retryable INFRA_TIMEOUT', async () => {
    const error = await failure(call(handler, 'http.get', { url: `${server.origin}/hang`, timeout_ms: 200 }));
    expect(error.code).toBe('INFRA_TIMEOUT');
    expect(error.retryable).toBe(true);
    expect(error.handlerType).toBe('http');
    expect(error.operation).toBe('http.get');
    expect(error.correlationId).toBe('00000000-0000-0000-0000-0000000000c1');
    expect(error.details).toMatchObject({ transport_type: 'http', target: server.origin, timeout_ms: 200 });
    expect(error.hint).toContain('timeout');
  });

  it('applies the configured timeoutMs', async () => {
    const quick = await createHttpHandler({ timeoutMs: 200, allowedDomains: LOOPBACK });
    try {
      expect((await failure(call(quick, 'http.post', { url: `${server.origin}/hang`, body: {} }))).code).toBe('INFRA_TIMEOUT');
    } finally {
      await quick.shutdown();
    }
  });

  it('maps connection refused to a retryable INFRA_CONNECTION_ERROR and logs the real reason', async () => {
    const port = await closedPort();
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn', destination: { write: (line: string) => void lines.push(line) } });
    const logged = await createHttpHandler({ allowedDomains: LOOPBACK }, { logger });
    try {
      const error = await failure(call(logged, 'http.get', { url: `http://127.0.0.1:${port}/x` }));
      expect(error.code).toBe('INFRA_CONNECTION_ERROR');
      expect(error.retryable).toBe(true);
      expect(error.message).toBe(`Could not connect to http://127.0.0.1:${port}`);
      expect(error.details).toEqual({ method: 'GET', transport_type: 'http', target: `http://127.0.0.1:${port}` });
      expect(error.hint).toBeTruthy();
    } finally {
      await logged.shutdown();
    }
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records).toEqual([expect.objectContaining({ level: 'warn', origin: `http://127.0.0.1:${port}`, reason: 'ECONNREFUSED' })]);
  });

  it('rejects a body whose content-length exceeds maxResponseBytes', async () => {
    const error = await failure(call(handler, 'http.get', { url: `${server.origin}/big` }));
    expect(error.code).toBe('INFRA_RESPONSE_TOO_LARGE');
    expect(error.retryable).toBe(false);
    expect(error.details).toMatchObject({ max_response_bytes: 16 * 1024, content_length: 64 * 1024 });
  });

  it('stops reading an endless body as soon as it crosses maxResponseBytes', async () => {
    const error = await failure(call(handler, 'http.get', { url: `${server.origin}/endless` }));
    expect(error.code).toBe('INFRA_RESPONSE_TOO_LARGE');
    expect(error.details.received_bytes).toBeGreaterThan(16 * 1024);
    // The handler is still usable afterwards.
    expect((await send('http.get', { url: `${server.origin}/text` })).status_code).toBe(200);
  });

  it('rejects an announced over-limit body of any size, without an unhandled stream error', async () => {
    const tiny = await createHttpHandler({ maxResponseBytes: 16, allowedDomains: LOOPBACK });
    try {
      for (const operation of ['http.post', 'http.put']) {
        const error = await failure(call(tiny, operation, { url: `${server.origin}/echo`, body: { a: 1 } }));
        expect(error.code).toBe('INFRA_RESPONSE_TOO_LARGE');
        expect(error.details).toMatchObject({ max_response_bytes: 16 });
        expect(error.details.content_length).toBeGreaterThan(16);
      }
      expect((await send('http.get', { url: `${server.origin}/text` }, tiny)).body).toBe('héllo');
    } finally {
      await tiny.shutdown();
    }
  });

  it('holds a request queued behind a busy connection to its own timeout_ms', async () => {
    const single = await createHttpHandler({ connections: 1, allowedDomains: LOOPBACK });
    try {
      let busySettled = false;
      const busy = failure(call(single, 'http.get', { url: `${server.origin}/hang`, timeout_ms: 1_500 })).finally(() => {
        busySettled = true;
      });
      const queued = await failure(call(single, 'http.get', { url: `${server.origin}/text`, timeout_ms: 100 }));
      expect(queued.code).toBe('INFRA_TIMEOUT');
      expect(queued.details).toMatchObject({ timeout_ms: 100 });
      // The queued request did not wait for the busy one to give up.
      expect(busySettled).toBe(false);
      expect((await busy).code).toBe('INFRA_TIMEOUT');
      expect((await send('http.get', { url: `${server.origin}/text` }, single)).status_code).toBe(200);
      expect(await single.healthCheck()).toMatchObject({ in_flight: 0 });
    } finally {
      await single.shutdown();
    }
  });

  it('never exposes URL credentials or the query string in errors', async () => {
    const port = await closedPort();
    const cases = [
      { url: `http://alice:hunter2pw@127.0.0.1:${port}/hook/path?token=qs-secret-1`, target: `http://127.0.0.1:${port}`, timeout_ms: 5_000 },
      { url: `http://alice:hunter2pw@127.0.0.1:${server.port}/hang?token=qs-secret-1`, target: server.origin, timeout_ms: 200 },
    ];
    for (const { target, ...payload } of cases) {
      const error = await failure(call(handler, 'http.get', payload));
      const visible = JSON.stringify({ message: error.message, hint: error.hint, details: error.details, wire: error.toEnvelopeError() });
      for (const secret of ['hunter2pw', 'alice', 'qs-secret-1', 'token=', '/hook/path']) expect(visible).not.toContain(secret);
      expect(error.details.target).toBe(target);
    }
  });

  it('rejects unknown operations listing the supported ones', async () => {
    const error = await failure(call(handler, 'http.options', { url: `${server.origin}/echo` }));
    expect(error.code).toBe('INVALID_OPERATION');
    expect(error.message).toContain('http.get, http.post, http.put, http.patch, http.delete, http.head');
    expect(error.details.supported_operations).toEqual(['http.get', 'http.post', 'http.put', 'http.patch', 'http.delete', 'http.head']);
  });

  it('rejects an invalid payload with ENVELOPE_VALIDATION_ERROR naming the field', async () => {
    const error = await failure(call(handler, 'http.get', { url: `${server.origin}/echo`, body: { a: 1 } }));
    expect(error.code).toBe('ENVELOPE_VALIDATION_ERROR');
    expect(error.message).toContain('payload.body');
  });
});

describe('HttpHandler lifecycle', () => {
  it('fails typed before initialize, and rejects invalid or repeated configuration', async () => {
    const fresh = new HttpHandler();
    expect((await failure(call(fresh, 'http.get', { url: `${server.origin}/echo` }))).code).toBe('HANDLER_EXECUTION_ERROR');
    const invalid = await failure(fresh.initialize({ timeoutMs: -1, retries: 3 } as never));
    expect(invalid.code).toBe('HANDLER_CONFIGURATION_ERROR');
    expect(invalid.message).toContain('config.timeoutMs');
    expect(invalid.message).toContain('"retries"');
    await fresh.initialize({});
    expect((await failure(fresh.initialize({}))).code).toBe('HANDLER_CONFIGURATION_ERROR');
    await fresh.shutdown();
  });

  it('reports health and describes itself', async () => {
    const fresh = new HttpHandler();
    expect(await fresh.healthCheck()).toMatchObject({ healthy: false, handler_type: 'http', initialized: false });
    await fresh.initialize({ timeoutMs: 1234, allowedDomains: ['api.example.com', '*.example.org'], hostId: 'host-a' });
    const health = await fresh.healthCheck();
    expect(health).toMatchObject({
      healthy: true, handler_type: 'http', initialized: true, timeout_ms: 1234, max_response_bytes: 10 * 1024 * 1024, allowed_domains: 2,
    });
    // A count only: the hosts and the host id stay out of health output.
    expect(JSON.stringify(health)).not.toMatch(/example|host-a/);
    const description = fresh.describe();
    expect(description.handlerType).toBe('http');
    expect(description.supportedOperations).toHaveLength(6);
    expect(description.requiredPayloadFields['http.post']).toEqual(['url']);
    expect(description.responseShape).toContain('status_code');
    await fresh.shutdown();
    expect((await fresh.healthCheck()).healthy).toBe(false);
  });

  it('shuts down exactly once and fails execute afterwards with SHUTTING_DOWN', async () => {
    const fresh = await createHttpHandler({ allowedDomains: LOOPBACK });
    expect((await send('http.get', { url: `${server.origin}/text` }, fresh)).status_code).toBe(200);
    await Promise.all([fresh.shutdown(), fresh.shutdown()]);
    await fresh.shutdown();
    const error = await failure(call(fresh, 'http.get', { url: `${server.origin}/text` }));
    expect(error.code).toBe('SHUTTING_DOWN');
    expect(error.retryable).toBe(true);
    expect(error.handlerType).toBe('http');
    expect((await failure(fresh.initialize({}))).code).toBe('SHUTTING_DOWN');
  });

  it('is harmless to shut down a handler that never initialized', async () => {
    const fresh = new HttpHandler();
    await fresh.shutdown();
    await fresh.shutdown();
    expect((await failure(call(fresh, 'http.get', { url: `${server.origin}/text` }))).code).toBe('SHUTTING_DOWN');
  });

  it('logs method, origin, status and duration but no headers or query strings', async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void lines.push(line) } });
    const logged = await createHttpHandler({ allowedDomains: LOOPBACK }, { logger });
    try {
      await send('http.get', { url: `${server.origin}/echo?api_key=qs-secret-2`, headers: { authorization: 'Bearer hdr-secret-3' } }, logged);
      await failure(call(logged, 'http.get', { url: `${server.origin}/hang?api_key=qs-secret-2`, timeout_ms: 100 }));
    } finally {
      await logged.shutdown();
    }
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records[0]).toMatchObject({ level: 'debug', method: 'GET', origin: server.origin, status_code: 200 });
    expect(records[0]).toHaveProperty('duration_ms');
    expect(records[1]).toMatchObject({ error_code: 'INFRA_TIMEOUT' });
    const all = lines.join('\n');
    for (const secret of ['qs-secret-2', 'hdr-secret-3', 'api_key']) expect(all).not.toContain(secret);
  });
});
