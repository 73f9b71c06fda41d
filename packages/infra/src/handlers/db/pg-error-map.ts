/**
 * The one funnel from whatever `pg` or PGlite threw to a typed OnexError. PostgreSQL
 * errors are classified by SQLSTATE (https://www.postgresql.org/docs/current/errcodes-appendix.html),
 * socket failures by their Node.js error code. Only wire-safe facts travel on: the
 * SQLSTATE, constraint/table/column names and the statement position. Never the
 * error's `detail` (it echoes row values), parameter values or the connection URL.
 */
import {
  HandlerExecutionError,
  InfraAuthenticationError,
  InfraConnectionError,
  InfraTimeoutError,
  InfraUnavailableError,
  InvalidOperationError,
  OnexError,
  type JsonObject,
} from '@onex/core';

/** Where a db failure happened. */
export interface DbErrorContext {
  readonly target: string;
  readonly operation?: string | undefined;
  readonly correlationId?: string | undefined;
  /** Index in `statements` of the failing transaction statement. */
  readonly statementIndex?: number | undefined;
  /** The calling node, named when the server refused a write of a read-only call. */
  readonly nodeSlug?: string | undefined;
}

/** The fields of a PostgreSQL ErrorResponse that both `pg` and PGlite expose. */
interface PgErrorFields {
  readonly code: string;
  readonly message: string;
  readonly severity?: string;
  readonly schema?: string;
  readonly table?: string;
  readonly column?: string;
  readonly constraint?: string;
  readonly dataType?: string;
  readonly position?: string;
}

const SQLSTATE = /^[0-9A-Z]{5}$/;
const SOCKET_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'EHOSTDOWN',
  'ENETUNREACH', 'ENETDOWN', 'ENOTFOUND', 'EAI_AGAIN',
]);
/** Connections the server closed on purpose (admin shutdown, crash, idle session timeout). */
const SERVER_CLOSED_CONNECTION = new Set(['57P01', '57P02', '57P05']);
const TIMEOUT_MESSAGE = /timeout exceeded when trying to connect|connection timeout|Query read timeout/i;
const CONNECTION_MESSAGE = /Connection terminated|not queryable|Connection ended|connection error/i;

/** Duck-typed: `pg`'s and PGlite's DatabaseError are different classes with the same fields. */
export function asPgError(error: unknown): PgErrorFields | undefined {
  if (!(error instanceof Error)) return undefined;
  const fields = error as Error & { code?: unknown; severity?: unknown };
  if (typeof fields.code !== 'string' || !SQLSTATE.test(fields.code) || typeof fields.severity !== 'string') return undefined;
  return fields as unknown as PgErrorFields;
}

function socketCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && SOCKET_CODES.has(code)) return code;
  // `localhost` resolving to ::1 and 127.0.0.1 fails as an AggregateError of both attempts.
  if (error instanceof AggregateError) return error.errors.map(socketCode).find((c) => c !== undefined);
  return undefined;
}

/**
 * True when a pooled connection may be reused after `error`: the server reported an
 * ordinary statement error and the session is intact. Anything else (FATAL, dropped
 * socket, client-side timeout with the statement still running) discards the connection.
 */
export function isConnectionReusable(error: unknown): boolean {
  const pgError = asPgError(error);
  if (!pgError) return false;
  return pgError.severity !== 'FATAL' && pgError.severity !== 'PANIC' && !/^(08|57P)/.test(pgError.code);
}

/** Class 22 messages quote the offending input (`invalid input syntax for type integer: "abc"`). */
function redactValues(message: string, sqlstate: string): string {
  return sqlstate.startsWith('22') ? message.replace(/"[^"]*"/g, '"***"') : message;
}

function pgDetails(pgError: PgErrorFields, context: DbErrorContext): JsonObject {
  const details: JsonObject = { sqlstate: pgError.code };
  if (pgError.schema) details.schema = pgError.schema;
  if (pgError.table) details.table = pgError.table;
  if (pgError.column) details.column = pgError.column;
  if (pgError.constraint) details.constraint = pgError.constraint;
  if (pgError.dataType) details.data_type = pgError.dataType;
  if (pgError.position) details.position = Number(pgError.position);
  if (context.statementIndex !== undefined) details.statement_index = context.statementIndex;
  return details;
}

function hintFor(pgError: PgErrorFields): string {
  const cls = pgError.code.slice(0, 2);
  if (cls === '23') return `The data violates a constraint${pgError.constraint ? ` ("${pgError.constraint}")` : ''}; change the data, not the SQL.`;
  if (cls === '22') return 'A parameter or value does not fit its column type (format, range or length).';
  if (cls === '42') return 'Fix the SQL: syntax, table and column names, or privileges (see details.sqlstate and details.position).';
  if (cls === '40') return 'The transaction lost a conflict with a concurrent one; send the envelope again.';
  return 'See details.sqlstate in the PostgreSQL error codes appendix.';
}

function mapPgError(pgError: PgErrorFields, context: DbErrorContext, cause: unknown): OnexError {
  const { code } = pgError;
  const operation = context.operation ?? 'db';
  const message = `${operation} failed on ${context.target}: ${redactValues(pgError.message, code)} (SQLSTATE ${code})`;
  const base = {
    transportType: 'db' as const,
    target: context.target,
    handlerType: 'db',
    operation: context.operation,
    correlationId: context.correlationId,
    details: pgDetails(pgError, context),
    cause,
  };
  const cls = code.slice(0, 2);
  if (cls === '08' || SERVER_CLOSED_CONNECTION.has(code)) {
    return new InfraConnectionError(message, { ...base, retryable: true, hint: 'The server closed or refused the connection; retry (the pool opens a fresh one).' });
  }
  if (cls === '28') {
    return new InfraAuthenticationError(message, { ...base, hint: 'Check the user and password of the db handler url; resolve the password from a secret.' });
  }
  if (code === '3D000') {
    return new InfraConnectionError(message, { ...base, retryable: false, hint: 'The database named in the url does not exist; create it or fix the url.' });
  }
  if (code === '57014') {
    return new InfraTimeoutError(message, { ...base, retryable: true, hint: 'The statement ran longer than timeoutMs (or was cancelled); raise timeoutMs or make it cheaper.' });
  }
  if (code === '25006') {
    // read_only_sql_transaction: the statement wrote on a read-only connection (the guard
    // could not see the write, e.g. inside a function) or the server is a standby.
    const node = context.nodeSlug === undefined ? 'The caller' : `Node '${context.nodeSlug}'`;
    return new InvalidOperationError(message, {
      handlerType: 'db',
      operation: context.operation,
      correlationId: context.correlationId,
      details: { ...base.details, transport_type: 'db', target: context.target, access: 'read_only' },
      cause,
      retryable: false,
      hint: `${node} has read_only access, so PostgreSQL refused a write. If it should write, declare \`access: read_write\` on its io_operations entry for the db handler; if the url points at a standby, use the primary.`,
    });
  }
  if (cls === '53' || cls === '57') {
    return new InfraUnavailableError(message, { ...base, retryable: true, hint: 'The server is out of resources or shutting down; retry later.' });
  }
  const { transportType: _transportType, target: _target, ...rest } = base;
  return new HandlerExecutionError(message, {
    ...rest,
    details: { ...rest.details, transport_type: 'db', target: context.target },
    retryable: code === '40001' || code === '40P01',
    hint: hintFor(pgError),
  });
}

/** Maps anything a db operation threw to a typed error carrying the context. */
export function mapDbError(error: unknown, context: DbErrorContext): OnexError {
  if (error instanceof OnexError) {
    return error.withContext({ correlationId: context.correlationId, operation: context.operation, handlerType: 'db' });
  }
  const pgError = asPgError(error);
  if (pgError) return mapPgError(pgError, context, error);

  const operation = context.operation ?? 'db';
  const details: JsonObject = {};
  if (context.statementIndex !== undefined) details.statement_index = context.statementIndex;
  const base = {
    transportType: 'db' as const,
    target: context.target,
    handlerType: 'db',
    operation: context.operation,
    correlationId: context.correlationId,
    details,
    cause: error,
  };
  const raw = error instanceof Error ? error.message : String(error);
  const code = socketCode(error);
  if (code !== undefined) {
    return new InfraConnectionError(`${operation} could not reach PostgreSQL at ${context.target}: ${raw || code}`, {
      ...base,
      details: { ...base.details, error_code: code },
      retryable: true,
      hint: 'Check that the server is running and reachable at the host and port of the url.',
    });
  }
  if (TIMEOUT_MESSAGE.test(raw)) {
    return new InfraTimeoutError(`${operation} timed out on ${context.target}: ${raw}`, {
      ...base,
      retryable: true,
      hint: 'No connection became available within connectionTimeoutMs (server unreachable, or all poolSize connections busy).',
    });
  }
  if (CONNECTION_MESSAGE.test(raw)) {
    return new InfraConnectionError(`${operation} lost its connection to ${context.target}: ${raw}`, {
      ...base,
      retryable: true,
      hint: 'The connection dropped; retry (the pool opens a fresh one).',
    });
  }
  return new HandlerExecutionError(`${operation} failed on ${context.target}: ${raw}`, {
    handlerType: 'db',
    operation: context.operation,
    correlationId: context.correlationId,
    details: { ...base.details, transport_type: 'db', target: context.target },
    cause: error,
    hint: 'Unexpected failure in the db handler; the runtime host log has the cause.',
  });
}
