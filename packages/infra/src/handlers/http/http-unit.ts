/**
 * The http handler unit: operations, the contract config schema (wire → HttpHandlerConfig)
 * and how the handler is built. The handler module, and undici with it, loads only in
 * `create`.
 */
import { HandlerConfigurationError } from '@onex/core';
import { addRuleIssue, isTemplated, secretValueSchema } from '@onex/core/contract-kit';
import { z } from 'zod';
import { defineHandlerUnit, type HandlerConfigValue, type HandlerInitConfig, type HandlerOperation } from '../handler-unit.js';
import { HTTP_OPERATIONS, httpPayloadSchema } from './http-payload.js';

const HTTP_RESPONSE_SHAPE = '{ status_code: number, headers: Record<string, string>, body: JSON | string | null, body_parse_error?: true }';

/** The base URL: a secret value, since a URL may carry credentials; checked when written literally. */
const baseUrlSchema = secretValueSchema.superRefine((value, ctx) => {
  if (typeof value === 'string' && !isTemplated(value) && !/^https?:\/\/[^\s/?#]+\S*$/.test(value)) {
    addRuleIssue(ctx, 'must be an http:// or https:// base URL', { hint: 'Write e.g. url: "https://api.example.com".' });
  }
});

/** The http binding's own `config` keys (besides timeout_ms, retry_policy, rate_limit). */
export const httpContractConfigSchema = z
  .strictObject({
    url: baseUrlSchema.optional().describe('Base URL that relative payload urls resolve against.'),
    max_response_bytes: z.int().positive().optional().describe('Largest response body read. Default 10 MiB.'),
    pool_size: z.int().positive().max(65_536).optional().describe('Keep-alive connections per origin. Default 10.'),
    allowed_domains: z
      .array(z.string().min(1))
      .readonly()
      .optional()
      .describe('Hosts the handler may call: names, "*.example.com" wildcards, IP literals. Absent: any public destination; []: none. Private and loopback addresses only when listed.'),
  })
  .transform((w) => ({ url: w.url, maxResponseBytes: w.max_response_bytes, poolSize: w.pool_size, allowedDomains: w.allowed_domains }));

const SUMMARIES: Readonly<Record<(typeof HTTP_OPERATIONS)[number], string>> = {
  'http.get': 'GET a URL.',
  'http.post': 'POST a body (objects and arrays are sent as JSON).',
  'http.put': 'PUT a body.',
  'http.patch': 'PATCH a body.',
  'http.delete': 'DELETE a URL.',
  'http.head': 'HEAD a URL (no body in the response).',
};

const operations: HandlerOperation[] = HTTP_OPERATIONS.map((name) => ({
  name,
  summary: SUMMARIES[name],
  payloadSchema: httpPayloadSchema,
  responseShape: HTTP_RESPONSE_SHAPE,
}));

export const httpUnit = defineHandlerUnit({
  type: 'http',
  name: 'handler_http',
  version: '1.0.0',
  category: 'effect',
  isAdapter: false,
  devOnly: false,
  summary: 'Outbound HTTP requests over a pooled undici client.',
  capabilities: ['http.pooled', 'http.timeout', 'http.max_response_size', 'http.json'],
  operations,
  configSchema: httpContractConfigSchema,
  credentialFields: ['url'],
  security: { defaultAllowedDomains: [], secretScopes: [] },
  initializeConfig(settings, policies, host): HandlerInitConfig {
    // hostId marks every outbound request, so the host's own ingress can refuse a self-call.
    const config: Record<string, HandlerConfigValue> = { timeoutMs: policies.timeoutMs, hostId: host.hostId };
    if (settings.allowedDomains !== undefined) config.allowedDomains = [...settings.allowedDomains];
    if (settings.url !== undefined) config.baseUrl = settings.url;
    if (settings.maxResponseBytes !== undefined) config.maxResponseBytes = settings.maxResponseBytes;
    if (settings.poolSize !== undefined) config.connections = settings.poolSize;
    return config;
  },
  applyContractSecurity(config, security): HandlerInitConfig {
    const contract = security.allowedDomains;
    const binding = Array.isArray(config.allowedDomains) ? config.allowedDomains.filter((d): d is string => typeof d === 'string') : undefined;
    // The handler contract is the ceiling: a binding may narrow its list, never widen it.
    if (contract !== undefined && binding !== undefined) {
      const wider = binding.filter((d) => !contract.includes(d));
      if (wider.length > 0) {
        throw new HandlerConfigurationError(`allowed_domains lists ${wider.map((d) => `"${d}"`).join(', ')}, which the http handler contract does not allow`, {
          handlerType: 'http',
          details: { not_in_contract: wider },
          hint: `List only hosts the handler contract's security.allowed_domains has (${contract.join(', ') || 'none'}), or widen the handler contract.`,
        });
      }
    }
    const allowed = binding ?? contract;
    return { ...config, ...(allowed === undefined ? {} : { allowedDomains: [...allowed] }), requireAllowList: security.isAdapter };
  },
  async create({ logger }) {
    const { HttpHandler } = await import('./http-handler.js');
    return new HttpHandler({ logger });
  },
});
