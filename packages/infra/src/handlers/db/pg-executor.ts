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
 */
import type { JsonValue } from '@onex/core';
import { sanitizeMessage } from '@onex/core';
import pg from 'pg';
import type { Logger } from '../../logging/logger.js';
import type { ResolvedDbHandlerConfig } from './db-config.js';
import { TEXT_RESULT_TYPE_OIDS, toJsonRows, type DbExecutor, type DbPoolStats, type DbQueryResult, type DbSession } from './db-executor.js';
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

/** The first error a connection emitted; such a connection is destroyed when released. */
const clientErrors = new WeakMap<pg.PoolClient, Error>();

function markBroken(client: pg.PoolClient, error: Error): void {
  if (!clientErrors.has(client)) clientErrors.set(client, error);
}

/** What one connection is waiting for: pg runs one statement at a time per connection. */
interface ConnectionWatch {
  /** The sweep count when the statement was sent. */
  sentAt: number;
  /** Fails the statement; `undefined` while the connection waits for nothing. */
  expire: (() => void) | undefined;
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
  start(client: pg.PoolClient, expire: () => void): void {
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
      expire();
    }
  }
}

export class PgExecutor implements DbExecutor {
  readonly backend = 'pg' as const;
  readonly #pool: pg.Pool;
  readonly #target: string;
  readonly #readTimeouts: ReadTimeoutWatch;

  constructor(config: ResolvedDbHandlerConfig, target: string, logger: Logger) {
    this.#target = target;
    this.#pool = new pg.Pool({
      connectionString: config.url,
      max: config.poolSize,
      connectionTimeoutMillis: config.connectionTimeoutMs,
      statement_timeout: config.timeoutMs,
      application_name: config.applicationName,
      types: typeParsers,
      // Idle connections must not keep a finished process alive.
      allowExitOnIdle: true,
    });
    this.#readTimeouts = new ReadTimeoutWatch(config.timeoutMs + CLIENT_TIMEOUT_GRACE_MS);
    // An idle connection whose backend died emits 'error'; without a listener Node would
    // crash the process. The pool has already discarded that connection.
    this.#pool.on('error', (error) => {
      logger.warn(
        { handler_type: 'db', target: this.#target, sqlstate: asPgError(error)?.code, error_message: sanitizeMessage(error.message) },
        'db: an idle PostgreSQL connection failed and was discarded',
      );
    });
    // A checked-out client also emits 'error' when its socket dies between or during
    // statements, and the pool listens only while the client is idle. One listener per
    // connection, for its whole life, records the failure so that whoever holds the
    // client discards it on release.
    this.#pool.on('connect', (client) => {
      client.on('error', (error: Error) => markBroken(client, error));
    });
    this.#pool.on('remove', (client) => this.#readTimeouts.forget(client));
  }

  describeTarget(): string {
    return this.#target;
  }

  stats(): DbPoolStats {
    return { total: this.#pool.totalCount, idle: this.#pool.idleCount, waiting: this.#pool.waitingCount };
  }

  query(sql: string, params: readonly JsonValue[]): Promise<DbQueryResult> {
    return new Promise((resolve, reject) => {
      this.#pool.connect((connectError, client, release) => {
        if (connectError !== undefined && connectError !== null) {
          reject(connectError);
          return;
        }
        if (client === undefined) {
          reject(new Error('pg pool returned no client'));
          return;
        }
        this.#send(client, sql, params, (error, result) => {
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

  transaction<T>(fn: (session: DbSession) => Promise<T>): Promise<T> {
    return this.#withClient(async (client, discard) => {
      let open = true;
      const session: DbSession = {
        query: async (sql, params) => {
          if (!open) throw new Error('db transaction session used after the transaction ended');
          return toQueryResult(await this.#run(client, sql, params));
        },
      };
      try {
        await this.#run(client, 'BEGIN');
        const result = await fn(session);
        await this.#run(client, 'COMMIT');
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
      await this.#pool.end();
    } finally {
      this.#readTimeouts.close();
    }
  }

  /**
   * Sends one statement on a checked-out client; `callback` runs exactly once, with
   * pg's answer or with the read-timeout error. A timed-out client is marked broken,
   * so releasing it destroys the connection (and with it the statement still running).
   */
  #send(client: pg.PoolClient, sql: string, params: readonly JsonValue[], callback: QueryCallback): void {
    let answered = false;
    this.#readTimeouts.start(client, () => {
      if (answered) return;
      answered = true;
      const error = new Error(READ_TIMEOUT_MESSAGE);
      markBroken(client, error);
      callback(error);
    });
    const onAnswer: QueryCallback = (error, result) => {
      if (answered) return;
      answered = true;
      this.#readTimeouts.stop(client);
      callback(error ?? null, result);
    };
    try {
      // pg reads `values` without changing it; the (text, values) form skips its config clone.
      client.query(sql, params as JsonValue[], onAnswer);
    } catch (error) {
      onAnswer(asError(error));
    }
  }

  #run(client: pg.PoolClient, sql: string, params: readonly JsonValue[] = []): Promise<pg.QueryResult> {
    return new Promise((resolve, reject) => {
      this.#send(client, sql, params, (error, result) => {
        if (error !== null) reject(error);
        else if (result === undefined) reject(new Error('pg returned no result'));
        else resolve(result);
      });
    });
  }

  async #withClient<T>(fn: (client: pg.PoolClient, discard: (error: Error) => void) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
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
