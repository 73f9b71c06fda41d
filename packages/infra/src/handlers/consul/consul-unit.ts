/**
 * The consul handler unit: operations, the contract config schema (wire → ConsulHandlerConfig)
 * and how the handler is built. The handler module, and the `consul` package with it,
 * loads only in `create`.
 */
import { addRuleIssue, isTemplated, secretValueSchema } from '@onex/core/contract-kit';
import { z } from 'zod';
import { defineHandlerUnit, type HandlerConfigValue, type HandlerInitConfig } from '../handler-unit.js';
import { checkHostSchema, kvPrefixSchema, parseConsulAddress, servicePrefixSchema } from './consul-config.js';
import {
  deregisterServicePayloadSchema,
  getServicePayloadSchema,
  healthCheckServicePayloadSchema,
  kvDeletePayloadSchema,
  kvGetPayloadSchema,
  kvPutPayloadSchema,
  listServicesPayloadSchema,
  registerServicePayloadSchema,
} from './consul-payload.js';

/** The agent address: checked when written literally; a `${NAME}` placeholder is expanded by the host. */
const addressSchema = z.string().min(1).superRefine((value, ctx) => {
  if (!isTemplated(value) && parseConsulAddress(value) === undefined) {
    addRuleIssue(ctx, `must be "host:port", "http://host:port", "https://host:port" or a \${NAME} placeholder (got "${value}")`, {
      hint: 'Write e.g. address: "127.0.0.1:8500" or address: "${CONSUL_HTTP_ADDR}".',
    });
  }
});

/** The consul binding's own `config` keys (besides timeout_ms, retry_policy, rate_limit). */
export const consulContractConfigSchema = z
  .strictObject({
    address: addressSchema.describe('The Consul agent: "host:port", "http(s)://host:port" or a ${NAME} placeholder such as "${CONSUL_HTTP_ADDR}".'),
    token: secretValueSchema.optional().describe('ACL token, sent as X-Consul-Token; a secret_ref (never written into the contract).'),
    datacenter: z.string().min(1).optional().describe("Datacenter for every call. Default: the agent's own."),
    kv_prefixes: z
      .array(kvPrefixSchema)
      .readonly()
      .optional()
      .describe('KV key prefixes (ending with "/") envelopes may read and write, e.g. ["orders/config/"]. Default: none, so every KV operation is refused.'),
    service_prefixes: z
      .array(servicePrefixSchema)
      .readonly()
      .optional()
      .describe('Service name prefixes envelopes may register and deregister (name and id must both match), e.g. ["orders-"]. Default: none, so service writes are refused; reads are open.'),
    check_hosts: z
      .array(checkHostSchema)
      .readonly()
      .optional()
      .describe("Hosts an HTTP check may probe besides the registered service's own address (the agent calls them). Default: none."),
  })
  .transform((w) => ({
    address: w.address,
    token: w.token,
    datacenter: w.datacenter,
    kvPrefixes: w.kv_prefixes ?? [],
    servicePrefixes: w.service_prefixes ?? [],
    checkHosts: w.check_hosts ?? [],
  }));

export const consulUnit = defineHandlerUnit({
  type: 'consul',
  name: 'handler_consul',
  version: '1.0.0',
  category: 'effect',
  isAdapter: false,
  devOnly: false,
  summary: 'Service discovery (register, deregister, look up, health) and KV on a Consul agent, confined to configured prefixes.',
  capabilities: ['consul.service_discovery', 'consul.health', 'consul.kv', 'consul.kv_cas'],
  operations: [
    { name: 'consul.register_service', summary: 'Register a service instance on the agent, with an optional HTTP or TTL check.', payloadSchema: registerServicePayloadSchema, responseShape: '{ service_id: string }' },
    { name: 'consul.deregister_service', summary: 'Remove a service instance from the agent.', payloadSchema: deregisterServicePayloadSchema, responseShape: '{ service_id: string, deregistered: boolean }' },
    {
      name: 'consul.get_service',
      summary: 'Instances of a service with their health.',
      payloadSchema: getServicePayloadSchema,
      responseShape: '{ found: boolean, instances: [{ id, node, address, port, tags, meta, status: passing|warning|critical }] }',
    },
    { name: 'consul.list_services', summary: 'Every service in the catalog with its tags.', payloadSchema: listServicesPayloadSchema, responseShape: '{ services: { <name>: string[] } }' },
    {
      name: 'consul.health_check_service',
      summary: "A service's aggregate health: its worst check (critical > warning > passing); unknown without instances.",
      payloadSchema: healthCheckServicePayloadSchema,
      responseShape: '{ status: passing|warning|critical|unknown, checks: [{ check_id, name, node, service_id, status, output }] }',
    },
    { name: 'consul.kv_get', summary: 'Read a key.', payloadSchema: kvGetPayloadSchema, responseShape: '{ found: boolean, value: string | null, modify_index: number | null }' },
    {
      name: 'consul.kv_put',
      summary: 'Write a key; with cas, only if its modify_index matches (0: only if absent). A CAS mismatch is written: false, not an error.',
      payloadSchema: kvPutPayloadSchema,
      responseShape: '{ written: boolean }',
    },
    { name: 'consul.kv_delete', summary: 'Delete a key, or every key under it (recurse).', payloadSchema: kvDeletePayloadSchema, responseShape: '{ deleted: boolean }' },
  ],
  configSchema: consulContractConfigSchema,
  credentialFields: ['token'],
  security: { defaultAllowedDomains: [], secretScopes: [] },
  initializeConfig(settings, policies): HandlerInitConfig {
    const config: Record<string, HandlerConfigValue> = {
      address: settings.address,
      timeoutMs: policies.timeoutMs,
      kvPrefixes: [...settings.kvPrefixes],
      servicePrefixes: [...settings.servicePrefixes],
      checkHosts: [...settings.checkHosts],
    };
    if (settings.token !== undefined) config.token = settings.token;
    if (settings.datacenter !== undefined) config.datacenter = settings.datacenter;
    return config;
  },
  async create({ logger }) {
    const { ConsulHandler } = await import('./consul-handler.js');
    return new ConsulHandler({ logger });
  },
});
