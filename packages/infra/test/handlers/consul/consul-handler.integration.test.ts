/**
 * ConsulHandler against the real Consul dev agent (CONSUL_HTTP_ADDR, default
 * 127.0.0.1:8500). What the handler did is checked with Consul's own HTTP API. Every
 * service and key is unique to this run (the agent is shared). Skips loudly without an
 * agent; fails under CI=true.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { InfraConnectionError, SecretString } from '@onex/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsulHandler, createConsulHandler, type ConsulHandlerConfig } from '../../../src/handlers/consul/index.js';
import { CONSUL_HTTP_ADDR, consulServerAvailable } from '../../helpers/require-server.js';
import { agentGet, agentPut, eventually, rejection, send } from './consul-test-kit.js';

const available = await consulServerAvailable();
const run = randomUUID().slice(0, 8);
const prefix = `onex-it-${run}-`;
const kvPrefix = `onex-it/${run}/`;
const TOKEN = `tok-${randomUUID()}`;

const config = (extra: Partial<ConsulHandlerConfig> = {}): ConsulHandlerConfig => ({
  address: CONSUL_HTTP_ADDR,
  token: SecretString.of(TOKEN),
  timeoutMs: 5_000,
  kvPrefixes: [kvPrefix],
  servicePrefixes: [prefix],
  ...extra,
});

describe.skipIf(!available)('ConsulHandler on a real Consul agent', () => {
  let handler: ConsulHandler;
  let checkTarget: http.Server;
  let checkPort = 0;

  beforeAll(async () => {
    handler = await createConsulHandler(config());
    // What an HTTP check probes: a service that is healthy.
    checkTarget = http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => checkTarget.listen(0, '127.0.0.1', resolve));
    checkPort = (checkTarget.address() as AddressInfo).port;
  });

  afterAll(async () => {
    const services = (await agentGet('/v1/agent/services')).body as Record<string, unknown>;
    for (const id of Object.keys(services)) if (id.startsWith(prefix)) await agentPut(`/v1/agent/service/deregister/${id}`);
    await fetch(`http://${CONSUL_HTTP_ADDR}/v1/kv/onex-it/${run}?recurse=true`, { method: 'DELETE' });
    await handler.shutdown();
    await new Promise((resolve) => checkTarget.close(resolve));
  });

  it('registers a service with a TTL check, finds it, reports it critical until its TTL is passed, and deregisters it', async () => {
    const name = `${prefix}ttl`;
    const registered = await send(handler, 'consul.register_service', {
      name,
      id: `${name}-1`,
      tags: ['blue', 'v1'],
      address: '127.0.0.1',
      port: 9001,
      meta: { owner: 'orders' },
      check: { ttl: '30s' },
    });
    expect(registered).toEqual({ service_id: `${name}-1` });
    const onAgent = (await agentGet('/v1/agent/services')).body as Record<string, { Service: string; Port: number; Tags: string[] }>;
    expect(onAgent[`${name}-1`]).toMatchObject({ Service: name, Port: 9001, Tags: ['blue', 'v1'] });

    const found = await send(handler, 'consul.get_service', { name });
    expect(found).toMatchObject({ found: true, instances: [{ id: `${name}-1`, address: '127.0.0.1', port: 9001, tags: ['blue', 'v1'], meta: { owner: 'orders' }, status: 'critical' }] });
    // A TTL check starts critical: the passing-only view has no instance yet.
    expect(await send(handler, 'consul.get_service', { name, passing_only: true })).toEqual({ found: false, instances: [] });
    const health = (await send(handler, 'consul.health_check_service', { name })) as { status: string; checks: Array<{ service_id: string; status: string }> };
    expect(health.status).toBe('critical');
    expect(health.checks.some((c) => c.service_id === `${name}-1` && c.status === 'critical')).toBe(true);

    const listed = (await send(handler, 'consul.list_services', {})) as { services: Record<string, string[]> };
    expect(listed.services[name]).toEqual(expect.arrayContaining(['blue', 'v1']));

    expect(await send(handler, 'consul.deregister_service', { service_id: `${name}-1` })).toEqual({ service_id: `${name}-1`, deregistered: true });
    expect(((await agentGet('/v1/agent/services')).body as Record<string, unknown>)[`${name}-1`]).toBeUndefined();
    expect(await send(handler, 'consul.get_service', { name })).toEqual({ found: false, instances: [] });
    expect(await send(handler, 'consul.health_check_service', { name })).toEqual({ status: 'unknown', checks: [] });
    // Deregistering again: the agent does not know the id any more.
    expect(await send(handler, 'consul.deregister_service', { service_id: `${name}-1` })).toEqual({ service_id: `${name}-1`, deregistered: false });
  });

  it('registers a service with an HTTP check on its own address, which the agent reports passing', async () => {
    const name = `${prefix}http`;
    await send(handler, 'consul.register_service', {
      name,
      address: '127.0.0.1',
      port: checkPort,
      check: { http: `http://127.0.0.1:${checkPort}/health`, interval: '1s', timeout: '2s', deregister_critical_service_after: '1m' },
    });
    await eventually(async () => {
      expect(await send(handler, 'consul.health_check_service', { name })).toMatchObject({ status: 'passing' });
    });
    expect(await send(handler, 'consul.get_service', { name, passing_only: true })).toMatchObject({ found: true, instances: [{ id: name, status: 'passing' }] });
    const checks = (await agentGet('/v1/agent/checks')).body as Record<string, { ServiceID: string; Status: string }>;
    expect(Object.values(checks).find((c) => c.ServiceID === name)?.Status).toBe('passing');
  });

  it('reads, writes with check-and-set, and deletes keys', async () => {
    const key = `${kvPrefix}config/limit`;
    expect(await send(handler, 'consul.kv_get', { key })).toEqual({ found: false, value: null, modify_index: null });
    // cas 0: create only. The second create loses, and says so without an error.
    expect(await send(handler, 'consul.kv_put', { key, value: '10', cas: 0 })).toEqual({ written: true });
    expect(await send(handler, 'consul.kv_put', { key, value: '99', cas: 0 })).toEqual({ written: false });
    const read = (await send(handler, 'consul.kv_get', { key })) as { found: boolean; value: string; modify_index: number };
    expect(read).toMatchObject({ found: true, value: '10' });
    expect(await send(handler, 'consul.kv_put', { key, value: '20', cas: read.modify_index + 1000 })).toEqual({ written: false });
    expect(await send(handler, 'consul.kv_put', { key, value: '20', cas: read.modify_index })).toEqual({ written: true });
    expect(await send(handler, 'consul.kv_put', { key, value: '' })).toEqual({ written: true });
    expect(await send(handler, 'consul.kv_get', { key })).toMatchObject({ found: true, value: null });

    await send(handler, 'consul.kv_put', { key: `${kvPrefix}tree/a`, value: 'a' });
    await send(handler, 'consul.kv_put', { key: `${kvPrefix}tree/b/c`, value: 'c' });
    expect(await send(handler, 'consul.kv_delete', { key: `${kvPrefix}tree/`, recurse: true })).toEqual({ deleted: true });
    expect((await agentGet(`/v1/kv/${kvPrefix}tree/?recurse=true`)).status).toBe(404);
    expect(await send(handler, 'consul.kv_delete', { key })).toEqual({ deleted: true });
    expect((await agentGet(`/v1/kv/${key}`)).status).toBe(404);
  });

  it('refuses KV keys outside kv_prefixes, and keys that climb out of them, before calling the agent', async () => {
    const outside = await rejection(send(handler, 'consul.kv_put', { key: `onex-it-other/${run}/x`, value: 'v' }));
    expect(outside).toMatchObject({ code: 'INVALID_OPERATION', details: { kv_prefixes: [kvPrefix] } });
    expect(outside.message).not.toContain(run);
    expect((await agentGet(`/v1/kv/onex-it-other/${run}/x`)).status).toBe(404);
    for (const key of [`${kvPrefix}../../x`, `/${kvPrefix}x`, `${kvPrefix}a//b`]) {
      expect(await rejection(send(handler, 'consul.kv_put', { key, value: 'v' }))).toMatchObject({ code: 'ENVELOPE_VALIDATION_ERROR' });
    }
    // Reads are confined too: other teams' configuration stays theirs.
    expect(await rejection(send(handler, 'consul.kv_get', { key: 'global/secret' }))).toMatchObject({ code: 'INVALID_OPERATION' });
    // A handler without kv_prefixes has no KV at all.
    const noKv = await createConsulHandler(config({ kvPrefixes: [] }));
    try {
      expect((await rejection(send(noKv, 'consul.kv_get', { key: `${kvPrefix}x` }))).message).toContain('no kv_prefixes');
    } finally {
      await noKv.shutdown();
    }
  });

  it("refuses to register or deregister services outside service_prefixes, and HTTP checks on other hosts", async () => {
    const other = `onex-other-${run}`;
    expect(await rejection(send(handler, 'consul.register_service', { name: other }))).toMatchObject({ code: 'INVALID_OPERATION', details: { field: 'payload.name' } });
    // An id outside the prefixes could replace another team's instance.
    expect(await rejection(send(handler, 'consul.register_service', { name: `${prefix}x`, id: other }))).toMatchObject({ code: 'INVALID_OPERATION', details: { field: 'payload.id' } });
    expect(await rejection(send(handler, 'consul.deregister_service', { service_id: 'consul' }))).toMatchObject({ code: 'INVALID_OPERATION' });
    const ssrf = await rejection(send(handler, 'consul.register_service', { name: `${prefix}probe`, address: '127.0.0.1', check: { http: 'http://169.254.169.254/latest/meta-data', interval: '10s' } }));
    expect(ssrf).toMatchObject({ code: 'INVALID_OPERATION', details: { check_host: '169.254.169.254' } });
    expect(await rejection(send(handler, 'consul.register_service', { name: `${prefix}ftp`, check: { http: 'ftp://127.0.0.1/x', interval: '10s' } }))).toMatchObject({ code: 'ENVELOPE_VALIDATION_ERROR' });
    const services = (await agentGet('/v1/agent/services')).body as Record<string, unknown>;
    expect(Object.keys(services).filter((id) => id === other || id === `${prefix}probe` || id === `${prefix}x`)).toEqual([]);
    expect(services.consul ?? (await agentGet('/v1/catalog/service/consul')).body).toBeTruthy();
  });

  it('refuses writes from a read_only grant and still serves its reads', async () => {
    const refused = await rejection(send(handler, 'consul.kv_put', { key: `${kvPrefix}ro`, value: 'v' }, { access: 'read_only', nodeSlug: 'reader' }));
    expect(refused).toMatchObject({ code: 'INVALID_OPERATION', details: { access: 'read_only', node: 'reader' } });
    expect((await agentGet(`/v1/kv/${kvPrefix}ro`)).status).toBe(404);
    expect(await send(handler, 'consul.kv_get', { key: `${kvPrefix}ro` }, { access: 'read_only' })).toMatchObject({ found: false });
    expect(await rejection(send(handler, 'consul.register_service', { name: `${prefix}ro` }, { access: 'read_only' }))).toMatchObject({ code: 'INVALID_OPERATION' });
  });

  it("passes Consul's 400 answer on as a non-retryable error", async () => {
    // Consul reserves meta keys starting with "consul-".
    const error = await rejection(send(handler, 'consul.register_service', { name: `${prefix}bad`, meta: { 'consul-internal': 'x' } }));
    expect(error).toMatchObject({ code: 'HANDLER_EXECUTION_ERROR', retryable: false, details: { status_code: 400, transport_type: 'consul' } });
    expect(error.message).toMatch(/reserved/i);
  });

  it('is healthy while the agent answers, and never shows the token', async () => {
    const health = await handler.healthCheck();
    expect(health).toMatchObject({ healthy: true, handler_type: 'consul' });
    expect(JSON.stringify(health)).not.toContain(TOKEN);
  });

  it('fails initialize with a retryable connection error when no agent listens', async () => {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const fresh = new ConsulHandler();
    const error = await rejection(fresh.initialize(config({ address: `http://127.0.0.1:${port}` })));
    expect(error).toBeInstanceOf(InfraConnectionError);
    expect(error).toMatchObject({ retryable: true, details: { target: `http://127.0.0.1:${port}` } });
    expect(JSON.stringify({ message: error.message, details: error.details, hint: error.hint })).not.toContain(TOKEN);
    expect(fresh.state).toBe('failed');
  });
});
