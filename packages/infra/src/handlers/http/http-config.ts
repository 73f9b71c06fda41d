import { HandlerConfigurationError, SecretString, isSecretString } from '@onex/core';
import { z } from 'zod';
import { normalizeAllowedHost } from './http-address-policy.js';
import { describeIssues } from './http-issues.js';

/** Largest delay a Node.js timer accepts; longer timeouts would fire immediately. */
export const MAX_HTTP_TIMEOUT_MS = 2_147_483_647;

/** @default 30 000 ms */
export const DEFAULT_HTTP_TIMEOUT_MS = 30_000;
/** @default 10 MiB */
export const DEFAULT_HTTP_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;
/** @default 10 connections per origin */
export const DEFAULT_HTTP_CONNECTIONS = 10;

function isHttpUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

/** Schema of the handler configuration (camelCase: it comes from the app's parsed config, not the wire). */
export const httpHandlerConfigSchema = z.strictObject({
  timeoutMs: z.int().positive().max(MAX_HTTP_TIMEOUT_MS).default(DEFAULT_HTTP_TIMEOUT_MS),
  maxResponseBytes: z.int().positive().default(DEFAULT_HTTP_MAX_RESPONSE_BYTES),
  connections: z.int().positive().max(65_536).default(DEFAULT_HTTP_CONNECTIONS),
  // A URL may carry credentials: kept wrapped; a plain string is wrapped on the way in.
  baseUrl: z
    .union([z.custom<SecretString>(isSecretString), z.string().transform((v) => SecretString.of(v))])
    .refine((url) => isHttpUrl(url.reveal()), { message: 'must be an absolute http:// or https:// URL' })
    .optional(),
  allowedDomains: z
    .array(z.string().refine((entry) => normalizeAllowedHost(entry) !== undefined, {
      message: 'must be a host name, a "*.domain" wildcard or an IP address (no scheme, port or path)',
    }))
    .readonly()
    .optional(),
  requireAllowList: z.boolean().default(false),
  // Visible ASCII only: it becomes a header value.
  hostId: z.string().regex(/^[\x21-\x7e]{1,128}$/, { message: 'must be 1-128 visible ASCII characters' }).optional(),
});

/** Options accepted by `HttpHandler.initialize`. */
export interface HttpHandlerConfig {
  /**
   * Whole-request budget in milliseconds: connect, headers and body together. A payload
   * may lower it per request with `timeout_ms`, never raise it: this is the contract's maximum.
   * @default 30000
   */
  readonly timeoutMs?: number;
  /**
   * Largest response body the handler reads; bigger bodies fail with
   * INFRA_RESPONSE_TOO_LARGE instead of filling memory.
   * @default 10485760 (10 MiB)
   */
  readonly maxResponseBytes?: number;
  /**
   * Size of the keep-alive connection pool per origin.
   * @default 10
   */
  readonly connections?: number;
  /** Absolute http(s) URL that relative payload `url`s are resolved against (WHATWG URL rules). */
  readonly baseUrl?: string | SecretString;
  /**
   * Hosts this handler may call: exact names (`api.example.com`), wildcards
   * (`*.example.com`, any name below it but not the apex) and IP literals (`127.0.0.1`, `::1`).
   * Absent: any host whose addresses are all public. Present: only listed hosts; `[]`
   * allows no outbound call at all.
   *
   * Loopback, private, link-local (cloud metadata), CGNAT, multicast and reserved
   * addresses are refused, whatever the notation or DNS answer, unless that IP is
   * listed or the URL names a host listed exactly (wildcards never open them).
   * @default undefined (public destinations only)
   */
  readonly allowedDomains?: readonly string[];
  /**
   * Refuse to start without `allowedDomains` (set for adapter handlers, whose
   * destinations must be declared).
   * @default false
   */
  readonly requireAllowList?: boolean;
  /**
   * Id of the runtime host that owns this handler. Sent as `x-onex-origin-host` on every
   * request so the host's ingress can refuse calls to itself.
   */
  readonly hostId?: string;
}

/** Header that marks a request as sent by the runtime host named in it; payloads may not set it. */
export const ORIGIN_HOST_HEADER = 'x-onex-origin-host';

/** The configuration after validation, every default filled in. */
export type ResolvedHttpHandlerConfig = Readonly<z.output<typeof httpHandlerConfigSchema>>;

/**
 * Validates and defaults the configuration.
 *
 * @throws HandlerConfigurationError naming every invalid option.
 */
export function parseHttpHandlerConfig(config: unknown): ResolvedHttpHandlerConfig {
  const parsed = httpHandlerConfigSchema.safeParse(config ?? {});
  if (parsed.success) {
    if (parsed.data.requireAllowList && parsed.data.allowedDomains === undefined) {
      throw new HandlerConfigurationError('The http handler requires allowedDomains (requireAllowList is set) but none is configured', {
        handlerType: 'http',
        details: { issues: [{ path: 'config.allowedDomains', message: 'is required when requireAllowList is true' }] },
        hint: 'List the hosts this handler may call in allowedDomains, e.g. ["api.example.com", "*.example.org"]; [] allows none.',
      });
    }
    return Object.freeze(parsed.data);
  }
  const issues = describeIssues(parsed.error, 'config');
  throw new HandlerConfigurationError(`Invalid http handler configuration: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`, {
    handlerType: 'http',
    details: { issues: issues.map((i) => ({ path: i.path, message: i.message })) },
    hint: 'Fix the listed options; supported: timeoutMs, maxResponseBytes, connections, baseUrl, allowedDomains, requireAllowList, hostId.',
  });
}
