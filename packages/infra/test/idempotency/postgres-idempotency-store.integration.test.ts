/**
 * PostgresIdempotencyStore against a real PostgreSQL server (PG_URL, default
 * postgres://postgres@127.0.0.1:5432/onex_test). Skips loudly without a server; fails
 * under CI=true. Each run uses its own namespace (and its own table where the test is
 * about creating it) and removes what it wrote.
 */
import { randomUUID } from 'node:crypto';
import { HandlerConfigurationError, InfraConnectionError, OnexError } from '@onex/core';
import type { IdempotencyClaim } from '@onex/spi';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_IDEMPOTENCY_TABLE,
  PostgresIdempotencyStore,
  type PostgresIdempotencyStoreOptions,
} from '../../src/idempotency/postgres-idempotency-store.js';
import { adminQuery, PG_APP_URL, PG_URL, pgServerAvailable } from '../helpers/require-server.js';

const available = await pgServerAvailable();
const runId = randomUUID().slice(0, 8);
const namespace = `it-${runId}`;
/** A table no earlier run created, for the create-on-first-use test. */
const freshTable = `onex_idem_it_${runId}`;
/** A table another role owns in `public`, which the least-privileged role must not take for its own. */
const shadowedTable = `onex_idem_sh_${runId}`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Calls `attempt` every 25 ms until it returns something `done` accepts (at most 10 s). */
async function pollUntil<T>(attempt: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await attempt();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not reached; last value: ${JSON.stringify(value)}`);
    await sleep(25);
  }
}

/** The typed error `promise` rejects with; fails the test if it resolves or rejects untyped. */
async function rejection(promise: Promise<unknown>): Promise<OnexError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof OnexError) return error;
    throw new Error(`expected an OnexError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected the promise to reject');
}

describe.skipIf(!available)('PostgresIdempotencyStore against PostgreSQL', () => {
  const stores: PostgresIdempotencyStore[] = [];
  /** A store in this run's namespace (unless overridden), closed after the suite. */
  const open = (options: Partial<PostgresIdempotencyStoreOptions> = {}): PostgresIdempotencyStore => {
    const store = new PostgresIdempotencyStore({ url: PG_URL, namespace, ...options });
    stores.push(store);
    return store;
  };
  const id = () => `env-${randomUUID()}`;

  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()));
    await adminQuery(`DELETE FROM ${DEFAULT_IDEMPOTENCY_TABLE} WHERE namespace LIKE $1`, [`${namespace}%`]);
    await adminQuery(`DROP TABLE IF EXISTS ${freshTable}`);
    await adminQuery(`DROP TABLE IF EXISTS public.${shadowedTable}`);
    await adminQuery(`DROP TABLE IF EXISTS onex_app.${shadowedTable}`);
  });

  it('creates its table on first use, also when several hosts start at the same time', async () => {
    const hosts = Array.from({ length: 6 }, () => open({ table: freshTable }));
    const claims = await Promise.all(hosts.map((store, n) => store.claim(`first-${n}`, `host-${n}`, 10_000)));
    expect(claims).toEqual(hosts.map(() => ({ status: 'claimed' })));
    const [catalog] = await adminQuery<{ has_table: boolean; has_index: boolean }>(
      'SELECT to_regclass($1) IS NOT NULL AS has_table, to_regclass($2) IS NOT NULL AS has_index',
      [freshTable, `${freshTable}_expires_at_idx`],
    );
    expect(catalog).toEqual({ has_table: true, has_index: true });
  });

  it('creates its own table in its role\'s schema when another role\'s table of that name sits in public', async () => {
    // As on a database where a superuser ran the store before: onex_app (search_path
    // onex_app, public) sees public's table, but may not use it.
    await adminQuery(`CREATE TABLE public.${shadowedTable} (namespace text, envelope_id text, expires_at timestamptz)`);
    await adminQuery(`CREATE INDEX ${shadowedTable}_expires_at_idx ON public.${shadowedTable} (expires_at)`);
    const store = open({ url: PG_APP_URL, table: shadowedTable });
    expect(await store.claim(id(), 'host-a', 10_000)).toEqual({ status: 'claimed' });
    const tables = await adminQuery<{ schema: string; owner: string }>(
      'SELECT schemaname AS schema, tableowner AS owner FROM pg_tables WHERE tablename = $1 ORDER BY schemaname',
      [shadowedTable],
    );
    expect(tables).toEqual([{ schema: 'onex_app', owner: 'onex_app' }, { schema: 'public', owner: 'postgres' }]);
  });

  it('gives exactly one of 20 concurrent claims of one id to its owner', async () => {
    const envelopeId = id();
    // Four hosts with five connections each, so the claims really race in the database.
    const hosts = Array.from({ length: 4 }, () => open({ poolSize: 5 }));
    await Promise.all(hosts.map((store) => store.claim(id(), 'warm-up', 10_000)));
    const owners = Array.from({ length: 20 }, (_, n) => `host-${n}`);
    const claims = await Promise.all(owners.map((owner, n) => (hosts[n % hosts.length] as PostgresIdempotencyStore).claim(envelopeId, owner, 30_000)));

    const winners = owners.filter((_, n) => claims[n]?.status === 'claimed');
    expect(winners).toHaveLength(1);
    const others = claims.filter((claim) => claim.status !== 'claimed');
    expect(others).toHaveLength(19);
    for (const claim of others) expect(claim).toMatchObject({ status: 'in_progress', owner: winners[0] });
  });

  it('replays the completed response to a restarted host', async () => {
    const envelopeId = id();
    const before = open();
    expect(await before.claim(envelopeId, 'host-a', 10_000)).toEqual({ status: 'claimed' });
    await before.complete(envelopeId, 'host-a', '{"ok":true,"n":1}');
    await before.close();

    const restarted = open();
    expect(await restarted.claim(envelopeId, 'host-a-restarted', 10_000)).toEqual({ status: 'completed', response: '{"ok":true,"n":1}' });
  });

  it('keeps namespaces apart', async () => {
    const envelopeId = id();
    const orders = open({ namespace: `${namespace}-orders` });
    const billing = open({ namespace: `${namespace}-billing` });
    await orders.claim(envelopeId, 'host-a', 10_000);
    await orders.complete(envelopeId, 'host-a', '"orders"');
    expect(await billing.claim(envelopeId, 'host-b', 10_000)).toEqual({ status: 'claimed' });
  });

  it('gives the same owner its pending claim again, and others in_progress on the database clock', async () => {
    const envelopeId = id();
    const store = open();
    expect(await store.claim(envelopeId, 'host-a', 60_000)).toEqual({ status: 'claimed' });
    expect(await store.claim(envelopeId, 'host-a', 60_000)).toEqual({ status: 'claimed' });
    const [db] = await adminQuery<{ now_ms: number }>('SELECT extract(epoch FROM now())::float8 * 1000 AS now_ms');
    const claim = await store.claim(envelopeId, 'host-b', 60_000);
    expect(claim).toMatchObject({ status: 'in_progress', owner: 'host-a' });
    const leaseExpiresAtMs = (claim as Extract<IdempotencyClaim, { status: 'in_progress' }>).leaseExpiresAtMs;
    expect(Number.isInteger(leaseExpiresAtMs)).toBe(true);
    // Renewed by the second claim, a minute from then by the database's clock.
    expect(leaseExpiresAtMs).toBeGreaterThan((db?.now_ms ?? 0) + 50_000);
  });

  it('hands an expired lease to the next owner and names the interrupted one', async () => {
    const envelopeId = id();
    const crashed = open();
    const next = open();
    expect(await crashed.claim(envelopeId, 'host-crashed', 200)).toEqual({ status: 'claimed' });
    expect(await next.claim(envelopeId, 'host-next', 10_000)).toMatchObject({ status: 'in_progress', owner: 'host-crashed' });

    const takeover = await pollUntil(() => next.claim(envelopeId, 'host-next', 10_000), (claim) => claim.status !== 'in_progress');
    expect(takeover).toEqual({ status: 'claimed', interruptedOwner: 'host-crashed' });

    // The interrupted owner finishing late does not overwrite the new owner's result.
    await crashed.complete(envelopeId, 'host-crashed', '"late"');
    expect(await open().claim(envelopeId, 'host-third', 10_000)).toMatchObject({ status: 'in_progress', owner: 'host-next' });
    await next.complete(envelopeId, 'host-next', '"next"');
    await next.complete(envelopeId, 'host-next', '"again"');
    expect(await crashed.claim(envelopeId, 'host-third', 10_000)).toEqual({ status: 'completed', response: '"next"' });
  });

  it('forgets a completed response after its TTL', async () => {
    const envelopeId = id();
    const store = open({ ttlMs: 300 });
    await store.claim(envelopeId, 'host-a', 10_000);
    await store.complete(envelopeId, 'host-a', '"r"');
    expect(await store.claim(envelopeId, 'host-b', 10_000)).toEqual({ status: 'completed', response: '"r"' });
    const after = await pollUntil(() => store.claim(envelopeId, 'host-b', 10_000), (claim) => claim.status !== 'completed');
    expect(after).toEqual({ status: 'claimed' });
  });

  it('release lets the next delivery execute at once; only the owner can release', async () => {
    const envelopeId = id();
    const store = open();
    await store.claim(envelopeId, 'host-a', 60_000);
    await store.release(envelopeId, 'host-b');
    expect(await store.claim(envelopeId, 'host-b', 60_000)).toMatchObject({ status: 'in_progress', owner: 'host-a' });
    await store.release(envelopeId, 'host-a');
    expect(await store.claim(envelopeId, 'host-b', 60_000)).toEqual({ status: 'claimed' });
  });

  it('deletes expired rows opportunistically', async () => {
    const expired = id();
    const store = open({ ttlMs: 100, cleanupIntervalMs: 0 });
    await store.claim(expired, 'host-a', 10_000);
    await store.complete(expired, 'host-a', '"gone soon"');
    const countRows = async () =>
      (await adminQuery<{ n: number }>(`SELECT count(*)::int AS n FROM ${DEFAULT_IDEMPOTENCY_TABLE} WHERE namespace = $1 AND envelope_id = $2`, [namespace, expired]))[0]?.n;
    expect(await countRows()).toBe(1);
    // Operations on other ids do the cleaning.
    await pollUntil(async () => {
      await store.claim(id(), 'host-a', 10_000);
      return countRows();
    }, (n) => n === 0);
  });

  it('works on a shared pool and leaves it open on close', async () => {
    const pool = new pg.Pool({ connectionString: PG_URL, max: 2 });
    try {
      const store = new PostgresIdempotencyStore({ pool, namespace });
      expect(store.describe()).toMatchObject({ kind: 'postgres', shared_pool: true, namespace });
      const envelopeId = id();
      expect(await store.claim(envelopeId, 'host-a', 10_000)).toEqual({ status: 'claimed' });
      await store.close();
      expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await pool.end();
    }
  });

  it('refuses work after close with a SHUTTING_DOWN error', async () => {
    const store = open();
    await store.close();
    await store.close();
    const error = await rejection(store.claim(id(), 'host-a', 10_000));
    expect(error.code).toBe('SHUTTING_DOWN');
  });
});

describe('PostgresIdempotencyStore without a reachable server', () => {
  const password = 's3cret';
  const url = `postgres://user:${password}@127.0.0.1:1/db`;

  function expectNoSecrets(texts: readonly string[]): void {
    for (const text of texts) {
      expect(text).not.toContain(password);
      expect(text).not.toContain(url);
      expect(text).not.toContain('postgres://');
    }
  }

  it('fails with a retryable INFRA_CONNECTION_ERROR that carries no credentials', async () => {
    const store = new PostgresIdempotencyStore({ url, namespace: 'unreachable', connectionTimeoutMs: 2_000 });
    try {
      const error = await rejection(store.claim('env-1', 'host-a', 1_000));
      expect(error).toBeInstanceOf(InfraConnectionError);
      expect(error.retryable).toBe(true);
      expect(error.details).toMatchObject({ transport_type: 'db', target: '127.0.0.1:1/db', error_code: 'ECONNREFUSED' });
      expectNoSecrets([error.message, JSON.stringify(error), JSON.stringify(error.toEnvelopeError()), JSON.stringify(error.toLogFields())]);
      expectNoSecrets([JSON.stringify(store.describe())]);
      // The next call tries again instead of replaying a cached failure.
      expect(await rejection(store.complete('env-1', 'host-a', '"r"'))).toBeInstanceOf(InfraConnectionError);
    } finally {
      await store.close();
    }
  });

  it('rejects a malformed url without echoing it', () => {
    const bad = `postgres://user:${password}@[not a host/db`;
    let thrown: unknown;
    try {
      new PostgresIdempotencyStore({ url: bad, namespace: 'x' });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(HandlerConfigurationError);
    const error = thrown as HandlerConfigurationError;
    for (const text of [error.message, JSON.stringify(error.toEnvelopeError())]) {
      expect(text).not.toContain(password);
      expect(text).not.toContain('[not a host');
    }
  });

  it('rejects a missing namespace, an unsafe table name and a missing url or pool', () => {
    expect(() => new PostgresIdempotencyStore({ url, namespace: '' })).toThrow(HandlerConfigurationError);
    expect(() => new PostgresIdempotencyStore({ url, namespace: 'x', table: 'x; DROP TABLE y' })).toThrow(/plain lower-case identifier/);
    expect(() => new PostgresIdempotencyStore({ namespace: 'x' })).toThrow(/exactly one of url and pool/);
    expect(() => new PostgresIdempotencyStore({ url, namespace: 'x', statementTimeoutMs: 0 })).toThrow(HandlerConfigurationError);
  });
});
