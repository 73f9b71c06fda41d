/**
 * The db handler unit: operations, the contract config schema (wire → DbHandlerConfig)
 * and how the handler is built. The handler module, and pg / PGlite with it, loads only
 * in `create`.
 */
import { addRuleIssue, isTemplated, secretValueSchema, type JsonObject } from '@onex/core';
import { z } from 'zod';
import { defineHandlerUnit } from '../handler-unit.js';
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
  })
  .transform((w) => ({ url: w.url, poolSize: w.pool_size, connectionTimeoutMs: w.connection_timeout_ms, applicationName: w.application_name }));

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
  initializeConfig(settings, policies): JsonObject {
    const config: JsonObject = { url: settings.url, timeoutMs: policies.timeoutMs };
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
