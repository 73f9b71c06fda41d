/**
 * Error branches the shared dev agent cannot produce (it has no ACLs, a leader, and
 * answers at once): a fake agent on loopback answers 403, 500 or nothing at all. Also the
 * contract config of the consul unit.
 */
import { RUNTIME_HOST_DEFAULTS, SecretString } from '@onex/core';
import { afterEach, describe, expect, it } from 'vitest';
import { consulUnit } from '../../../src/handlers/consul/consul-unit.js';
import { kvGetPayloadSchema } from '../../../src/handlers/consul/consul-payload.js';
import { ConsulHandler, sanitizeConsulKey, type ConsulHandlerConfig } from '../../../src/handlers/consul/index.js';
import { fakeAgent, memoryLogger, rejection, send } from './consul-test-kit.js';

const TOKEN = 'tok-5f0e1c2a-very-secret';
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** A handler on a fake agent that answers the leader probe, then `answer` for everything else. */
async function handlerOn(answer: Parameters<typeof fakeAgent>[0], extra: Partial<ConsulHandlerConfig> = {}) {
  const agent = await fakeAgent((req, res) => {
    if (req.url?.startsWith('/v1/status/leader') === true) {
      res.setHeader('content-type', 'application/json');
      res.end('"127.0.0.1:8300"');
      return;
    }
    answer(req, res);
  });
  const { logger, lines } = memoryLogger();
  const handler = new ConsulHandler({ logger });
  await handler.initialize({ address: agent.address, token: SecretString.of(TOKEN), kvPrefixes: ['app/'], servicePrefixes: ['app-'], timeoutMs: 5_000, ...extra });
  closers.push(async () => {
    await handler.shutdown();
    await agent.close();
  });
  return { handler, agent, lines };
}

describe('consul error mapping', () => {
  it('maps 403 to an authentication error that quotes neither the token nor the body', async () => {
    let sentToken: string | undefined;
    const { handler, lines } = await handlerOn((req, res) => {
      sentToken = req.headers['x-consul-token'] as string | undefined;
      res.statusCode = 403;
      res.end(`Permission denied: token ${TOKEN} lacks key:write`);
    });
    const error = await rejection(send(handler, 'consul.kv_put', { key: 'app/x', value: 'v' }));
    expect(sentToken).toBe(TOKEN);
    expect(error).toMatchObject({ code: 'INFRA_AUTHENTICATION_ERROR', retryable: false, details: { status_code: 403, transport_type: 'consul' } });
    const health = await handler.healthCheck();
    const everything = JSON.stringify([error.message, error.hint, error.details, error.toEnvelopeError?.(), health, lines()]);
    expect(everything).not.toContain(TOKEN);
  });

  it('maps 5xx to a retryable unavailable error, with the token scrubbed from the quoted answer', async () => {
    const { handler } = await handlerOn((_req, res) => {
      res.statusCode = 500;
      res.end(`No cluster leader (token ${TOKEN})`);
    });
    const error = await rejection(send(handler, 'consul.get_service', { name: 'orders' }));
    expect(error).toMatchObject({ code: 'INFRA_UNAVAILABLE', retryable: true, details: { status_code: 500 } });
    expect(error.message).toContain('No cluster leader');
    expect(error.message).not.toContain(TOKEN);
  });

  it('times out a call the agent never answers', async () => {
    const { handler, agent } = await handlerOn(() => undefined, { timeoutMs: 200 });
    const error = await rejection(send(handler, 'consul.kv_get', { key: 'app/slow' }));
    expect(error).toMatchObject({ code: 'INFRA_TIMEOUT', retryable: true, details: { timeout_ms: 200 } });
    expect(agent.requests()).toBe(2);
  });

  it('aborts the request when the caller gives up, and answers with the caller\'s reason', async () => {
    const { handler, agent } = await handlerOn(() => undefined);
    const controller = new AbortController();
    const pending = send(handler, 'consul.list_services', {}, { signal: controller.signal });
    await expect.poll(() => agent.requests()).toBe(2);
    controller.abort();
    const error = await rejection(pending);
    expect(error).toMatchObject({ code: 'INFRA_TIMEOUT', details: { phase: 'cancelled' } });
    // The socket to the agent was closed, not left waiting.
    await expect.poll(() => agent.closedSockets()).toBeGreaterThanOrEqual(1);
  });

  it('reports unhealthy, without the token, when the agent fails the leader probe', async () => {
    let failing = false;
    const agent = await fakeAgent((_req, res) => {
      if (failing) {
        res.statusCode = 503;
        res.end(`down ${TOKEN}`);
      } else {
        res.setHeader('content-type', 'application/json');
        res.end('"127.0.0.1:8300"');
      }
    });
    const handler = new ConsulHandler();
    await handler.initialize({ address: agent.address, token: SecretString.of(TOKEN) });
    closers.push(async () => {
      await handler.shutdown();
      await agent.close();
    });
    failing = true;
    const health = await handler.healthCheck();
    expect(health).toMatchObject({ healthy: false, handler_type: 'consul' });
    expect(JSON.stringify(health)).not.toContain(TOKEN);
  });

  it('refuses KV keys with control characters, traversal or a leading slash', () => {
    for (const key of ['app/a\nb', 'app/\u0000', 'app/\u007f', 'app/../other', '/app/x']) expect(kvGetPayloadSchema.safeParse({ key }).success).toBe(false);
    expect(kvGetPayloadSchema.safeParse({ key: 'app/config' }).success).toBe(true);
  });

  it('shows only the first segment of a KV key', () => {
    expect(sanitizeConsulKey('users/alice@example.com/token')).toBe('users/***');
    expect(sanitizeConsulKey('app/')).toBe('app/');
    expect(sanitizeConsulKey('flat')).toBe('flat');
  });
});

describe('consul unit config', () => {
  const parse = (config: unknown) => consulUnit.configSchema.safeParse(config);

  it('accepts host:port, http(s) URLs and ${NAME} placeholders, and defaults to no KV and no service writes', () => {
    for (const address of ['127.0.0.1:8500', 'http://consul.local:8500', 'https://[::1]:8501', '${CONSUL_HTTP_ADDR}']) expect(parse({ address }).success).toBe(true);
    expect(parse({ address: '127.0.0.1:8500' }).data).toMatchObject({ kvPrefixes: [], servicePrefixes: [], checkHosts: [] });
  });

  it('refuses unknown keys, bad addresses and prefixes that are not confined', () => {
    expect(parse({ address: 'consul.local' }).success).toBe(false);
    expect(parse({ address: 'ftp://consul.local:8500' }).success).toBe(false);
    expect(parse({ address: '127.0.0.1:8500', kv_prefix: ['a/'] }).success).toBe(false);
    for (const prefix of ['app', '/app/', 'app/../', '']) expect(parse({ address: '127.0.0.1:8500', kv_prefixes: [prefix] }).success).toBe(false);
  });

  it('keeps the token masked in the initialize config', () => {
    const settings = parse({ address: '127.0.0.1:8500' });
    expect(settings.success).toBe(true);
    if (!settings.success) return;
    // The host hands a unit its resolved credentials wrapped.
    const config = consulUnit.initializeConfig({ ...settings.data, token: SecretString.of('resolved-token') } as never, { timeoutMs: 1234, circuitBreaker: RUNTIME_HOST_DEFAULTS.circuitBreaker }, { hostId: 'h', production: false });
    expect(JSON.stringify(config)).not.toContain('resolved-token');
    expect(config).toMatchObject({ address: '127.0.0.1:8500', timeoutMs: 1234 });
  });
});
