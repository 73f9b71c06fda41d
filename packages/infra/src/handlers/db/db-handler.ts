/**
 * DbHandler: the `db` protocol handler. Runs parameterized SQL from envelopes against
 * PostgreSQL (`postgres://`, pooled) or an in-process PGlite database (`pglite://`).
 *
 * Operations and response payloads:
 * - `db.query`       `{ sql, parameters? }` → `{ rows, row_count, fields: [{ name, data_type_id }] }`
 * - `db.execute`     `{ sql, parameters? }` → `{ row_count }`
 * - `db.transaction` `{ statements: [{ sql, parameters? }] }` → `{ results: [{ row_count, rows }], row_count }`,
 *   all statements in one BEGIN … COMMIT, rolled back entirely if any fails.
 *
 * Every statement is classified by the SQL guard (sql-guard.ts, sql-classes.ts) before
 * anything reaches the server: forbidden constructs (COPY, DO, server-file functions, …),
 * transaction control and session-changing statements are refused for everyone; a node
 * whose grant (`context.access`) is read_only may only read, and its statements also run
 * where PostgreSQL itself refuses writes. Results are bounded by maxRows /
 * maxResultBytes, and an aborted `context.signal` cancels the statement on the server.
 *
 * Error modes: bad payload, placeholder/parameter mismatch, several statements in one
 * `sql`, or a refused construct → `ENVELOPE_VALIDATION_ERROR` (nothing reaches the
 * server); a write from a read_only grant or an unknown operation → InvalidOperationError;
 * a result over the limits → InfraResponseTooLargeError; a cancelled call → the signal's
 * reason, else InfraTimeoutError; server and socket failures → typed errors by SQLSTATE
 * (see pg-error-map.ts); after shutdown → `SHUTTING_DOWN`.
 */
import {
  type ShuttingDownError,
  HandlerConfigurationError,
  HandlerExecutionError,
  InvalidOperationError,
  type ErrorContext,
  type HandlerInvocationContext,
  type JsonObject,
  type JsonValue,
  type OnexEnvelope,
} from '@onex/core';
import type { HandlerDescription, HandlerHealth, ProtocolHandler } from '@onex/spi';
import { silentLogger, type Logger } from '../../logging/logger.js';
import { parseDbHandlerConfig, resolveDbTarget, type DbHandlerConfig } from './db-config.js';
import { INTERNAL_CALL, type DbCall, type DbExecutor, type DbQueryResult } from './db-executor.js';
import { dbTransactionPayloadSchema, parsePayload, parseStatementPayload, type DbStatement } from './db-payload.js';
import { mapDbError } from './pg-error-map.js';
import { PgExecutor } from './pg-executor.js';
import { PgliteExecutor } from './pglite-executor.js';
import {
  checkStatement,
  checkStatementMode,
  isAcceptedStatement,
  isPermitted,
  SqlAnalysisCache,
  STATEMENT_MODE,
  type StatementMode,
} from './sql-guard.js';
import { handlerShutDownError, initializeAgainError } from '../handler-state-errors.js';

/** Every operation DbHandler accepts. */
export const DB_OPERATIONS = ['db.query', 'db.execute', 'db.transaction'] as const;
export type DbOperation = (typeof DB_OPERATIONS)[number];

export const DB_HANDLER_VERSION = '0.1.0';
/** Upper bound of the `select 1` probe in `healthCheck()`. @default 2000 ms */
export const DB_HEALTH_CHECK_TIMEOUT_MS = 2_000;

/** Response payload of `db.query`. */
export type DbQueryResponse = {
  rows: JsonObject[];
  row_count: number;
  fields: Array<{ name: string; data_type_id: number }>;
};
/** Response payload of `db.execute`. */
export type DbExecuteResponse = { row_count: number };
/** Response payload of `db.transaction`; `row_count` is the sum over all statements. */
export type DbTransactionResponse = { results: Array<{ row_count: number; rows: JsonObject[] }>; row_count: number };

export interface DbHandlerOptions {
  /** Receives warnings (suspicious SQL, dropped idle connections). @default silentLogger */
  readonly logger?: Logger;
}

/** `created → initializing → ready → shutdown`; a failed initialize leaves `failed` (retryable). */
export type DbHandlerState = 'created' | 'initializing' | 'ready' | 'failed' | 'shutdown';

export class DbHandler implements ProtocolHandler<DbHandlerConfig> {
  readonly handlerType = 'db' as const;
  readonly #logger: Logger;
  #state: DbHandlerState = 'created';
  #executor: DbExecutor | undefined;
  #healthTimeoutMs = DB_HEALTH_CHECK_TIMEOUT_MS;
  /** The role can reach the server's files or programs (see the `privilegedRole` config). */
  #privilegedRole = false;
  #shutdown: Promise<void> | undefined;
  /** Statement texts repeat; their analysis depends on the text only. */
  readonly #sqlAnalyses = new SqlAnalysisCache();

  constructor(options: DbHandlerOptions = {}) {
    this.#logger = options.logger ?? silentLogger;
  }

  get state(): DbHandlerState {
    return this.#state;
  }

  /**
   * Validates `config`, opens the backend and proves it answers `select 1`.
   * @throws HandlerConfigurationError for a bad config or a second call;
   *   InfraConnectionError / InfraAuthenticationError / InfraTimeoutError when the database cannot be reached.
   */
  async initialize(config: DbHandlerConfig): Promise<void> {
    if (this.#state !== 'created' && this.#state !== 'failed') {
      throw initializeAgainError('DbHandler', 'db', this.#state, 'another database');
    }
    const resolved = parseDbHandlerConfig(config);
    const target = resolveDbTarget(resolved.url.reveal());
    this.#state = 'initializing';
    let executor: DbExecutor | undefined;
    try {
      executor = target.backend === 'pg'
        ? new PgExecutor(resolved, target.target, this.#logger)
        : await PgliteExecutor.open(target.dataDir, target.target, resolved);
      await executor.query('select 1', [], INTERNAL_CALL);
      const { role, attributes } = await executor.privileges();
      this.#privilegedRole = attributes.length > 0;
      if (attributes.length > 0 && resolved.privilegedRole !== 'allow') {
        const summary = `db handler connects to ${target.target} as role '${role}', which can reach the server's files or programs (${attributes.join(', ')})`;
        if (resolved.privilegedRole === 'refuse') {
          throw new HandlerConfigurationError(summary, {
            handlerType: 'db',
            operation: 'initialize',
            details: { role, attributes: [...attributes], privileged_role: 'refuse' },
            hint: 'Connect as a least-privileged role (NOSUPERUSER, not a member of pg_execute_server_program / pg_read_server_files / pg_write_server_files), or allow this role explicitly with allow_privileged_role: true in the db handler config of the contract (privilegedRole: allow when embedding).',
          });
        }
        this.#logger.warn(
          { handler_type: 'db', target: target.target, role, attributes },
          `${summary}; use a least-privileged role, or set allow_privileged_role: true in the db handler config (production refuses it)`,
        );
      }
    } catch (error) {
      await executor?.close().catch(() => undefined);
      if (this.#state === 'initializing') this.#state = 'failed';
      throw mapDbError(error, { target: target.target, operation: 'initialize' });
    }
    if (this.#state !== 'initializing') {
      // shutdown() was called while we were connecting.
      await executor.close();
      throw this.#shuttingDown({ handlerType: 'db', operation: 'initialize' });
    }
    this.#executor = executor;
    this.#healthTimeoutMs = Math.min(resolved.timeoutMs, DB_HEALTH_CHECK_TIMEOUT_MS);
    this.#state = 'ready';
    this.#logger.info({ handler_type: 'db', backend: executor.backend, target: target.target, pool_size: resolved.poolSize }, 'db handler ready');
  }

  /**
   * Runs one envelope. Resolves to the operation's response payload.
   * @throws see the module header for the error modes.
   */
  async execute(envelope: OnexEnvelope, context: HandlerInvocationContext): Promise<JsonValue> {
    const errorContext: ErrorContext = {
      correlationId: context.correlationId ?? envelope.correlationId,
      operation: envelope.operation,
      handlerType: 'db',
    };
    const executor = this.#readyExecutor(errorContext);
    const readOnly = context.access !== 'read_write';
    // Shared call objects unless there is a signal: nothing allocated for the common case.
    const call: DbCall = context.signal === undefined ? (readOnly ? READ_ONLY_CALL : READ_WRITE_CALL) : { readOnly, signal: context.signal };
    let statementIndex: number | undefined;
    try {
      switch (envelope.operation) {
        case 'db.query': {
          const mode = readOnly ? STATEMENT_MODE.readOnly : STATEMENT_MODE.readWrite;
          const statement = this.#statement(parseStatementPayload(envelope.payload, errorContext), 'payload.sql', envelope, errorContext, mode, context.nodeSlug);
          return queryResponse(await executor.query(statement.sql, statement.parameters ?? NO_PARAMETERS, call));
        }
        case 'db.execute': {
          const mode = readOnly ? STATEMENT_MODE.readOnly : STATEMENT_MODE.readWrite;
          const statement = this.#statement(parseStatementPayload(envelope.payload, errorContext), 'payload.sql', envelope, errorContext, mode, context.nodeSlug);
          const result = await executor.query(statement.sql, statement.parameters ?? NO_PARAMETERS, call);
          return { row_count: result.rowCount } satisfies DbExecuteResponse;
        }
        case 'db.transaction': {
          const payload = parsePayload(dbTransactionPayloadSchema, envelope.payload, errorContext);
          const mode = readOnly ? STATEMENT_MODE.readOnlyInTransaction : STATEMENT_MODE.readWriteInTransaction;
          // Every statement is checked before BEGIN, so a bad one never opens a transaction.
          const statements = payload.statements.map((s, i) =>
            this.#statement(s, `payload.statements.${i}.sql`, envelope, errorContext, mode, context.nodeSlug),
          );
          const results = await executor.transaction(async (session) => {
            const out: DbTransactionResponse['results'] = [];
            for (const [index, statement] of statements.entries()) {
              statementIndex = index;
              const result = await session.query(statement.sql, statement.parameters ?? NO_PARAMETERS);
              out.push({ row_count: result.rowCount, rows: result.rows });
            }
            statementIndex = undefined;
            return out;
          }, call);
          const rowCount = results.reduce((sum, r) => sum + r.row_count, 0);
          return { results, row_count: rowCount } satisfies DbTransactionResponse;
        }
        default:
          throw new InvalidOperationError(
            `Operation '${envelope.operation}' is not supported by the db handler. Available: ${DB_OPERATIONS.join(', ')}`,
            { ...errorContext, details: { supported_operations: [...DB_OPERATIONS] }, hint: 'Use one of the supported operations.' },
          );
      }
    } catch (error) {
      throw mapDbError(error, {
        target: executor.describeTarget(),
        operation: errorContext.operation,
        correlationId: errorContext.correlationId,
        statementIndex,
        nodeSlug: context.nodeSlug,
      });
    }
  }

  /** Releases the pool or closes PGlite. Idempotent: later calls return the first call's promise. */
  shutdown(): Promise<void> {
    this.#shutdown ??= this.#close();
    return this.#shutdown;
  }

  /**
   * `{ healthy, handler_type, state, backend, privileged_role, pool_total, pool_idle, pool_waiting }`,
   * probing with `select 1`. `privileged_role` is true when the role can reach the server's
   * files or programs (allowed or warned about by the `privilegedRole` config).
   */
  async healthCheck(): Promise<HandlerHealth> {
    const executor = this.#executor;
    if (this.#state !== 'ready' || executor === undefined) {
      return {
        healthy: false,
        handler_type: 'db',
        state: this.#state,
        backend: null,
        privileged_role: this.#privilegedRole,
        pool_total: 0,
        pool_idle: 0,
        pool_waiting: 0,
      };
    }
    let error: string | undefined;
    try {
      await withTimeout(executor.query('select 1', [], INTERNAL_CALL), this.#healthTimeoutMs);
    } catch (cause) {
      error = mapDbError(cause, { target: executor.describeTarget(), operation: 'health_check' }).message;
    }
    const stats = executor.stats();
    const health: HandlerHealth & Record<string, JsonValue> = {
      healthy: error === undefined,
      handler_type: 'db',
      state: this.#state,
      backend: executor.backend,
      target: executor.describeTarget(),
      privileged_role: this.#privilegedRole,
      pool_total: stats.total,
      pool_idle: stats.idle,
      pool_waiting: stats.waiting,
    };
    if (error !== undefined) health.error = error;
    return health;
  }

  describe(): HandlerDescription {
    return {
      handlerType: 'db',
      supportedOperations: [...DB_OPERATIONS],
      requiredPayloadFields: { 'db.query': ['sql'], 'db.execute': ['sql'], 'db.transaction': ['statements'] },
      responseShape:
        'db.query: { rows: object[], row_count: number, fields: [{ name, data_type_id }] }; ' +
        'db.execute: { row_count: number }; ' +
        'db.transaction: { results: [{ row_count, rows }], row_count: number }',
      version: DB_HANDLER_VERSION,
    };
  }

  #readyExecutor(context: ErrorContext): DbExecutor {
    if (this.#state === 'shutdown') throw this.#shuttingDown(context);
    if (this.#state !== 'ready' || this.#executor === undefined) {
      throw new HandlerExecutionError(`DbHandler is not initialized (state: ${this.#state})`, {
        ...context,
        hint: 'The runtime host must call initialize(config) and wait for it before routing envelopes.',
      });
    }
    return this.#executor;
  }

  /**
   * Guards one statement (placeholders, one statement, its class allowed in `mode`) and
   * logs (without parameter values) when it looks like injection. The analysis is cached
   * per SQL text; the checks are comparisons and the warning happens on every call.
   */
  #statement(
    statement: DbStatement,
    field: string,
    envelope: OnexEnvelope,
    context: ErrorContext,
    mode: StatementMode,
    nodeSlug: string | undefined,
  ): DbStatement {
    const parameterCount = statement.parameters?.length ?? 0;
    const analysis = this.#sqlAnalyses.analyze(statement.sql);
    if (!isAcceptedStatement(analysis, parameterCount)) checkStatement(analysis, parameterCount, { ...context, field });
    if (!isPermitted(analysis, mode)) checkStatementMode(analysis, mode, { ...context, field, nodeSlug });
    if (analysis.suspiciousPatterns.length > 0) {
      this.#logger.warn(
        {
          handler_type: 'db',
          correlation_id: context.correlationId,
          envelope_id: envelope.envelopeId,
          operation: context.operation,
          field,
          patterns: analysis.suspiciousPatterns,
          sql_shape: analysis.shape.slice(0, 200),
        },
        'db: SQL contains a suspicious pattern; make sure no value was interpolated into the SQL text',
      );
    }
    return statement;
  }

  #shuttingDown(context: ErrorContext): ShuttingDownError {
    return handlerShutDownError('DbHandler', context);
  }

  async #close(): Promise<void> {
    const executor = this.#executor;
    this.#state = 'shutdown';
    this.#executor = undefined;
    if (executor === undefined) return;
    try {
      await executor.close();
    } catch (error) {
      const mapped = mapDbError(error, { target: executor.describeTarget(), operation: 'shutdown' });
      this.#logger.warn(mapped.toLogFields(), 'db: error while closing connections');
    }
  }
}

/** Validates `config`, then returns an initialized DbHandler. */
export async function createDbHandler(config: DbHandlerConfig, options: DbHandlerOptions = {}): Promise<DbHandler> {
  const handler = new DbHandler(options);
  await handler.initialize(config);
  return handler;
}

const READ_ONLY_CALL: DbCall = Object.freeze({ readOnly: true, signal: undefined });
const READ_WRITE_CALL: DbCall = Object.freeze({ readOnly: false, signal: undefined });

/** Shared by every statement without parameters; executors never change it. */
const NO_PARAMETERS: readonly JsonValue[] = Object.freeze([]);

function queryResponse(result: DbQueryResult): DbQueryResponse {
  return {
    rows: result.rows,
    row_count: result.rowCount,
    fields: result.fields.map((field) => ({ name: field.name, data_type_id: field.dataTypeId })),
  };
}

/** Rejects after `ms`; the probe itself keeps running and its late outcome is ignored. */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`health check timeout: no answer within ${ms} ms`)), ms);
  });
  promise.catch(() => undefined);
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
