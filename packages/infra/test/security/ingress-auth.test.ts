import { afterEach, describe, expect, it } from 'vitest';
import { InMemoryEventBus } from '../../src/event-bus/in-memory-event-bus.js';
import { createLogger } from '../../src/logging/logger.js';
import { ManualScheduler } from '../kafka/manual-scheduler.js';
import { startIngressServer } from '../../src/runtime/ingress-server.js';
import { RuntimeHostProcess } from '../../src/runtime/runtime-host-process.js';
import { COMPATIBLE_VERSION_FACTS, Cleanup, FakeHandler, FakeHandlerSource, testSettings } from '../runtime/fakes.js';
import { ALICE, BOB, postJson, request, serve } from './ingress-kit.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

const REQUEST = { operation: 'http.get', payload: {} };

describe('ingress attack: calls without a valid token', () => {
  it('answers a call without a token with 401, WWW-Authenticate: Bearer, and never executes it', async () => {
    const { url, handler } = await serve(cleanup, { ingress: { authTokens: [ALICE] } });
    const res = await postJson(url, REQUEST);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer /);
    expect(res.json).toMatchObject({ is_response: true, success: false, error: { code: 'INGRESS_UNAUTHENTICATED' } });
    expect(handler.calls).toHaveLength(0);
  });

  it('answers a wrong token (same length, other prefix, longer, another scheme) with 401 and never echoes it', async () => {
    const { url, handler } = await serve(cleanup, { ingress: { authTokens: [ALICE] } });
    for (const authorization of [`Bearer ${ALICE.token.replace(/.$/, 'x')}`, `Bearer ${ALICE.token}x`, 'Bearer ', `Basic ${ALICE.token}`, ALICE.token]) {
      const res = await postJson(url, REQUEST, undefined, { authorization });
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toContain('Bearer');
      expect(res.body).not.toContain(ALICE.token);
    }
    expect(handler.calls).toHaveLength(0);
  });

  it('serves each configured client with its own token', async () => {
    const { url, handler } = await serve(cleanup, { ingress: { authTokens: [ALICE, BOB] } });
    expect((await postJson(url, REQUEST, ALICE.token)).status).toBe(200);
    expect((await postJson(url, REQUEST, BOB.token)).status).toBe(200);
    expect(handler.calls).toHaveLength(2);
  });

  it('keeps /health/live and /health/ready open for probes, and guards /health/handlers', async () => {
    const { url } = await serve(cleanup, { ingress: { authTokens: [ALICE] } });
    expect((await request(url, { method: 'GET', path: '/health/live' })).status).toBe(200);
    expect((await request(url, { method: 'GET', path: '/health/ready' })).status).toBe(200);
    expect((await request(url, { method: 'GET', path: '/health/handlers' })).status).toBe(401);
    expect((await request(url, { method: 'GET', path: '/health/handlers', headers: { authorization: `Bearer ${ALICE.token}` } })).status).toBe(200);
  });

  it('logs repeated bad-token calls a few times, then one "suppressed" line, never the token', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) } });
    const scheduler = new ManualScheduler();
    const { url, server } = await serve(cleanup, { ingress: { authTokens: [ALICE], logger, scheduler } });
    for (let i = 0; i < 40; i += 1) expect((await postJson(url, REQUEST, `guess-${i}`)).status).toBe(401);
    const refused = lines.filter((l) => l.msg === 'ingress refused a request (401)');
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.length).toBeLessThan(40);
    expect(refused[0]).toMatchObject({ level: 'warn', reason: 'invalid_token', route: 'POST /v1/envelopes' });
    await scheduler.advance(60_000);
    expect(lines.at(-1)).toMatchObject({ msg: `suppressed ${40 - refused.length} similar warnings`, reason: 'invalid_token' });
    await server.close();
    expect(JSON.stringify(lines)).not.toMatch(/guess-|alice-token/);
  });

  it('refuses to listen on a non-loopback address without tokens', async () => {
    const host = new RuntimeHostProcess({
      directHandlerCalls: true,
      settings: testSettings({ handlers: [{ type: 'http', config: {} }] }),
      bus: new InMemoryEventBus(),
      handlerSource: new FakeHandlerSource([new FakeHandler('http')]),
      versionFacts: COMPATIBLE_VERSION_FACTS,
    });
    cleanup.add(() => host.stop(), host);
    await host.start();
    for (const address of ['0.0.0.0', '::']) {
      await expect(startIngressServer(host, { host: address, port: 0 })).rejects.toMatchObject({ code: 'INGRESS_INSECURE_CONFIGURATION', message: expect.stringContaining(address) as unknown });
    }
    await expect(startIngressServer(host, { port: 0, authTokens: [{ client: 'x', token: '' }] })).rejects.toMatchObject({ code: 'INGRESS_INSECURE_CONFIGURATION' });
    const open = await startIngressServer(host, { host: '0.0.0.0', port: 0, authTokens: [ALICE] });
    await open.close();
  });
});
