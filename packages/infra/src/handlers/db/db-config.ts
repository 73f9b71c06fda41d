/**
 * Configuration of the db handler: the zod schema, its defaults, and how the `url`
 * selects a backend (a PostgreSQL pool or an in-process PGlite database).
 */
import { HandlerConfigurationError, SecretString, isSecretString } from '@onex/core';
import { z } from 'zod';
import { describeIssues } from './db-issues.js';

/** @default 5 connections */
export const DEFAULT_DB_POOL_SIZE = 5;
/** @default 30 000 ms */
export const DEFAULT_DB_TIMEOUT_MS = 30_000;
/** @default 5 000 ms */
export const DEFAULT_DB_CONNECTION_TIMEOUT_MS = 5_000;
/** @default "onex-runtime-host" */
export const DEFAULT_DB_APPLICATION_NAME = 'onex-runtime-host';

/** @default 10 000 rows */
export const DEFAULT_DB_MAX_ROWS = 10_000;
/** @default 16 MiB (16 777 216 bytes) */
export const DEFAULT_DB_MAX_RESULT_BYTES = 16 * 1024 * 1024;
/** What the handler does when its role can reach the server's files or programs. */
export const PRIVILEGED_ROLE_POLICIES = ['refuse', 'warn', 'allow'] as const;
export type PrivilegedRolePolicy = (typeof PRIVILEGED_ROLE_POLICIES)[number];
/** @default "warn" */
export const DEFAULT_DB_PRIVILEGED_ROLE: PrivilegedRolePolicy = 'warn';

/** Largest delay a Node.js timer accepts. */
const MAX_TIMER_MS = 2_147_483_647;
const URL_SCHEMES = ['postgres://', 'postgresql://', 'pglite://'];

function isSupportedUrl(value: string): boolean {
  if (!URL_SCHEMES.some((scheme) => value.startsWith(scheme))) return false;
  if (value.startsWith('pglite://')) return value.length > 'pglite://'.length;
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

/** Schema of `DbHandler.initialize` input. Strict: a misspelt option is an error, not a silent default. */
export const dbHandlerConfigSchema = z.strictObject({
  // Kept wrapped; a plain string (embedding code, tests) is wrapped on the way in.
  url: z.union([z.custom<SecretString>(isSecretString), z.string().transform((v) => SecretString.of(v))]).refine((url) => isSupportedUrl(url.reveal()), {
    message: 'must be a postgres:// or postgresql:// URL, pglite://memory, or pglite://<directory>',
  }),
  poolSize: z.int().min(1).max(1000).default(DEFAULT_DB_POOL_SIZE),
  timeoutMs: z.int().positive().max(MAX_TIMER_MS).default(DEFAULT_DB_TIMEOUT_MS),
  connectionTimeoutMs: z.int().positive().max(MAX_TIMER_MS).default(DEFAULT_DB_CONNECTION_TIMEOUT_MS),
  // PostgreSQL truncates application_name to 63 bytes; longer names would not match in pg_stat_activity.
  applicationName: z.string().min(1).max(63).default(DEFAULT_DB_APPLICATION_NAME),
  maxRows: z.int().positive().max(Number.MAX_SAFE_INTEGER).default(DEFAULT_DB_MAX_ROWS),
  maxResultBytes: z.int().positive().max(Number.MAX_SAFE_INTEGER).default(DEFAULT_DB_MAX_RESULT_BYTES),
  privilegedRole: z.enum(PRIVILEGED_ROLE_POLICIES).default(DEFAULT_DB_PRIVILEGED_ROLE),
});

/** Options accepted by `DbHandler.initialize` (camelCase: the app converts contract fields). */
export interface DbHandlerConfig {
  /**
   * Where the data lives. `postgres://user:pass@host:5432/db` (or `postgresql://`) uses a
   * connection pool; `pglite://memory` an in-process in-memory database;
   * `pglite://<dir>` (relative or absolute) an in-process database persisted to `dir`.
   * Resolve passwords from a secret; the handler never logs or returns the URL. A
   * SecretString (as the host passes it) is revealed only to the PostgreSQL driver.
   */
  readonly url: string | SecretString;
  /** Maximum pooled connections (PostgreSQL only; PGlite is one session). @default 5 */
  readonly poolSize?: number;
  /**
   * Per-statement budget in milliseconds, enforced by the server (`statement_timeout`).
   * PGlite cannot interrupt a running statement and ignores it. @default 30000
   */
  readonly timeoutMs?: number;
  /** How long to wait for a connection, new or from the pool. @default 5000 */
  readonly connectionTimeoutMs?: number;
  /** `application_name` of every connection, visible in `pg_stat_activity`. @default "onex-runtime-host" */
  readonly applicationName?: string;
  /**
   * Most rows one statement may return (each statement of a transaction on its own).
   * More is an INFRA_RESPONSE_TOO_LARGE error; on PostgreSQL the statement is cancelled
   * as soon as the limit is passed and the rest is never read. @default 10000
   */
  readonly maxRows?: number;
  /**
   * Most result bytes (DataRow messages as received) one statement may return; enforced
   * like `maxRows`. PGlite checks both after the statement, on an estimate. @default 16777216 (16 MiB)
   */
  readonly maxResultBytes?: number;
  /**
   * What to do when the url's role is a superuser or a member of
   * pg_execute_server_program, pg_read_server_files or pg_write_server_files (it could
   * reach the server's files and programs if a statement slipped past the SQL guard):
   * `refuse` to initialize, `warn` in the log, or `allow` silently. PostgreSQL only.
   * @default "warn"
   */
  readonly privilegedRole?: PrivilegedRolePolicy;
}

/** The fully defaulted, validated configuration. */
export type ResolvedDbHandlerConfig = Readonly<z.output<typeof dbHandlerConfigSchema>>;

/** Which backend a URL selects, and its printable target (never credentials). */
export type DbTarget =
  | { readonly backend: 'pg'; readonly target: string }
  | { readonly backend: 'pglite'; readonly target: string; readonly dataDir: string | undefined };

/**
 * Validates and defaults a configuration.
 * @throws HandlerConfigurationError naming each bad field, never echoing the url.
 */
export function parseDbHandlerConfig(input: unknown): ResolvedDbHandlerConfig {
  const parsed = dbHandlerConfigSchema.safeParse(input);
  if (parsed.success) return Object.freeze(parsed.data);
  const issues = describeIssues(parsed.error, 'config');
  throw new HandlerConfigurationError(`Invalid db handler configuration: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`, {
    handlerType: 'db',
    details: { issues: issues.map((i) => ({ path: i.path, message: i.message })) },
    hint: 'Set handler config "url" (postgres://… or pglite://memory) and optional poolSize, timeoutMs, connectionTimeoutMs, applicationName, maxRows, maxResultBytes, privilegedRole.',
  });
}

/** `host:port/database` of a PostgreSQL URL, or `pglite://memory` / `pglite://<dir>`. */
export function resolveDbTarget(url: string): DbTarget {
  if (url.startsWith('pglite://')) {
    const location = url.slice('pglite://'.length);
    const inMemory = location === 'memory' || location === 'memory/';
    return { backend: 'pglite', target: `pglite://${location}`, dataDir: inMemory ? undefined : location };
  }
  const parsed = new URL(url);
  const socketHost = parsed.searchParams.get('host');
  const host = parsed.hostname || socketHost || 'localhost';
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  return { backend: 'pg', target: `${host}:${parsed.port || '5432'}/${database}` };
}
