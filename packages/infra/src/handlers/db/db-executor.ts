/**
 * The small internal seam between DbHandler and its two backends: a `pg.Pool` against
 * a PostgreSQL server, or one in-process PGlite session. The handler only sees this
 * interface; each backend owns its connection handling and concurrency rules.
 */
import {
  InfraResponseTooLargeError,
  InfraTimeoutError,
  isOnexError,
  type CancellationSignal,
  type JsonObject,
  type JsonValue,
  type OnexError,
} from '@onex/core';

/** One statement's result, already converted to JSON-safe values. */
export interface DbQueryResult {
  readonly rows: JsonObject[];
  /** Rows returned (SELECT) or affected (INSERT/UPDATE/DELETE); 0 for DDL. */
  readonly rowCount: number;
  readonly fields: ReadonlyArray<{ readonly name: string; readonly dataTypeId: number }>;
}

/** Something that runs one parameterized statement. */
export interface DbSession {
  query(sql: string, params: readonly JsonValue[]): Promise<DbQueryResult>;
}

/** Connection usage, reported by `healthCheck()`. */
export interface DbPoolStats {
  readonly total: number;
  readonly idle: number;
  readonly waiting: number;
}

/** How one envelope's statements run: the grant and the caller's cancellation. */
export interface DbCall {
  /** Run where the database itself refuses writes (defence in depth behind the SQL guard). */
  readonly readOnly: boolean;
  /** Aborted when the caller gives up: the statement is cancelled on the server. */
  readonly signal: CancellationSignal | undefined;
}

/** Limits on one statement's result, from the handler config. */
export interface DbResultLimits {
  readonly maxRows: number;
  readonly maxResultBytes: number;
}

export interface DbExecutor {
  readonly backend: 'pg' | 'pglite';
  /** Runs one statement on its own (autocommit). */
  query(sql: string, params: readonly JsonValue[], call: DbCall): Promise<DbQueryResult>;
  /**
   * Runs `fn` inside BEGIN … COMMIT (`BEGIN READ ONLY` for a read-only call) on one
   * connection held for the whole duration; ROLLBACK and rethrow when `fn` or COMMIT fails.
   */
  transaction<T>(fn: (session: DbSession) => Promise<T>, call: DbCall): Promise<T>;
  /**
   * The connected role and those of its attributes that reach beyond the database
   * (`superuser`, `pg_execute_server_program`, …); empty for PGlite, which has no server.
   */
  privileges(): Promise<DbRolePrivileges>;
  /** `host:port/database` or `pglite://…`; never credentials. */
  describeTarget(): string;
  stats(): DbPoolStats;
  /** Releases every connection; called once by the handler. */
  close(): Promise<void>;
}

/** What {@link DbExecutor.privileges} found. */
export interface DbRolePrivileges {
  readonly role: string;
  /** Empty for a least-privileged role. */
  readonly attributes: readonly string[];
}

/** The read-write, cancellable call of internal probes (`select 1`, the role check). */
export const INTERNAL_CALL: DbCall = Object.freeze({ readOnly: false, signal: undefined });

/**
 * The error a cancelled statement rejects with: the signal's reason when it is already a
 * typed error (the host says why it gave up), else an INFRA_TIMEOUT.
 */
export function abortError(signal: CancellationSignal, target: string): OnexError {
  const reason = signal.reason;
  if (isOnexError(reason)) return reason;
  return new InfraTimeoutError(`db statement on ${target} was cancelled because the caller gave up`, {
    transportType: 'db',
    target,
    retryable: true,
    hint: 'The envelope was cancelled (deadline, ingress timeout or host shutdown) and its statement stopped on the server; send it again if it still matters.',
  });
}

/** The error of a result over {@link DbResultLimits}: what the limit is and how much had arrived. */
export function resultTooLargeError(limits: DbResultLimits, rows: number, bytes: number, target: string): InfraResponseTooLargeError {
  const overRows = rows > limits.maxRows;
  const details: JsonObject = overRows
    ? { max_rows: limits.maxRows, rows_received: rows }
    : { max_result_bytes: limits.maxResultBytes, bytes_received: bytes };
  const what = overRows ? `more than maxRows (${limits.maxRows}) rows` : `more than maxResultBytes (${limits.maxResultBytes}) bytes`;
  return new InfraResponseTooLargeError(`db statement on ${target} returned ${what}; the rest was not read`, {
    transportType: 'db',
    target,
    details,
    retryable: false,
    hint: 'Select fewer rows (LIMIT/OFFSET or keyset pagination) or fewer/smaller columns, or raise maxRows / maxResultBytes in the db handler config.',
  });
}

/**
 * Types returned as their PostgreSQL text form instead of a JS number or Date, so both
 * backends answer alike and nothing is lost: int8 (20) and numeric (1700) exceed
 * double precision; date (1082) and timestamp without time zone (1114) have no zone,
 * so turning them into a JS Date would shift them by the host's offset.
 */
export const TEXT_RESULT_TYPE_OIDS: ReadonlySet<number> = new Set([20, 1082, 1114, 1700]);

/** Converts one driver value (Date, Buffer, bigint, nested json, …) to a JSON value. */
export function toJsonValue(value: unknown): JsonValue {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'bigint':
      return value.toString();
    case 'object':
      break;
    default:
      return String(value);
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? String(value) : value.toISOString();
  if (value instanceof Uint8Array) return `\\x${Buffer.from(value).toString('hex')}`;
  if (Array.isArray(value)) return value.map(toJsonValue);
  const out: JsonObject = {};
  for (const [key, item] of Object.entries(value)) out[key] = toJsonValue(item);
  return out;
}

/**
 * True when `row` is a plain object whose values are all strings, booleans, finite
 * numbers or null: `toJsonValue` would return an equal copy, so the row can be used as is.
 */
function isJsonReadyRow(row: unknown): row is JsonObject {
  if (typeof row !== 'object' || row === null) return false;
  const proto: unknown = Object.getPrototypeOf(row);
  if (proto !== Object.prototype && proto !== null) return false;
  const record = row as Record<string, unknown>;
  for (const key in record) {
    if (!Object.hasOwn(record, key)) return false;
    const value = record[key];
    switch (typeof value) {
      case 'string':
      case 'boolean':
        continue;
      case 'number':
        if (Number.isFinite(value)) continue;
        return false;
      default:
        if (value === null) continue;
        return false;
    }
  }
  return true;
}

/**
 * Converts driver rows (objects keyed by column name) to JSON objects. Rows that are
 * already JSON (the usual case: text, numbers, booleans, nulls) are passed through
 * without copying; the rest are converted value by value.
 */
export function toJsonRows(rows: readonly unknown[]): JsonObject[] {
  let out: JsonObject[] | undefined;
  for (let i = 0; i < rows.length; i += 1) {
    const row = rows[i];
    if (out === undefined && isJsonReadyRow(row)) continue;
    // First row that needs work: copy the ready ones before it, convert from here on.
    out ??= rows.slice(0, i) as JsonObject[];
    out.push(isJsonReadyRow(row) ? row : (toJsonValue(row) as JsonObject));
  }
  return out ?? (rows as JsonObject[]);
}
