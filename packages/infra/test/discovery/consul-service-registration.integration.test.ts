/**
 * The host's self-registration against the real Consul dev agent: the plan from a
 * contract section, registration with an HTTP check on /health/ready (a stand-in ingress
 * here; the binary test uses the real one), and deregistration. Checked with Consul's own API.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { RUNTIME_HOST_DEFAULTS, type ServiceRegistrationConfig } from '@onex/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerServiceInConsul, serviceRegistrationPlan } from '../../src/discovery/consul-service-registration.js';
import { EnvSecretSource } from '../../src/secrets/env-secret-source.js';
import { SecretResolver } from '../../src/secrets/secret-resolver.js';

/** The host's resolver over an environment: the token comes through it, as in the binary. */
const resolverOver = (vars: Readonly<Record<string, string>>) => new SecretResolver({ sources: [new EnvSecretSource({ env: vars })], ttlMs: 0 });
import { CONSUL_HTTP_ADDR, consulServerAvailable } from '../helpers/require-server.js';
import { agentGet, eventually, memoryLogger, rejection } from '../handlers/consul/consul-test-kit.js';

const available = await consulServerAvailable();
const run = randomUUID().slice(0, 8);
const TOKEN = `tok-${randomUUID()}`;
const D = RUNTIME_HOST_DEFAULTS.serviceRegistration;

const section = (extra: Partial<ServiceRegistrationConfig> = {}): ServiceRegistrationConfig => ({
  consul: { address: '${TEST_CONSUL_ADDR}', token: { secretRef: 'env://TEST_CONSUL_TOKEN', scheme: 'env', path: 'TEST_CONSUL_TOKEN' } },
  serviceName: `onex-reg-${run}`,
  tags: ['runtime'],
  meta: { version: '1.0.0' },
  check: { intervalMs: 1_000, timeoutMs: D.checkTimeoutMs, deregisterCriticalAfterMs: D.deregisterCriticalAfterMs },
  ...extra,
});
const env = { TEST_CONSUL_ADDR: CONSUL_HTTP_ADDR, TEST_CONSUL_TOKEN: TOKEN };

describe.skipIf(!available)('Consul self-registration', () => {
  let ready: http.Server;
  let ingressUrl = '';
  const seen: string[] = [];

  beforeAll(async () => {
    ready = http.createServer((req, res) => {
      seen.push(`${req.method ?? ''} ${req.url ?? ''} ${req.headers.authorization ?? 'no-auth'}`);
      res.end('{"state":"running"}');
    });
    await new Promise<void>((resolve) => ready.listen(0, '127.0.0.1', resolve));
    ingressUrl = `http://127.0.0.1:${(ready.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => ready.close(resolve));
  });

  it('registers the host with a passing check on its /health/ready, and removes it on deregister', async () => {
    const plan = await serviceRegistrationPlan(section(), { hostId: 'host-a1', ingressUrl, env, resolver: resolverOver(env) });
    expect(plan).toMatchObject({ serviceId: `onex-reg-${run}-host-a1`, address: '127.0.0.1', port: Number(new URL(ingressUrl).port) });
    expect(JSON.stringify(plan)).not.toContain(TOKEN);
    const { logger, lines } = memoryLogger();
    const registration = await registerServiceInConsul(plan, { logger });
    try {
      const services = (await agentGet('/v1/agent/services')).body as Record<string, { Service: string; Port: number; Tags: string[]; Meta: Record<string, string> }>;
      expect(services[plan.serviceId]).toMatchObject({ Service: `onex-reg-${run}`, Port: plan.port, Tags: ['runtime'], Meta: { version: '1.0.0' } });
      await eventually(async () => {
        const health = (await agentGet(`/v1/health/service/onex-reg-${run}?passing=true`)).body as unknown[];
        expect(health).toHaveLength(1);
      });
      expect(seen.some((s) => s.startsWith('GET /health/ready no-auth'))).toBe(true);
    } finally {
      await registration.deregister();
    }
    expect(((await agentGet('/v1/agent/services')).body as Record<string, unknown>)[plan.serviceId]).toBeUndefined();
    // A second deregister is harmless.
    await registration.deregister();
    const messages = lines().map((l) => l.msg);
    expect(messages).toEqual(['registered in Consul', 'deregistered from Consul']);
    expect(JSON.stringify(lines())).not.toContain(TOKEN);
  });

  it('fails with a typed, retryable error when the agent cannot be reached, naming the agent but not the token', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const plan = await serviceRegistrationPlan(section(), { hostId: 'h', ingressUrl, env: { ...env, TEST_CONSUL_ADDR: `127.0.0.1:${port}` }, resolver: resolverOver(env) });
    const error = await rejection(registerServiceInConsul(plan));
    expect(error).toMatchObject({ code: 'INFRA_CONNECTION_ERROR', retryable: true, details: { target: `http://127.0.0.1:${port}` } });
    expect(JSON.stringify([error.message, error.details, error.hint])).not.toContain(TOKEN);
  });

  it('does not repeat the service name in the default id when the host id already starts with it', async () => {
    const plan = await serviceRegistrationPlan(section(), { hostId: `onex-reg-${run}-1a2b3c4d`, ingressUrl, env, resolver: resolverOver(env) });
    expect(plan.serviceId).toBe(`onex-reg-${run}-1a2b3c4d`);
  });

  it('says which variable is missing when the agent address is not set', async () => {
    const error = await rejection(serviceRegistrationPlan(section(), { hostId: 'h', ingressUrl, env: {}, resolver: resolverOver({}) }));
    expect(error.message).toContain('TEST_CONSUL_ADDR');
  });
});
