/**
 * The db handler unit: operations, the contract config schema (wire → DbHandlerConfig)
 * and how the handler is built. The handler module, and pg / PGlite with it, loads only
 * in `create`.
 */
import { addRuleIssue, isTemplated, secretValueSchema } from '@onex/core/contract-kit';
import { z } from 'zod';
import { defineHandlerUnit, type HandlerConfigValue, type HandlerInitConfig } from '../handler-unit.js';
import { DEFAULT_DB_MAX_RESULT_BYTES, DEFAULT_DB_MAX_ROWS } from './db-config.js';
import { dbStatementSchema, dbTransactionPayloadSchema } from './db-payload.js';

/** Where the data lives; a secret value, since a PostgreSQL URL usually carries a password. */
const dbUrlSchema = secretValueSchema.superRefine((value, ctx) => {
  // The URL is not echoed: it may carry a password.
  if (typeof value === 'string' && !isTemplated(value) && !/^(?:postgres(?:ql)?:\/\/\S+|pglite:\/\/\S+)$/.test(value)) {
    addRuleIssue(ctx, 'must be a "postgres://…" URL, "pglite://memory" or "pglite://<directory>"', {
      hint: 'Write e.g. url: { secret_ref: "env://DB_URL" } or url: "pglite://memory".',
    });
  }
});

/** The db binding's own `config` keys (besides timeout_ms, retry_policy, rate_limit). */
export const dbContractConfigSchema = z
  .strictObject({
    url: dbUrlSchema.describe('postgres://… (usually a secret_ref), pglite://memory or pglite://<directory>.'),
    pool_size: z.int().min(1).max(1000).optional().describe('Pooled PostgreSQL connections. Default 5.'),
    connection_timeout_ms: z.int().positive().optional().describe('Wait for a connection. Default 5000.'),
    application_name: z.string().min(1).max(63).optional().describe('application_name in pg_stat_activity. Default onex-runtime-host.'),
    max_rows: z.int().positive().optional().describe(`Most rows one statement may return; more is INFRA_RESPONSE_TOO_LARGE. Default ${DEFAULT_DB_MAX_ROWS}.`),
    max_result_bytes: z
      .int()
      .positive()
      .optional()
      .describe(`Most result bytes one statement may return, counted as they arrive; more is INFRA_RESPONSE_TOO_LARGE. Default ${DEFAULT_DB_MAX_RESULT_BYTES} (16 MiB).`),
    allow_privileged_role: z
      .boolean()
      .optional()
      .describe('Let `run` in production start with a superuser role or one that may run server programs or read/write server files. Default false (refused; `dev` warns).'),
  })
  .transform((w) => ({
    url: w.url,
    poolSize: w.pool_size,
    connectionTimeoutMs: w.connection_timeout_ms,
    applicationName: w.application_name,
    maxRows: w.max_rows,
    maxResultBytes: w.max_result_bytes,
    allowPrivilegedRole: w.allow_privileged_role ?? false,
  }));

const STATEMENT_RESPONSE = '{ rows: object[], row_count: number, fields: [{ name, data_type_id }] }';

export const dbUnit = defineHandlerUnit({
  type: 'db',
  name: 'handler_db',
  version: '1.0.0',
  category: 'effect',
  isAdapter: false,
  devOnly: false,
  summary: 'Parameterized SQL against PostgreSQL (pooled) or an in-process PGlite database.',
  capabilities: ['sql.parameterized', 'sql.transaction', 'sql.pooled', 'sql.embedded_pglite'],
  operations: [
    { name: 'db.query', summary: 'Run one statement and return its rows.', payloadSchema: dbStatementSchema, responseShape: STATEMENT_RESPONSE },
    { name: 'db.execute', summary: 'Run one statement and return the affected row count.', payloadSchema: dbStatementSchema, responseShape: '{ row_count: number }' },
    {
      name: 'db.transaction',
      summary: 'Run statements in order in one transaction, all or nothing.',
      payloadSchema: dbTransactionPayloadSchema,
      responseShape: '{ results: [{ row_count, rows }], row_count: number }',
    },
  ],
  configSchema: dbContractConfigSchema,
  credentialFields: ['url'],
  security: { defaultAllowedDomains: [], secretScopes: [] },
  initializeConfig(settings, policies, host): HandlerInitConfig {
    // A privileged role turns any SQL that slips past the guard into a server takeover:
    // production refuses it unless the contract says otherwise; elsewhere it is a warning.
    const privilegedRole = settings.allowPrivilegedRole ? 'allow' : host.production ? 'refuse' : 'warn';
    const config: Record<string, HandlerConfigValue> = { url: settings.url, timeoutMs: policies.timeoutMs, privilegedRole };
    if (settings.maxRows !== undefined) config.maxRows = settings.maxRows;
    if (settings.maxResultBytes !== undefined) config.maxResultBytes = settings.maxResultBytes;
    if (settings.poolSize !== undefined) config.poolSize = settings.poolSize;
    if (settings.connectionTimeoutMs !== undefined) config.connectionTimeoutMs = settings.connectionTimeoutMs;
    if (settings.applicationName !== undefined) config.applicationName = settings.applicationName;
    return config;
  },
  async create({ logger }) {
    const { DbHandler } = await import('./db-handler.js');
    return new DbHandler({ logger });
  },
});
