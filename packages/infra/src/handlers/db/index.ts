/**
 * The `db` protocol handler: parameterized SQL from envelopes against PostgreSQL
 * (pooled, `postgres://`) or an in-process PGlite database (`pglite://memory`,
 * `pglite://<dir>`) for development and tests.
 */
export {
  DbHandler,
  createDbHandler,
  DB_OPERATIONS,
  DB_HANDLER_VERSION,
  DB_HEALTH_CHECK_TIMEOUT_MS,
  type DbOperation,
  type DbHandlerOptions,
  type DbHandlerState,
  type DbQueryResponse,
  type DbExecuteResponse,
  type DbTransactionResponse,
} from './db-handler.js';
export {
  dbHandlerConfigSchema,
  parseDbHandlerConfig,
  DEFAULT_DB_POOL_SIZE,
  DEFAULT_DB_TIMEOUT_MS,
  DEFAULT_DB_CONNECTION_TIMEOUT_MS,
  DEFAULT_DB_APPLICATION_NAME,
  DEFAULT_DB_MAX_ROWS,
  DEFAULT_DB_MAX_RESULT_BYTES,
  DEFAULT_DB_PRIVILEGED_ROLE,
  PRIVILEGED_ROLE_POLICIES,
  type PrivilegedRolePolicy,
  type DbHandlerConfig,
  type ResolvedDbHandlerConfig,
} from './db-config.js';
export { dbStatementSchema, dbTransactionPayloadSchema, type DbStatement, type DbTransactionPayload } from './db-payload.js';
export { analyzeSql, type SqlAnalysis, type SqlStatementClass, type SuspiciousPattern } from './sql-guard.js';
