/**
 * The shared idempotency store: one PostgreSQL table that every runtime host of a
 * deployment (and a host after its restart) claims envelope ids in, so a redelivered
 * envelope is answered from the stored response instead of being executed again.
 *
 * Leases and TTLs are computed with the database's clock (`now()`), never the host's,
 * so hosts with skewed clocks agree on who holds what. The table is created on first
 * use; expired rows are deleted opportunistically by the operations themselves, at most
 * once per `cleanupIntervalMs`, so no timer keeps the process alive.
 */
import { ShuttingDownError, HandlerConfigurationError, InfraError, InfraUnavailableError, OnexError, RuntimeHostError, sanitizeMessage } from '@onex/core';
import type { IdempotencyClaim, ProtocolIdempotencyStore } from '@onex/spi';
import pg from 'pg';
import { resolveDbTarget } from '../handlers/db/db-config.js';
import { asPgError, mapDbError } from '../handlers/db/pg-error-map.js';
import { silentLogger, type Logger } from '../logging/logger.js';

/** @default "onex_idempotency" */
export const DEFAULT_IDEMPOTENCY_TABLE = 'onex_idempotency';
/** @default 24 hours */
export const DEFAULT_PG_IDEMPOTENCY_TTL_MS = 86_400_000;
/** @default 2 connections */
export const DEFAULT_PG_IDEMPOTENCY_POOL_SIZE = 2;
/** @default 5 000 ms */
export const DEFAULT_PG_IDEMPOTENCY_STATEMENT_TIMEOUT_MS = 5_000;
/** @default 5 000 ms */
export const DEFAULT_PG_IDEMPOTENCY_CONNECTION_TIMEOUT_MS = 5_000;
/** @default 60 000 ms */
export const DEFAULT_PG_IDEMPOTENCY_CLEANUP_INTERVAL_MS = 60_000;
/** @default "onex-idempotency" */
export const DEFAULT_PG_IDEMPOTENCY_APPLICATION_NAME = 'onex-idempotency';

/** Rows one cleanup deletes at most, so it never holds many row locks or runs long. */
const CLEANUP_BATCH = 1_000;
/**
 * Extra time the client waits beyond the server's statement_timeout before giving up on
 * its own; covers a server that stopped answering altogether.
 */
const CLIENT_TIMEOUT_GRACE_MS = 2_000;
/**
 * How often `claim` re-reads when the row changed between its upsert and its read
 * (released, completed or taken over in that instant). Each retry needs another
 * concurrent change, so more than a couple is practically impossible.
 */
const CLAIM_ATTEMPTS = 5;
/** Leaves room for the `_expires_at_idx` suffix within PostgreSQL's 63-byte names. */
const TABLE_NAME = /^[a-z_][a-z0-9_]{0,47}$/;
const MAX_NAMESPACE_LENGTH = 200;
/** Largest delay a Node.js timer accepts. */
const MAX_TIMER_MS = 2_147_483_647;
/**
 * What two hosts creating the table at the same instant can get: the loser of the race
 * on the catalog's unique indexes (pg_type, pg_class) sees a unique violation or a
 * duplicate object instead of the IF NOT EXISTS notice. Running the DDL again then
 * finds the winner's table.
 */
const CONCURRENT_DDL_SQLSTATES = new Set(['23505', '42P07', '42710', '42701']);
/** Each of the three DDL statements can lose such a race once; a little more is headroom. */
const DDL_ATTEMPTS = 5;

export interface PostgresIdempotencyStoreOptions {
  /**
   * `postgres://user:pass@host:5432/db` (or `postgresql://`). Resolve the password from a
   * secret; the store never puts the URL in an error, a log line or `describe()`.
   * Give either `url` or `pool`.
   */
  readonly url?: string;
  /**
   * A pool to reuse instead of opening one. The store does not end it on `close()`,
   * and its own timeouts (`statementTimeoutMs`, `connectionTimeoutMs`, `poolSize`,
   * `applicationName`) do not apply: the pool's settings do.
   */
  readonly pool?: pg.Pool;
  /**
   * Scopes every key: runtimes sharing one database must use different namespaces (the
   * primary key is `(namespace, envelope_id)`). Typically the runtime name.
   */
  readonly namespace: string;
  /** Table name (lower-case identifier, in the connection's search_path). @default "onex_idempotency" */
  readonly table?: string;
  /** How long a completed response is replayed after `complete`. @default 86_400_000 (24 hours) */
  readonly ttlMs?: number;
  /** Connections of the store's own pool. @default 2 */
  readonly poolSize?: number;
  /** Per-statement budget enforced by the server (`statement_timeout`). @default 5000 */
  readonly statementTimeoutMs?: number;
  /** How long to wait for a connection, new or from the pool. @default 5000 */
  readonly connectionTimeoutMs?: number;
  /** `application_name` of the store's connections, visible in `pg_stat_activity`. @default "onex-idempotency" */
  readonly applicationName?: string;
  /** Expired rows are deleted at most this often (by whichever operation comes first). @default 60_000 */
  readonly cleanupIntervalMs?: number;
  /** Clock that paces the cleanup only; leases and TTLs use the database's clock. @default Date.now */
  readonly now?: () => number;
  /** Receives warnings about failed cleanups and dropped idle connections. @default silent */
  readonly logger?: Logger;
}

/** Wire-safe description of the store, for health output. Never contains the URL. */
export interface PostgresIdempotencyStoreDescription {
  readonly kind: 'postgres';
  readonly target: string;
  readonly namespace: string;
  readonly table: string;
  readonly ttl_ms: number;
  readonly pool_size: number | undefined;
  readonly statement_timeout_ms: number | undefined;
  readonly shared_pool: boolean;
}

interface ClaimRow {
  /** `'claimed'` from the upsert, otherwise the row's state as the fallback read saw it. */
  readonly status: string;
  /** The interrupted owner for `'claimed'`, otherwise the holder. */
  readonly owner: string | null;
  readonly response: string | null;
  readonly lease_expires_at_ms: number | null;
  /** Whether the fallback row still counts: a live lease, or a completion within its TTL. */
  readonly live: boolean | null;
  /** Whether the fallback row, not yet expired, was claimed for another request (digest). */
  readonly conflict: boolean | null;
}

const CLAIMED: IdempotencyClaim = Object.freeze({ status: 'claimed' });
const CONFLICT: IdempotencyClaim = Object.freeze({ status: 'conflict' });

function configError(message: string, hint: string): HandlerConfigurationError {
  return new HandlerConfigurationError(message, { operation: 'idempotency_store', hint });
}

function positiveInteger(name: string, value: number, max = MAX_TIMER_MS): number {
  if (!Number.isSafeInteger(value) || value < 1 || value > max) {
    throw configError(
      `PostgreSQL idempotency store option ${name} must be an integer from 1 to ${max} (got ${String(value)})`,
      `Set ${name} to a whole number in range, or leave it out for the default.`,
    );
  }
  return value;
}

function isPostgresUrl(url: string): boolean {
  if (!url.startsWith('postgres://') && !url.startsWith('postgresql://')) return false;
  try {
    new URL(url);
    return true;
  } catch {
    return false;
  }
}

/** `host:port/database` of a pool, from its connection string or its discrete options. */
function poolTarget(pool: pg.Pool): string {
  const options = pool.options;
  if (typeof options.connectionString === 'string' && isPostgresUrl(options.connectionString)) {
    return resolveDbTarget(options.connectionString).target;
  }
  return `${options.host ?? 'localhost'}:${String(options.port ?? 5432)}/${options.database ?? ''}`;
}

/**
 * A {@link ProtocolIdempotencyStore} in PostgreSQL, shared by every host that uses the
 * same database, table and namespace.
 *
 * `claim` is one statement: an `INSERT … ON CONFLICT DO UPDATE … WHERE` that takes the
 * row only when it is absent, pending for the same owner, pending with an expired
 * lease, or completed past its TTL. The row lock taken by ON CONFLICT makes it atomic:
 * of N concurrent claims exactly one takes the row. When the upsert takes nothing, the
 * same statement reads the row to say why (completed, or in progress elsewhere). A
 * claim racing with the holder's `complete` can still answer `in_progress`; the next
 * delivery then sees `completed`.
 *
 * Errors are typed: connection failures (refused, terminated, SQLSTATE 08xxx, 57P0x) are
 * retryable `InfraConnectionError`s, server-side unavailability `InfraUnavailableError`,
 * timeouts `InfraTimeoutError`, all with transport type `db`.
 */
export class PostgresIdempotencyStore implements ProtocolIdempotencyStore {
  readonly kind = 'postgres';
  readonly #pool: pg.Pool;
  readonly #ownsPool: boolean;
  readonly #target: string;
  readonly #namespace: string;
  readonly #table: string;
  readonly #ttlMs: number;
  readonly #poolSize: number | undefined;
  readonly #statementTimeoutMs: number | undefined;
  readonly #cleanupIntervalMs: number;
  readonly #now: () => number;
  readonly #logger: Logger;
  readonly #sql: { claim: string; complete: string; release: string; cleanup: string };
  #ready: Promise<void> | undefined;
  #nextCleanupAtMs = 0;
  #cleanup: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: PostgresIdempotencyStoreOptions) {
    const { url, pool } = options;
    if ((url === undefined) === (pool === undefined)) {
      throw configError('PostgreSQL idempotency store needs exactly one of url and pool', 'Pass a postgres:// url, or a pg.Pool to share.');
    }
    if (url !== undefined && !isPostgresUrl(url)) {
      // The value itself is not echoed: it may hold a password.
      throw configError('PostgreSQL idempotency store url must be a valid postgres:// or postgresql:// URL', 'Check the idempotency store url (its value is not shown, as it may contain a password).');
    }
    if (typeof options.namespace !== 'string' || options.namespace.length === 0 || options.namespace.length > MAX_NAMESPACE_LENGTH) {
      throw configError(
        `PostgreSQL idempotency store namespace must be a non-empty string of at most ${MAX_NAMESPACE_LENGTH} characters`,
        'Use the runtime name as namespace, so runtimes sharing a database do not see each other\'s envelope ids.',
      );
    }
    const table = options.table ?? DEFAULT_IDEMPOTENCY_TABLE;
    if (!TABLE_NAME.test(table)) {
      throw configError(`PostgreSQL idempotency store table "${table}" is not a plain lower-case identifier of at most 48 characters`, 'Use letters, digits and underscores, starting with a letter or underscore.');
    }
    this.#namespace = options.namespace;
    this.#table = table;
    this.#ttlMs = positiveInteger('ttlMs', options.ttlMs ?? DEFAULT_PG_IDEMPOTENCY_TTL_MS, Number.MAX_SAFE_INTEGER);
    this.#cleanupIntervalMs = options.cleanupIntervalMs === 0 ? 0 : positiveInteger('cleanupIntervalMs', options.cleanupIntervalMs ?? DEFAULT_PG_IDEMPOTENCY_CLEANUP_INTERVAL_MS);
    this.#now = options.now ?? Date.now;
    this.#logger = options.logger ?? silentLogger;
    this.#sql = statements(table);

    if (pool !== undefined) {
      this.#pool = pool;
      this.#ownsPool = false;
      this.#target = poolTarget(pool);
      this.#poolSize = undefined;
      this.#statementTimeoutMs = undefined;
    } else if (url !== undefined) {
      const poolSize = positiveInteger('poolSize', options.poolSize ?? DEFAULT_PG_IDEMPOTENCY_POOL_SIZE, 1000);
      const statementTimeoutMs = positiveInteger('statementTimeoutMs', options.statementTimeoutMs ?? DEFAULT_PG_IDEMPOTENCY_STATEMENT_TIMEOUT_MS);
      const connectionTimeoutMs = positiveInteger('connectionTimeoutMs', options.connectionTimeoutMs ?? DEFAULT_PG_IDEMPOTENCY_CONNECTION_TIMEOUT_MS);
      const applicationName = options.applicationName ?? DEFAULT_PG_IDEMPOTENCY_APPLICATION_NAME;
      this.#target = resolveDbTarget(url).target;
      this.#poolSize = poolSize;
      this.#statementTimeoutMs = statementTimeoutMs;
      this.#ownsPool = true;
      this.#pool = new pg.Pool({
        connectionString: url,
        max: poolSize,
        connectionTimeoutMillis: connectionTimeoutMs,
        statement_timeout: statementTimeoutMs,
        query_timeout: Math.min(statementTimeoutMs + CLIENT_TIMEOUT_GRACE_MS, MAX_TIMER_MS),
        application_name: applicationName,
        // Idle connections must not keep a finished process alive.
        allowExitOnIdle: true,
      });
      // An idle connection whose backend died emits 'error'; without a listener Node
      // would crash the process. The pool has already discarded that connection.
      this.#pool.on('error', (error) => {
        this.#logger.warn(
          { store: 'idempotency', target: this.#target, sqlstate: asPgError(error)?.code, error_message: sanitizeMessage(error.message) },
          'idempotency store: an idle PostgreSQL connection failed and was discarded',
        );
      });
    } else {
      throw configError('PostgreSQL idempotency store needs exactly one of url and pool', 'Pass a postgres:// url, or a pg.Pool to share.');
    }
  }

  async claim(envelopeId: string, owner: string, leaseMs: number, digest?: string): Promise<IdempotencyClaim> {
    await this.#ensureReady('idempotency_claim');
    this.#maybeCleanup();
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt += 1) {
      const rows = await this.#query<ClaimRow>('idempotency_claim', this.#sql.claim, [this.#namespace, envelopeId, owner, leaseMs, this.#ttlMs, digest ?? null]);
      const row = rows[0];
      if (row !== undefined && row.status === 'claimed') return row.owner === null ? CLAIMED : { status: 'claimed', interruptedOwner: row.owner };
      // Held or completed for another request: refused whatever its lease, until it expires.
      if (row?.conflict === true) return CONFLICT;
      // The upsert took nothing, so the latest row is held or completed. The read sees
      // the statement's snapshot, which can be older than what the upsert saw (a row
      // inserted, released or expired in that instant): a missing or no longer live row
      // means "read again", never "claimed".
      if (row === undefined || row.live !== true) continue;
      if (row.status === 'completed' && row.response !== null) return { status: 'completed', response: row.response };
      if (row.status === 'pending' && row.owner !== null && row.owner !== owner && row.lease_expires_at_ms !== null) {
        return { status: 'in_progress', owner: row.owner, leaseExpiresAtMs: Math.round(row.lease_expires_at_ms) };
      }
    }
    throw new InfraUnavailableError(`idempotency_claim could not settle the claim of an envelope id on ${this.#target}: the row kept changing`, {
      transportType: 'db',
      target: this.#target,
      operation: 'idempotency_claim',
      retryable: true,
      hint: 'Other hosts are claiming, completing and releasing the same envelope id at once; deliver the envelope again.',
    });
  }

  async complete(envelopeId: string, owner: string, response: string): Promise<void> {
    await this.#ensureReady('idempotency_complete');
    this.#maybeCleanup();
    await this.#query('idempotency_complete', this.#sql.complete, [this.#namespace, envelopeId, owner, response, this.#ttlMs]);
  }

  async release(envelopeId: string, owner: string): Promise<void> {
    await this.#ensureReady('idempotency_release');
    await this.#query('idempotency_release', this.#sql.release, [this.#namespace, envelopeId, owner]);
  }

  /** Waits for a running cleanup, then ends the pool if the store opened it. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#cleanup;
      if (this.#ownsPool) await this.#pool.end();
    })();
    return this.#closing;
  }

  /** Wire-safe facts for health and `describe` output; never the URL. */
  describe(): PostgresIdempotencyStoreDescription {
    return {
      kind: this.kind,
      target: this.#target,
      namespace: this.#namespace,
      table: this.#table,
      ttl_ms: this.#ttlMs,
      pool_size: this.#poolSize,
      statement_timeout_ms: this.#statementTimeoutMs,
      shared_pool: !this.#ownsPool,
    };
  }

  /** Creates the table once; a failed attempt is forgotten so the next call tries again. */
  #ensureReady(operation: string): Promise<void> {
    if (this.#closing !== undefined) return Promise.reject(this.#closedError(operation));
    if (this.#ready === undefined) {
      const ready = this.#createSchema();
      this.#ready = ready;
      ready.catch(() => {
        if (this.#ready === ready) this.#ready = undefined;
      });
    }
    return this.#ready;
  }

  async #createSchema(): Promise<void> {
    const table = this.#table;
    const index = `${table}_expires_at_idx`;
    // Look where CREATE TABLE would create it (the first schema of the search_path), not
    // wherever the search_path finds a table of that name: a role whose own schema comes
    // first (onex_app) would otherwise take another role's table in `public` for its own,
    // skip the DDL and fail every call with "permission denied".
    const [existing] = await this.#query<{ has_table: boolean; has_index: boolean; has_digest: boolean }>(
      'idempotency_init',
      `SELECT to_regclass(format('%I.%I', current_schema(), $1::text)) IS NOT NULL AS has_table,
              to_regclass(format('%I.%I', current_schema(), $2::text)) IS NOT NULL AS has_index,
              EXISTS (SELECT 1 FROM pg_attribute
                      WHERE attrelid = to_regclass(format('%I.%I', current_schema(), $1::text))
                        AND attname = 'request_digest' AND NOT attisdropped) AS has_digest`,
      [table, index],
    );
    // Skipping the DDL when all is there spares every later start CREATE INDEX's share lock.
    if (existing?.has_table === true && existing.has_index && existing.has_digest) return;
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.#pool.query(createTableSql(table));
        // A table created by an earlier version lacks the digest column. Added nullable and
        // without a default, it is a catalog-only change (no rewrite); its rows keep NULL,
        // which matches any digest, so they are answered exactly as before.
        await this.#pool.query(`ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS request_digest text`);
        await this.#pool.query(`CREATE INDEX IF NOT EXISTS ${index} ON ${table} (expires_at)`);
        return;
      } catch (error) {
        const sqlstate = asPgError(error)?.code;
        if (attempt < DDL_ATTEMPTS && sqlstate !== undefined && CONCURRENT_DDL_SQLSTATES.has(sqlstate)) continue;
        throw this.#mapError(error, 'idempotency_init');
      }
    }
  }

  /** Starts a detached cleanup when one is due; its failure is only logged. */
  #maybeCleanup(): void {
    const now = this.#now();
    if (this.#cleanup !== undefined || now < this.#nextCleanupAtMs) return;
    this.#nextCleanupAtMs = now + this.#cleanupIntervalMs;
    const cleanup = this.#pool.query(this.#sql.cleanup, [CLEANUP_BATCH]).then(
      (result) => {
        if ((result.rowCount ?? 0) > 0) this.#logger.debug({ store: 'idempotency', target: this.#target, deleted: result.rowCount }, 'idempotency store: deleted expired rows');
      },
      (error: unknown) => {
        const mapped = this.#mapError(error, 'idempotency_cleanup');
        this.#logger.warn({ store: 'idempotency', ...mapped.toLogFields() }, 'idempotency store: deleting expired rows failed; will try again later');
      },
    );
    this.#cleanup = cleanup.finally(() => {
      this.#cleanup = undefined;
    });
  }

  async #query<R extends pg.QueryResultRow>(operation: string, sql: string, params: unknown[]): Promise<R[]> {
    try {
      return (await this.#pool.query<R>(sql, params)).rows;
    } catch (error) {
      throw this.#mapError(error, operation);
    }
  }

  /**
   * The db handler's error map classifies transport failures; anything else it would
   * call a handler failure, which this store is not, so that becomes a RuntimeHostError.
   */
  #mapError(error: unknown, operation: string): OnexError {
    const mapped = mapDbError(error, { target: this.#target, operation });
    if (mapped instanceof InfraError || error instanceof OnexError) return mapped;
    return new RuntimeHostError(mapped.message, {
      operation,
      details: mapped.details,
      retryable: mapped.retryable,
      hint: `The idempotency table "${this.#table}" may be missing columns or privileges for this database user; see details.sqlstate. A table created by an earlier version gets the column request_digest on first use, which needs its owner: otherwise run ALTER TABLE ${this.#table} ADD COLUMN IF NOT EXISTS request_digest text as the owner.`,
      cause: error,
    });
  }

  #closedError(operation: string): ShuttingDownError {
    return new ShuttingDownError(`${operation} called after the idempotency store on ${this.#target} was closed`, {
      operation,
      hint: 'Stop consuming before closing the idempotency store.',
    });
  }
}

function createTableSql(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${table} (
  namespace text NOT NULL,
  envelope_id text NOT NULL,
  state text NOT NULL CHECK (state IN ('pending', 'completed')),
  owner text NOT NULL,
  lease_expires_at timestamptz,
  response text,
  interrupted_owner text,
  claimed_at timestamptz NOT NULL,
  completed_at timestamptz,
  expires_at timestamptz NOT NULL,
  request_digest text,
  PRIMARY KEY (namespace, envelope_id)
)`;
}

/**
 * The statements, with the (validated) table name in place. Parameters:
 * $1 namespace, $2 envelope id, $3 owner, then per statement as commented.
 */
function statements(table: string): { claim: string; complete: string; release: string; cleanup: string } {
  return {
    // $4 lease ms, $5 ttl ms, $6 request digest (NULL: none). A pending row is kept for a
    // TTL past its lease, so cleanup never deletes a claim that could still be taken over
    // and reported. A row of another digest (both known) is never taken over before it
    // expires: the fallback read reports it as a conflict.
    claim: `WITH claimed AS (
  INSERT INTO ${table} AS t (namespace, envelope_id, state, owner, lease_expires_at, claimed_at, expires_at, request_digest)
  VALUES ($1, $2, 'pending', $3, now() + $4::float8 * interval '1 millisecond', now(),
          now() + ($4::float8 + $5::float8) * interval '1 millisecond', $6::text)
  ON CONFLICT (namespace, envelope_id) DO UPDATE SET
    state = 'pending',
    interrupted_owner = CASE WHEN t.state = 'pending' AND t.owner <> excluded.owner THEN t.owner END,
    owner = excluded.owner,
    lease_expires_at = excluded.lease_expires_at,
    response = NULL,
    claimed_at = excluded.claimed_at,
    completed_at = NULL,
    expires_at = excluded.expires_at,
    request_digest = COALESCE(excluded.request_digest, t.request_digest)
  WHERE (t.state = 'pending' AND (t.owner = excluded.owner OR t.lease_expires_at <= now())
         AND (t.request_digest IS NULL OR excluded.request_digest IS NULL OR t.request_digest = excluded.request_digest))
     OR t.expires_at <= now()
  RETURNING t.interrupted_owner
)
SELECT 'claimed'::text AS status, interrupted_owner AS owner, NULL::text AS response,
       NULL::float8 AS lease_expires_at_ms, true AS live, false AS conflict
FROM claimed
UNION ALL
SELECT t.state, t.owner, t.response, extract(epoch FROM t.lease_expires_at)::float8 * 1000,
       CASE WHEN t.state = 'pending' THEN t.lease_expires_at > now() ELSE t.expires_at > now() END,
       t.expires_at > now() AND t.request_digest IS NOT NULL AND $6::text IS NOT NULL AND t.request_digest <> $6::text
FROM ${table} t
WHERE t.namespace = $1 AND t.envelope_id = $2 AND NOT EXISTS (SELECT 1 FROM claimed)`,
    // $4 response, $5 ttl ms. Without a row (deleted by hand, or never claimed) the
    // response is stored anyway: it is the true result and prevents another execution.
    complete: `INSERT INTO ${table} AS t (namespace, envelope_id, state, owner, response, claimed_at, completed_at, expires_at)
VALUES ($1, $2, 'completed', $3, $4, now(), now(), now() + $5::float8 * interval '1 millisecond')
ON CONFLICT (namespace, envelope_id) DO UPDATE SET
  state = 'completed',
  owner = excluded.owner,
  response = excluded.response,
  lease_expires_at = NULL,
  completed_at = excluded.completed_at,
  expires_at = excluded.expires_at
WHERE (t.state = 'pending' AND t.owner = excluded.owner)
   OR (t.state = 'completed' AND t.expires_at <= now())`,
    release: `DELETE FROM ${table} WHERE namespace = $1 AND envelope_id = $2 AND state = 'pending' AND owner = $3`,
    // $1 batch size. Every namespace's expired rows: an expired row counts as absent for
    // everyone, and SKIP LOCKED keeps hosts cleaning at once out of each other's way.
    cleanup: `DELETE FROM ${table} WHERE (namespace, envelope_id) IN (
  SELECT namespace, envelope_id FROM ${table} WHERE expires_at < now() LIMIT $1 FOR UPDATE SKIP LOCKED)`,
  };
}

/** Creates the shared PostgreSQL idempotency store; the table is created on first use. */
export function createPostgresIdempotencyStore(options: PostgresIdempotencyStoreOptions): PostgresIdempotencyStore {
  return new PostgresIdempotencyStore(options);
}
