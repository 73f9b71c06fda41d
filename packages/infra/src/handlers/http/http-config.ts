import { HandlerConfigurationError } from '@onex/core';
import { z } from 'zod';
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
  baseUrl: z.string().refine(isHttpUrl, { message: 'must be an absolute http:// or https:// URL' }).optional(),
});

/** Options accepted by `HttpHandler.initialize`. */
export interface HttpHandlerConfig {
  /**
   * Whole-request budget in milliseconds: connect, headers and body together. A payload
   * may override it per request with `timeout_ms`.
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
  readonly baseUrl?: string;
}

/** The configuration after validation, every default filled in. */
export type ResolvedHttpHandlerConfig = Readonly<z.output<typeof httpHandlerConfigSchema>>;

/**
 * Validates and defaults the configuration.
 *
 * @throws HandlerConfigurationError naming every invalid option.
 */
export function parseHttpHandlerConfig(config: unknown): ResolvedHttpHandlerConfig {
  const parsed = httpHandlerConfigSchema.safeParse(config ?? {});
  if (parsed.success) return Object.freeze(parsed.data);
  const issues = describeIssues(parsed.error, 'config');
  throw new HandlerConfigurationError(`Invalid http handler configuration: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`, {
    handlerType: 'http',
    details: { issues: issues.map((i) => ({ path: i.path, message: i.message })) },
    hint: 'Fix the listed options; supported: timeoutMs, maxResponseBytes, connections, baseUrl.',
  });
}
