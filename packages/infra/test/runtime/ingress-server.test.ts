import { toWireEnvelope, type WireEnvelope } from '@onex/core';
import { deterministicProviders } from '@onex/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { InMemoryEventBus } from '../../src/event-bus/in-memory-event-bus.js';
import { HandlerBootstrapSource } from '../../src/runtime/handler-bootstrap-source.js';
import { startIngressServer, type IngressOptions } from '../../src/runtime/ingress-server.js';
import { RuntimeHostProcess } from '../../src/runtime/runtime-host-process.js';
import { COMPATIBLE_VERSION_FACTS, Cleanup, requestFactory, testSettings } from './fakes.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const CORRELATION = '1a2b3c4d-0000-4000-8000-000000000001';

/** A running host with the dev-only local handler, and an ingress in front of it on a free port. */
async function serve(options: IngressOptions = {}) {
  const host = new RuntimeHostProcess({
    directHandlerCalls: true,
    settings: testSettings({ handlers: [{ type: 'local', config: {} }], drainTimeoutMs: 2000 }),
    bus: new InMemoryEventBus(),
    handlerSource: new HandlerBootstrapSource({ includeDevHandlers: true }),
    versionFacts: COMPATIBLE_VERSION_FACTS,
    providers: deterministicProviders(),
  });
  cleanup.add(() => host.stop(), host);
  await host.start();
  const server = await startIngressServer(host, { port: 0, ...options });
  cleanup.add(() => server.close(), server);
  expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  return { host, url: server.url };
}

async function post(url: string, body: string): Promise<{ status: number; json: unknown; contentType: string | null }> {
  const res = await fetch(`${url}/v1/envelopes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: res.status, json: (await res.json()) as unknown, contentType: res.headers.get('content-type') };
}

async function get(url: string, path: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${url}${path}`);
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('ingress: POST /v1/envelopes', () => {
  it('answers a full envelope with 200 and its correlated response envelope as snake_case JSON', async () => {
    const { url } = await serve();
    const request = requestFactory()({ operation: 'local.echo', correlationId: CORRELATION, payload: { hello: 'world' } });
    const { status, json, contentType } = await post(url, JSON.stringify(toWireEnvelope(request)));

    expect(status).toBe(200);
    expect(contentType).toContain('application/json');
    expect(json).toStrictEqual({
      envelope_id: '00000000-0000-0000-0000-00000000002b',
      envelope_version: '1.0.0',
      correlation_id: CORRELATION,
      causation_id: request.envelopeId,
      operation: 'local.echo',
      payload: { hello: 'world' },
      metadata: {},
      timestamp: '2024-01-01T00:00:00.000Z',
      is_response: true,
      success: true,
    });
  });

  it('accepts a plain request object and assigns the correlation id', async () => {
    const { url } = await serve();
    const { status, json } = await post(url, JSON.stringify({ operation: 'transform', payload: { name: 'ada' }, handler_type: 'local' }));

    expect(status).toBe(200);
    const response = json as WireEnvelope;
    // The host gave the request its envelope id (…2b) and correlation id (…2c).
    expect(response).toMatchObject({
      correlation_id: '00000000-0000-0000-0000-00000000002c',
      causation_id: '00000000-0000-0000-0000-00000000002b',
      handler_type: 'local',
      operation: 'transform',
      payload: { name: 'ADA' },
      is_response: true,
      success: true,
    });
  });

  it('answers 200 with an error envelope when the handler fails (the HTTP exchange itself worked)', async () => {
    const { url } = await serve();
    const { status, json } = await post(url, JSON.stringify({ operation: 'local.error', correlation_id: CORRELATION, payload: { message: 'nope' } }));
    expect(status).toBe(200);
    expect(json).toMatchObject({ correlation_id: CORRELATION, success: false, error: { code: 'HANDLER_EXECUTION_ERROR', message: 'nope', handler_type: 'local' } });
  });

  it('answers a malformed body with 400 and an ENVELOPE_VALIDATION_ERROR envelope', async () => {
    const { url } = await serve();
    const malformed = await post(url, '{"operation": "local.echo",');
    expect(malformed.status).toBe(400);
    expect(malformed.json).toMatchObject({ is_response: true, success: false, error: { code: 'ENVELOPE_VALIDATION_ERROR', issues: [{ path: '<root>', message: 'malformed JSON' }] } });
    expect((malformed.json as WireEnvelope).correlation_id).toMatch(/^[0-9a-f-]{36}$/);

    const invalid = await post(url, JSON.stringify({ correlation_id: CORRELATION, payload: {} }));
    expect(invalid.status).toBe(400);
    expect(invalid.json).toMatchObject({ correlation_id: CORRELATION, success: false, error: { code: 'ENVELOPE_VALIDATION_ERROR', issues: [{ path: 'operation', message: 'is required' }] } });
  });

  it('answers a body over maxBodyBytes with 413 and an INGRESS_BODY_TOO_LARGE envelope', async () => {
    const { url, host } = await serve({ maxBodyBytes: 256 });
    const { status, json } = await post(url, JSON.stringify({ operation: 'local.echo', payload: { blob: 'x'.repeat(1024) } }));
    expect(status).toBe(413);
    expect(json).toMatchObject({ success: false, error: { code: 'INGRESS_BODY_TOO_LARGE', message: 'Request body exceeds 256 bytes' } });
    expect(host.health().processed).toBe(0);
  });

  it('answers 503 with SHUTTING_DOWN once the host is stopped', async () => {
    const { url, host } = await serve();
    await host.stop();
    const { status, json } = await post(url, JSON.stringify({ operation: 'local.echo', correlation_id: CORRELATION }));
    expect(status).toBe(503);
    expect(json).toMatchObject({ correlation_id: CORRELATION, success: false, error: { code: 'SHUTTING_DOWN' } });
  });
});

describe('ingress: health and routing', () => {
  it('serves /health/live and /health/ready (200 while running, 503 after stop)', async () => {
    const { url, host } = await serve();
    const live = await get(url, '/health/live');
    expect(live.status).toBe(200);
    expect(live.json).toMatchObject({ status: 'alive', state: 'running' });
    expect(typeof live.json.event_loop_delay_ms).toBe('number');
    const ready = await get(url, '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.json).toMatchObject({ status: 'ready', state: 'running', ready: true, max_in_flight: 16 });

    await host.stop();
    const notReady = await get(url, '/health/ready');
    expect(notReady.status).toBe(503);
    expect(notReady.json).toMatchObject({ status: 'not_ready', state: 'stopped', ready: false });
    expect((await get(url, '/health/live')).status).toBe(503);
  });

  it('lists the health of each handler on /health/handlers', async () => {
    const { url } = await serve();
    const { status, json } = await get(url, '/health/handlers');
    expect(status).toBe(200);
    expect(json).toMatchObject({ state: 'running', handlers: [{ healthy: true, handler_type: 'local', dev_test_only: true, required: true, lifecycle_state: 'HEALTHY', in_flight: 0, circuit: null, last_error: null }], bus: { kind: 'inmemory', healthy: true, consuming: true } });
  });

  it('answers an unknown route with a 404 envelope naming the routes, and a known path with the wrong method with 405', async () => {
    const { url } = await serve();
    const unknown = await get(url, '/v2/nothing');
    expect(unknown.status).toBe(404);
    expect(unknown.json).toMatchObject({ is_response: true, success: false, error: { code: 'INGRESS_ROUTE_NOT_FOUND', message: 'No route GET /v2/nothing' } });
    expect(unknown.json.correlation_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(String((unknown.json.error as { hint: string }).hint)).toContain('POST /v1/envelopes');

    const res = await fetch(`${url}/v1/envelopes`);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect(await res.json()).toMatchObject({ success: false, error: { code: 'INGRESS_METHOD_NOT_ALLOWED' } });
  });
});
