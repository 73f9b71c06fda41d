/**
 * Configuration of the consul handler: the `initialize` schema (camelCase), its defaults,
 * and the agent address forms it accepts. The contract's snake_case keys are mapped to
 * this in consul-unit.ts.
 */
import { HandlerConfigurationError, isSecretString, type SecretString } from '@onex/core';
import { z } from 'zod';
import { describeIssues } from '../http/http-issues.js';

/** @default 30 000 ms (a binding's timeout_ms overrides it) */
export const DEFAULT_CONSUL_TIMEOUT_MS = 30_000;
/** Upper bound of the `/v1/status/leader` probe in `healthCheck()`. @default 2000 ms */
export const CONSUL_HEALTH_CHECK_TIMEOUT_MS = 2_000;

/** Largest delay a Node.js timer accepts. */
const MAX_TIMER_MS = 2_147_483_647;

/** `host:port`, `[v6]:port`, or `http(s)://` one of those (nothing after the port but an optional `/`). */
const ADDRESS_RE = /^(?:(https?):\/\/)?([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):(\d{1,5})\/?$/;

/** Where the agent is: what the driver needs, and a printable target (never a token). */
export interface ConsulAgentAddress {
  readonly host: string;
  readonly port: number;
  readonly secure: boolean;
  /** `http://host:port`: safe for logs and errors. */
  readonly target: string;
}

/** Parses an agent address; `undefined` when it is none of the accepted forms. */
export function parseConsulAddress(address: string): ConsulAgentAddress | undefined {
  const match = ADDRESS_RE.exec(address.trim());
  if (match === null) return undefined;
  const [, scheme = 'http', rawHost = '', rawPort = ''] = match;
  const port = Number(rawPort);
  if (port < 1 || port > 65_535) return undefined;
  // node:http wants an IPv6 literal without brackets.
  const host = rawHost.startsWith('[') ? rawHost.slice(1, -1) : rawHost;
  return { host, port, secure: scheme === 'https', target: `${scheme}://${rawHost}:${port}` };
}

/**
 * A prefix for KV keys or service names. KV prefixes end with `/`, so `team-a/` never
 * admits `team-ab/...` (Consul's recursive delete is a plain string prefix match).
 */
export const kvPrefixSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.-]+)*\/$/, 'must be a key prefix like "team-a/config/": segments of letters, digits, "_", "." or "-", ending with "/"')
  .refine((p) => !p.split('/').includes('..') && !p.split('/').includes('.'), 'must not contain "." or ".." segments');

/** A service name prefix, e.g. `orders-`; names and ids of services the handler may write start with it. */
export const servicePrefixSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'must be letters, digits, "_", "." or "-", starting with a letter or digit');

/** A host an HTTP check may probe besides the service's own address. */
export const checkHostSchema = z.string().regex(/^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])$/, 'must be a host name or IP literal (no scheme, no port)');

/** Schema of `ConsulHandler.initialize` input. Strict: a misspelt option is an error, not a silent default. */
export const consulHandlerConfigSchema = z.strictObject({
  address: z.string().refine((a) => parseConsulAddress(a) !== undefined, {
    message: 'must be "host:port", "http://host:port" or "https://host:port"',
  }),
  // A plain string is refused: the token must stay masked in every config the host keeps.
  token: z.custom<SecretString>(isSecretString, { message: 'must be a SecretString (SecretString.of(token))' }).optional(),
  datacenter: z.string().min(1).optional(),
  timeoutMs: z.int().positive().max(MAX_TIMER_MS).default(DEFAULT_CONSUL_TIMEOUT_MS),
  kvPrefixes: z.array(kvPrefixSchema).readonly().default([]),
  servicePrefixes: z.array(servicePrefixSchema).readonly().default([]),
  checkHosts: z.array(checkHostSchema).readonly().default([]),
});

/** Options accepted by `ConsulHandler.initialize` (camelCase: the unit converts contract fields). */
export interface ConsulHandlerConfig {
  /** The agent: `host:port`, `http://host:port` or `https://host:port`. */
  readonly address: string;
  /** ACL token sent as `X-Consul-Token`; never logged, never in errors or health. */
  readonly token?: SecretString;
  /** Datacenter for every call. @default the agent's own */
  readonly datacenter?: string;
  /** Budget of one call to the agent, in milliseconds. @default 30000 */
  readonly timeoutMs?: number;
  /**
   * KV keys the handler may read or write: each key must start with one of these
   * (`team-a/config/`). Empty: every KV operation is refused. @default []
   */
  readonly kvPrefixes?: readonly string[];
  /**
   * Services the handler may register or deregister: the service name and id must start
   * with one of these (`orders-`). Empty: register and deregister are refused. Reads
   * (get, list, health) are not confined: discovery is what they are for. @default []
   */
  readonly servicePrefixes?: readonly string[];
  /**
   * Hosts an HTTP check may probe besides the address of the service it belongs to (the
   * agent calls them, and their answer shows in check output). @default []
   */
  readonly checkHosts?: readonly string[];
}

/** The fully defaulted, validated configuration. */
export type ResolvedConsulHandlerConfig = Readonly<z.output<typeof consulHandlerConfigSchema>>;

/**
 * Validates and defaults a configuration.
 * @throws HandlerConfigurationError naming each bad field, never echoing the token.
 */
export function parseConsulHandlerConfig(input: unknown): ResolvedConsulHandlerConfig {
  const parsed = consulHandlerConfigSchema.safeParse(input);
  if (parsed.success) return Object.freeze(parsed.data);
  const issues = describeIssues(parsed.error, 'config');
  throw new HandlerConfigurationError(`Invalid consul handler configuration: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`, {
    handlerType: 'consul',
    details: { issues: issues.map((i) => ({ path: i.path, message: i.message })) },
    hint: 'Set handler config "address" (host:port or http(s)://host:port) and optional token (a SecretString), datacenter, timeoutMs, kvPrefixes, servicePrefixes, checkHosts.',
  });
}
