/**
 * DbExecutor over a `pg.Pool`. Each statement checks a connection out, runs, and
 * returns it; a transaction keeps one connection for BEGIN … COMMIT. A connection
 * whose session may be broken (FATAL error, dropped socket, client-side timeout) is
 * destroyed instead of returned, so the next statement gets a fresh one.
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

const keepText = (text: string): string => text;
const typeParsers = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    TEXT_RESULT_TYPE_OIDS.has(oid) ? keepText : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

async function run(client: pg.PoolClient, sql: string, params: readonly JsonValue[]): Promise<DbQueryResult> {
  const result = await client.query({ text: sql, values: [...params] });
  return {
    rows: toJsonRows(result.rows),
    rowCount: result.rowCount ?? 0,
    fields: (result.fields ?? []).map((field) => ({ name: field.name, dataTypeId: field.dataTypeID })),
  };
}

export class PgExecutor implements DbExecutor {
  readonly backend = 'pg' as const;
  readonly #pool: pg.Pool;
  readonly #target: string;

  constructor(config: ResolvedDbHandlerConfig, target: string, logger: Logger) {
    this.#target = target;
    this.#pool = new pg.Pool({
      connectionString: config.url,
      max: config.poolSize,
      connectionTimeoutMillis: config.connectionTimeoutMs,
      statement_timeout: config.timeoutMs,
      query_timeout: config.timeoutMs + CLIENT_TIMEOUT_GRACE_MS,
      application_name: config.applicationName,
      types: typeParsers,
      // Idle connections must not keep a finished process alive.
      allowExitOnIdle: true,
    });
    // An idle connection whose backend died emits 'error'; without a listener Node would
    // crash the process. The pool has already discarded that connection.
    this.#pool.on('error', (error) => {
      logger.warn(
        { handler_type: 'db', target: this.#target, sqlstate: asPgError(error)?.code, error_message: sanitizeMessage(error.message) },
        'db: an idle PostgreSQL connection failed and was discarded',
      );
    });
  }

  describeTarget(): string {
    return this.#target;
  }

  stats(): DbPoolStats {
    return { total: this.#pool.totalCount, idle: this.#pool.idleCount, waiting: this.#pool.waitingCount };
  }

  query(sql: string, params: readonly JsonValue[]): Promise<DbQueryResult> {
    return this.#withClient((client) => run(client, sql, params));
  }

  transaction<T>(fn: (session: DbSession) => Promise<T>): Promise<T> {
    return this.#withClient(async (client, discard) => {
      let open = true;
      const session: DbSession = {
        query: (sql, params) => {
          if (!open) return Promise.reject(new Error('db transaction session used after the transaction ended'));
          return run(client, sql, params);
        },
      };
      try {
        await client.query('BEGIN');
        const result = await fn(session);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        // After a failed COMMIT the server has already rolled back; ROLLBACK is then a no-op.
        // If ROLLBACK itself fails the session state is unknown: destroy the connection,
        // which ends the transaction server-side, and report the original failure.
        if (isConnectionReusable(error)) await client.query('ROLLBACK').catch(discard);
        throw error;
      } finally {
        open = false;
      }
    });
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }

  async #withClient<T>(fn: (client: pg.PoolClient, discard: (error: Error) => void) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    let broken: Error | undefined;
    // A checked-out client also emits 'error' when its socket dies between statements.
    const onError = (error: Error) => {
      broken ??= error;
    };
    client.on('error', onError);
    try {
      return await fn(client, onError);
    } catch (error) {
      if (!isConnectionReusable(error)) broken ??= error instanceof Error ? error : new Error(String(error));
      throw error;
    } finally {
      client.off('error', onError);
      // release(error) destroys the connection instead of returning it to the pool.
      client.release(broken);
    }
  }
}
