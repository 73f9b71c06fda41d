/**
 * DbExecutor over an in-process PGlite database (PostgreSQL compiled to WebAssembly).
 * PGlite is ONE session: if two envelopes shared it freely, a statement of one could
 * land inside the other's open transaction. So every operation goes through a FIFO
 * queue, and a transaction holds its place in the queue from BEGIN to COMMIT/ROLLBACK.
 *
 * A read-only call runs inside BEGIN READ ONLY … COMMIT, so PGlite refuses its writes as
 * PostgreSQL would. PGlite returns a result whole, so the result limits are checked after
 * the statement, and a running statement cannot be cancelled: an aborted call is refused
 * only before it starts.
 */
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { JsonValue } from '@onex/core';
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

/** Runs async tasks one at a time, in arrival order. */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();
  #waiting = 0;
  #active = false;

  /** Tasks queued behind the running one. */
  get waiting(): number {
    return this.#waiting;
  }

  get active(): boolean {
    return this.#active;
  }

  run<T>(task: () => Promise<T>): Promise<T> {
    this.#waiting += 1;
    const result = this.#tail.then(async () => {
      this.#waiting -= 1;
      this.#active = true;
      try {
        return await task();
      } finally {
        this.#active = false;
      }
    });
    // The next task waits for this one to settle, whether it succeeded or not.
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

const BYTEA_OID = 17;
const keepText = (text: string): string => text;
const parsers = Object.fromEntries([...TEXT_RESULT_TYPE_OIDS].map((oid) => [oid, keepText]));
/**
 * JSON parameters cannot carry bytes, so a bytea parameter arrives as its text form
 * (`\x0102`), which PostgreSQL itself parses; PGlite's default serializer would refuse it.
 */
const serializers = {
  [BYTEA_OID]: (value: unknown): string =>
    value instanceof Uint8Array ? `\\x${Buffer.from(value).toString('hex')}` : String(value),
};

/** Roughly the bytes PostgreSQL would send for `rows`: text lengths, 8 bytes per other value. */
function estimateBytes(rows: ReadonlyArray<Record<string, unknown>>, limit: number): number {
  let bytes = 0;
  for (const row of rows) {
    for (const key in row) {
      const value = row[key];
      bytes += 4 + (typeof value === 'string' ? value.length : value instanceof Uint8Array ? value.byteLength : 8);
    }
    if (bytes > limit) return bytes;
  }
  return bytes;
}

async function run(db: PGlite, sql: string, params: readonly JsonValue[], limits: DbResultLimits, target: string): Promise<DbQueryResult> {
  const result = await db.query<Record<string, unknown>>(sql, [...params]);
  if (result.rows.length > limits.maxRows) throw resultTooLargeError(limits, result.rows.length, 0, target);
  const bytes = estimateBytes(result.rows, limits.maxResultBytes);
  if (bytes > limits.maxResultBytes) throw resultTooLargeError(limits, result.rows.length, bytes, target);
  const rowCount = result.rowCount ?? (result.command === 'SELECT' ? result.rows.length : (result.affectedRows ?? 0));
  return {
    rows: toJsonRows(result.rows),
    rowCount,
    fields: result.fields.map((field) => ({ name: field.name, dataTypeId: field.dataTypeID })),
  };
}

export class PgliteExecutor implements DbExecutor {
  readonly backend = 'pglite' as const;
  readonly #db: PGlite;
  readonly #target: string;
  readonly #queue = new SerialQueue();
  readonly #limits: DbResultLimits;

  private constructor(db: PGlite, target: string, limits: DbResultLimits) {
    this.#db = db;
    this.#target = target;
    this.#limits = limits;
  }

  /** Starts PGlite in memory (`dataDir` undefined) or persisted to `dataDir`. */
  static async open(dataDir: string | undefined, target: string, limits: DbResultLimits): Promise<PgliteExecutor> {
    const options = { parsers, serializers };
    const db = dataDir === undefined ? await PGlite.create(options) : await PGlite.create(resolve(dataDir), options);
    return new PgliteExecutor(db, target, limits);
  }

  /** PGlite runs in this process with no server files or programs to protect. */
  privileges(): Promise<DbRolePrivileges> {
    return Promise.resolve({ role: 'pglite', attributes: [] });
  }

  describeTarget(): string {
    return this.#target;
  }

  stats(): DbPoolStats {
    const active = this.#queue.active ? 1 : 0;
    return { total: 1, idle: 1 - active, waiting: this.#queue.waiting };
  }

  query(sql: string, params: readonly JsonValue[], call: DbCall): Promise<DbQueryResult> {
    if (call.readOnly) return this.transaction((session) => session.query(sql, params), call);
    const { signal } = call;
    return this.#queue.run(() => {
      if (signal?.aborted === true) return Promise.reject(abortError(signal, this.#target));
      return run(this.#db, sql, params, this.#limits, this.#target);
    });
  }

  transaction<T>(fn: (session: DbSession) => Promise<T>, call: DbCall): Promise<T> {
    const { signal } = call;
    return this.#queue.run(async () => {
      if (signal?.aborted === true) throw abortError(signal, this.#target);
      let open = true;
      const session: DbSession = {
        query: (sql, params) => {
          if (!open) return Promise.reject(new Error('db transaction session used after the transaction ended'));
          if (signal?.aborted === true) return Promise.reject(abortError(signal, this.#target));
          return run(this.#db, sql, params, this.#limits, this.#target);
        },
      };
      try {
        await this.#db.query(call.readOnly ? 'BEGIN READ ONLY' : 'BEGIN');
        const result = await fn(session);
        await this.#db.query('COMMIT');
        return result;
      } catch (error) {
        // Leave the single session clean for the next envelope in the queue.
        await this.#db.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        open = false;
      }
    });
  }

  close(): Promise<void> {
    // Queued behind in-flight work, so nothing is cut off half-way.
    return this.#queue.run(() => this.#db.close());
  }
}
