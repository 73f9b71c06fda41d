/**
 * DbExecutor over a `pg.Pool`. Each statement checks a connection out, runs, and
 * returns it; a transaction keeps one connection for BEGIN … COMMIT. A connection
 * whose session may be broken (FATAL error, dropped socket, client-side timeout) is
 * destroyed instead of returned, so the next statement gets a fresh one.
 *
 * Every envelope passes through here, so the per-statement path is kept lean: pg's
 * callback API (as `pg.Pool#query` uses it) instead of a promise per step,
 * `client.query(text, values)`, which pg does not copy, one 'error' listener per
 * connection instead of one per statement, and one shared {@link ReadTimeoutWatch}
 * instead of a timer per statement.
 *
 * Hostile statements are contained here, behind the SQL guard:
 * - Read-only calls run on a second pool, created on first use, whose connections start
 *   with `default_transaction_read_only=on` (a startup option: no extra round trip; the
 *   guard refuses SET, so a statement cannot turn it off), and transactions there begin
 *   READ ONLY. PostgreSQL itself then refuses a write the guard could not see.
 * - Rows and DataRow bytes are counted as they arrive ({@link LimitedQuery}); past
 *   maxRows / maxResultBytes the rest is dropped unread, the statement is cancelled on
 *   the server and the connection destroyed, so a huge result is never buffered.
 * - An aborted call signal (and the client read timeout) cancels the statement on the
 *   server with the protocol's CancelRequest (a fresh socket carrying the backend's
 *   process id and secret key: it needs no free pool connection and no privilege) and
 *   destroys the connection, whose session state is then unknown.
 */
import net from 'node:net';
import type { CancellationSignal, JsonValue } from '@onex/core';
import { sanitizeMessage } from '@onex/core';
import pg from 'pg';
import type { Logger } from '../../logging/logger.js';
import type { ResolvedDbHandlerConfig } from './db-config.js';
import {
  abortError,
  resultTooLargeError,
  TEXT_RESULT_TYPE_OIDS,
  toJsonRows,
  type DbCall,
  type DbExecutor,
  type DbPoolStats,
  type DbQueryResult,
  type DbResultLimits,
  type DbRolePrivileges,
  type DbSession,
} from './db-executor.js';
import { asPgError, isConnectionReusable } from './pg-error-map.js';

/**
 * Extra time the client waits beyond the server's statement_timeout before giving up
 * on its own; covers a server that stopped answering altogether.
 */
const CLIENT_TIMEOUT_GRACE_MS = 5_000;
/** How often the read-timeout watch looks for overdue statements, at most. @default 1000 ms */
const READ_TIMEOUT_SWEEP_MS = 1_000;
/** The message pg's own `query_timeout` uses; pg-error-map.ts maps it to INFRA_TIMEOUT. */
const READ_TIMEOUT_MESSAGE = 'Query read timeout';

const keepText = (text: string): string => text;
const typeParsers = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    TEXT_RESULT_TYPE_OIDS.has(oid) ? keepText : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

type QueryCallback = (error: Error | null, result?: pg.QueryResult) => void;

function toQueryResult(result: pg.QueryResult): DbQueryResult {
  return {
    rows: toJsonRows(result.rows),
    rowCount: result.rowCount ?? 0,
    fields: (result.fields ?? []).map((field) => ({ name: field.name, dataTypeId: field.dataTypeID })),
  };
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** The startup option that makes every transaction of a connection read only unless it says otherwise. */
const READ_ONLY_STARTUP_OPTIONS = '-c default_transaction_read_only=on';
/** Upper bound for delivering one CancelRequest; the server answers by closing the socket. */
const CANCEL_REQUEST_TIMEOUT_MS = 5_000;
/** The protocol's CancelRequest code (1234 << 16 | 5678). */
const CANCEL_REQUEST_CODE = 80_877_102;

/** The fields of a connected `pg.Client` that a CancelRequest needs; pg sets them but its types omit some. */
interface BackendIdentity {
  readonly processID: number | null;
  readonly secretKey: number | null;
  readonly host: string;
  readonly port: number;
}

/**
 * Asks the server to cancel whatever `client`'s backend is running, from a separate
 * socket. Never throws; resolves when the request was delivered or given up.
 */
export function sendCancelRequest(client: pg.ClientBase): Promise<void> {
  const { processID, secretKey, host, port } = client as unknown as BackendIdentity;
  if (processID === null || secretKey === null) return Promise.resolve();
  return new Promise((resolve) => {
    const socket = host.startsWith('/') ? net.connect(`${host}/.s.PGSQL.${port}`) : net.connect(port, host);
    const done = () => {
      socket.destroy();
      resolve();
    };
    socket.setTimeout(CANCEL_REQUEST_TIMEOUT_MS, done);
    socket.once('error', done);
    socket.once('close', done);
    socket.once('connect', () => {
      const request = Buffer.alloc(16);
      request.writeInt32BE(16, 0);
      request.writeInt32BE(CANCEL_REQUEST_CODE, 4);
      request.writeInt32BE(processID, 8);
      request.writeInt32BE(secretKey, 12);
      socket.end(request);
    });
  });
}

/** What pg passes to `Query#handleDataRow`: `length` is the DataRow message's size on the wire. */
interface DataRowMessage {
  readonly length: number;
}
const baseHandleDataRow = (pg.Query.prototype as unknown as { handleDataRow(this: pg.Query, msg: DataRowMessage): void }).handleDataRow;

/**
 * A pg Query that counts rows and bytes as the DataRow messages arrive. Past a limit it
 * keeps no more rows and calls `overflow` once, which stops the statement; pg has parsed
 * each DataRow message before this sees it, so at most one row beyond the limit is in memory.
 */
class LimitedQuery extends pg.Query {
  readonly #limits: DbResultLimits;
  readonly #target: string;
  readonly #overflow: (error: Error) => void;
  #rows = 0;
  #bytes = 0;
  #over = false;

  constructor(text: string, values: JsonValue[], callback: QueryCallback, limits: DbResultLimits, target: string, overflow: (error: Error) => void) {
    // pg's Query takes the callback in its config (its types omit it).
    const config: pg.QueryConfig<JsonValue[]> & { callback: QueryCallback } = { text, values, callback };
    super(config);
    this.#limits = limits;
    this.#target = target;
    this.#overflow = overflow;
  }

  handleDataRow(msg: DataRowMessage): void {
    if (this.#over) return;
    this.#rows += 1;
    this.#bytes += msg.length;
    if (this.#rows > this.#limits.maxRows || this.#bytes > this.#limits.maxResultBytes) {
      this.#over = true;
      this.#overflow(resultTooLargeError(this.#limits, this.#rows, this.#bytes, this.#target));
      return;
    }
    baseHandleDataRow.call(this, msg);
  }
}

/** The first error a connection emitted; such a connection is destroyed when released. */
const clientErrors = new WeakMap<pg.PoolClient, Error>();

function markBroken(client: pg.PoolClient, error: Error): void {
  if (!clientErrors.has(client)) clientErrors.set(client, error);
}

/** What one connection is waiting for: pg runs one statement at a time per connection. */
interface ConnectionWatch {
  /** The sweep count when the statement was sent. */
  sentAt: number;
  /** Fails the statement with the read-timeout error; `undefined` while the connection waits for nothing. */
  expire: ((error: Error) => void) | undefined;
}

/**
 * The client-side read timeout of every statement of one pool (what pg's
 * `query_timeout` does), with one periodic sweep instead of a timer per statement.
 * Each connection has one long-lived slot that a statement fills and clears, so
 * watching a statement allocates nothing and reads no clock: time is counted in
 * sweeps, and a statement fails after its timeout and at most one sweep period later.
 */
class ReadTimeoutWatch {
  readonly #connections = new Map<pg.PoolClient, ConnectionWatch>();
  readonly #interval: ReturnType<typeof setInterval>;
  /** Whole sweep periods that must pass after the one a statement was sent in. */
  readonly #sweepsToExpire: number;
  #sweeps = 0;

  constructor(timeoutMs: number) {
    const periodMs = Math.min(READ_TIMEOUT_SWEEP_MS, Math.max(10, Math.floor(timeoutMs / 10)));
    this.#sweepsToExpire = Math.ceil(timeoutMs / periodMs);
    this.#interval = setInterval(() => this.#sweep(), periodMs);
    // Statements in flight hold their sockets open anyway; the sweep alone must not keep the process alive.
    this.#interval.unref();
  }

  /** Starts the clock for the statement just sent on `client`; `expire` runs if it stays unanswered. */
  start(client: pg.PoolClient, expire: (error: Error) => void): void {
    let slot = this.#connections.get(client);
    if (slot === undefined) {
      slot = { sentAt: 0, expire: undefined };
      this.#connections.set(client, slot);
    }
    slot.sentAt = this.#sweeps;
    slot.expire = expire;
  }

  /** The statement on `client` was answered. */
  stop(client: pg.PoolClient): void {
    const slot = this.#connections.get(client);
    if (slot !== undefined) slot.expire = undefined;
  }

  /** The pool closed `client`. */
  forget(client: pg.PoolClient): void {
    this.#connections.delete(client);
  }

  close(): void {
    clearInterval(this.#interval);
  }

  #sweep(): void {
    this.#sweeps += 1;
    // Sent during period k (after sweep k), a statement has waited at least
    // `sweeps - k - 1` full periods; expire it only when that covers the timeout.
    const oldest = this.#sweeps - this.#sweepsToExpire - 1;
    for (const slot of this.#connections.values()) {
      const expire = slot.expire;
      if (expire === undefined || slot.sentAt > oldest) continue;
      slot.expire = undefined;
      expire(new Error(READ_TIMEOUT_MESSAGE));
    }
  }
}

export class PgExecutor implements DbExecutor {
  readonly backend = 'pg' as const;
  readonly #config: ResolvedDbHandlerConfig;
  readonly #logger: Logger;
  readonly #pool: pg.Pool;
  /** Connections on which PostgreSQL refuses writes; created by the first read-only call. */
  #readOnlyPool: pg.Pool | undefined;
  readonly #target: string;
  readonly #readTimeouts: ReadTimeoutWatch;
  readonly #limits: DbResultLimits;

  constructor(config: ResolvedDbHandlerConfig, target: string, logger: Logger) {
    this.#config = config;
    this.#logger = logger;
    this.#target = target;
    this.#limits = { maxRows: config.maxRows, maxResultBytes: config.maxResultBytes };
    this.#readTimeouts = new ReadTimeoutWatch(config.timeoutMs + CLIENT_TIMEOUT_GRACE_MS);
    this.#pool = this.#createPool(false);
  }

  describeTarget(): string {
    return this.#target;
  }

  stats(): DbPoolStats {
    const ro = this.#readOnlyPool;
    return {
      total: this.#pool.totalCount + (ro?.totalCount ?? 0),
      idle: this.#pool.idleCount + (ro?.idleCount ?? 0),
      waiting: this.#pool.waitingCount + (ro?.waitingCount ?? 0),
    };
  }

  async privileges(): Promise<DbRolePrivileges> {
    // Superusers pass every membership test, so they list all of them.
    const result = await this.#poolQuery(
      `select current_user::text as role, r.rolsuper as superuser,
        ${SERVER_ROLES.map((name) => `coalesce((select pg_has_role(current_user, oid, 'MEMBER') from pg_roles where rolname = '${name}'), false) as ${name}`).join(',\n        ')}
       from pg_roles r where r.rolname = current_user`,
    );
    const row = (result.rows[0] ?? {}) as Record<string, unknown>;
    const attributes: string[] = [];
    if (row.superuser === true) attributes.push('superuser');
    for (const name of SERVER_ROLES) if (row[name] === true) attributes.push(name);
    return { role: typeof row.role === 'string' ? row.role : 'unknown', attributes };
  }

  query(sql: string, params: readonly JsonValue[], call: DbCall): Promise<DbQueryResult> {
    return new Promise((resolve, reject) => {
      const signal = call.signal;
      // Already given up: nothing is sent.
      if (signal?.aborted === true) {
        reject(abortError(signal, this.#target));
        return;
      }
      const pool = call.readOnly ? this.#readOnly() : this.#pool;
      pool.connect((connectError, client, release) => {
        if (connectError !== undefined && connectError !== null) {
          reject(connectError);
          return;
        }
        if (client === undefined) {
          reject(new Error('pg pool returned no client'));
          return;
        }
        if (signal?.aborted === true) {
          release();
          reject(abortError(signal, this.#target));
          return;
        }
        this.#send(client, sql, params, signal, (error, result) => {
          // release(error) destroys the connection instead of returning it to the pool.
          release(clientErrors.get(client) ?? (error !== null && !isConnectionReusable(error) ? error : undefined));
          if (error !== null) reject(error);
          else if (result === undefined) reject(new Error('pg returned no result'));
          else {
            try {
              resolve(toQueryResult(result));
            } catch (conversionError) {
              reject(conversionError);
            }
          }
        });
      });
    });
  }

  transaction<T>(fn: (session: DbSession) => Promise<T>, call: DbCall): Promise<T> {
    const { signal } = call;
    if (signal?.aborted === true) return Promise.reject(abortError(signal, this.#target));
    const pool = call.readOnly ? this.#readOnly() : this.#pool;
    return this.#withClient(pool, async (client, discard) => {
      let open = true;
      const session: DbSession = {
        query: async (sql, params) => {
          if (!open) throw new Error('db transaction session used after the transaction ended');
          return toQueryResult(await this.#run(client, sql, params, signal));
        },
      };
      try {
        await this.#run(client, call.readOnly ? 'BEGIN READ ONLY' : 'BEGIN', [], signal);
        const result = await fn(session);
        await this.#run(client, 'COMMIT', [], signal);
        return result;
      } catch (error) {
        // After a failed COMMIT the server has already rolled back; ROLLBACK is then a no-op.
        // If ROLLBACK itself fails the session state is unknown: destroy the connection,
        // which ends the transaction server-side, and report the original failure.
        if (isConnectionReusable(error)) await this.#run(client, 'ROLLBACK').catch(discard);
        throw error;
      } finally {
        open = false;
      }
    });
  }

  async close(): Promise<void> {
    try {
      await Promise.all([this.#pool.end(), this.#readOnlyPool?.end()]);
    } finally {
      this.#readTimeouts.close();
    }
  }

  #readOnly(): pg.Pool {
    this.#readOnlyPool ??= this.#createPool(true);
    return this.#readOnlyPool;
  }

  #createPool(readOnly: boolean): pg.Pool {
    const config = this.#config;
    const pool = new pg.Pool({
      // The one place the URL leaves its wrapper: the driver needs the password.
      connectionString: config.url.reveal(),
      max: config.poolSize,
      connectionTimeoutMillis: config.connectionTimeoutMs,
      statement_timeout: config.timeoutMs,
      application_name: config.applicationName,
      types: typeParsers,
      // Idle connections must not keep a finished process alive.
      allowExitOnIdle: true,
      ...(readOnly ? { options: READ_ONLY_STARTUP_OPTIONS } : {}),
    });
    // An idle connection whose backend died emits 'error'; without a listener Node would
    // crash the process. The pool has already discarded that connection.
    pool.on('error', (error) => {
      this.#logger.warn(
        { handler_type: 'db', target: this.#target, sqlstate: asPgError(error)?.code, error_message: sanitizeMessage(error.message) },
        'db: an idle PostgreSQL connection failed and was discarded',
      );
    });
    // A checked-out client also emits 'error' when its socket dies between or during
    // statements, and the pool listens only while the client is idle. One listener per
    // connection, for its whole life, records the failure so that whoever holds the
    // client discards it on release.
    pool.on('connect', (client) => {
      client.on('error', (error: Error) => markBroken(client, error));
    });
    pool.on('remove', (client) => this.#readTimeouts.forget(client));
    return pool;
  }

  /** One internal statement on the read-write pool, without the envelope limits. */
  async #poolQuery(sql: string): Promise<pg.QueryResult> {
    const client = await this.#pool.connect();
    try {
      return await client.query(sql);
    } finally {
      client.release();
    }
  }

  /**
   * Sends one statement on a checked-out client; `callback` runs exactly once, with
   * pg's answer or with the error that interrupted it: the read timeout, the call's
   * signal, or a result over the limits. An interrupted statement is cancelled on the
   * server and its client marked broken, so releasing it destroys the connection and
   * with it whatever of the result is still on its way.
   */
  #send(client: pg.PoolClient, sql: string, params: readonly JsonValue[], signal: CancellationSignal | undefined, callback: QueryCallback): void {
    let answered = false;
    const interrupt = (error: Error) => {
      if (answered) return;
      answered = true;
      this.#readTimeouts.stop(client);
      signal?.removeEventListener('abort', onAbort);
      markBroken(client, error);
      void sendCancelRequest(client);
      callback(error);
    };
    const onAbort = () => interrupt(abortError(signal as CancellationSignal, this.#target));
    this.#readTimeouts.start(client, interrupt);
    const onAnswer: QueryCallback = (error, result) => {
      if (answered) return;
      answered = true;
      this.#readTimeouts.stop(client);
      signal?.removeEventListener('abort', onAbort);
      callback(error ?? null, result);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      // pg reads `values` without changing it, so the caller's array is passed as is.
      client.query(new LimitedQuery(sql, params as JsonValue[], onAnswer, this.#limits, this.#target, interrupt));
    } catch (error) {
      onAnswer(asError(error));
    }
  }

  #run(client: pg.PoolClient, sql: string, params: readonly JsonValue[] = [], signal?: CancellationSignal): Promise<pg.QueryResult> {
    return new Promise((resolve, reject) => {
      this.#send(client, sql, params, signal, (error, result) => {
        if (error !== null) reject(error);
        else if (result === undefined) reject(new Error('pg returned no result'));
        else resolve(result);
      });
    });
  }

  async #withClient<T>(pool: pg.Pool, fn: (client: pg.PoolClient, discard: (error: Error) => void) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    let broken: Error | undefined;
    const discard = (error: Error) => {
      broken ??= error;
    };
    try {
      return await fn(client, discard);
    } catch (error) {
      if (!isConnectionReusable(error)) broken ??= asError(error);
      throw error;
    } finally {
      // release(error) destroys the connection instead of returning it to the pool.
      client.release(clientErrors.get(client) ?? broken);
    }
  }
}

/** Predefined roles whose members reach the server's files and programs (PostgreSQL 11+). */
const SERVER_ROLES = ['pg_execute_server_program', 'pg_read_server_files', 'pg_write_server_files'] as const;
