/**
 * PostgresIdempotencyStore's request digests against a real PostgreSQL server (PG_URL,
 * default postgres://postgres@127.0.0.1:5432/onex_test): an envelope id claimed for one
 * request is refused to another with `conflict`, and a table created by the previous
 * version (no `request_digest` column) keeps working. Skips loudly without a server;
 * fails under CI=true. Each run uses its own namespace and tables and removes them.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresIdempotencyStore, type PostgresIdempotencyStoreOptions } from '../../src/idempotency/postgres-idempotency-store.js';
import { adminQuery, PG_URL, pgServerAvailable } from '../helpers/require-server.js';

const available = await pgServerAvailable();
const runId = randomUUID().slice(0, 8);
const namespace = `it-digest-${runId}`;
/** This run's own table, so the suite never depends on what earlier runs left. */
const table = `onex_idem_dg_${runId}`;
/** A table with the previous version's columns, for the upgrade test. */
const legacyTable = `onex_idem_lg_${runId}`;
const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!available)('PostgresIdempotencyStore digests against PostgreSQL', () => {
  const stores: PostgresIdempotencyStore[] = [];
  const open = (options: Partial<PostgresIdempotencyStoreOptions> = {}): PostgresIdempotencyStore => {
    const store = new PostgresIdempotencyStore({ url: PG_URL, namespace, table, ...options });
    stores.push(store);
    return store;
  };
  const id = () => `env-${randomUUID()}`;

  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()));
    await adminQuery(`DROP TABLE IF EXISTS ${table}`);
    await adminQuery(`DROP TABLE IF EXISTS ${legacyTable}`);
  });

  it('replays a completed response to the same digest, refuses another, and keeps the response', async () => {
    const [hostA, hostB] = [open(), open()];
    const key = id();
    expect(await hostA.claim(key, 'host-a', 10_000, A)).toEqual({ status: 'claimed' });
    await hostA.complete(key, 'host-a', '{"first":true}');
    expect(await hostB.claim(key, 'host-b', 10_000, B)).toEqual({ status: 'conflict' });
    expect(await hostA.claim(key, 'host-a', 10_000, B)).toEqual({ status: 'conflict' });
    expect(await hostB.claim(key, 'host-b', 10_000, A)).toEqual({ status: 'completed', response: '{"first":true}' });
    const [row] = await adminQuery<{ state: string; owner: string; request_digest: string }>(`SELECT state, owner, request_digest FROM ${table} WHERE namespace = $1 AND envelope_id = $2`, [namespace, key]);
    expect(row).toEqual({ state: 'completed', owner: 'host-a', request_digest: A });
  });

  it('refuses another digest while the id is pending, for its owner and for others', async () => {
    const store = open();
    const key = id();
    expect(await store.claim(key, 'host-a', 10_000, A)).toEqual({ status: 'claimed' });
    expect(await store.claim(key, 'host-a', 10_000, B)).toEqual({ status: 'conflict' });
    expect(await store.claim(key, 'host-b', 10_000, B)).toEqual({ status: 'conflict' });
    expect(await store.claim(key, 'host-b', 10_000, A)).toMatchObject({ status: 'in_progress', owner: 'host-a' });
    await store.complete(key, 'host-a', '{"a":1}');
    expect(await store.claim(key, 'host-b', 10_000, A)).toEqual({ status: 'completed', response: '{"a":1}' });
  });

  it('does not hand an interrupted claim to another request; the same request takes it over', async () => {
    const store = open();
    const key = id();
    await store.claim(key, 'host-dead', 50, A);
    await sleep(120);
    expect(await store.claim(key, 'host-b', 10_000, B)).toEqual({ status: 'conflict' });
    expect(await store.claim(key, 'host-b', 10_000, A)).toEqual({ status: 'claimed', interruptedOwner: 'host-dead' });
  });

  it('frees the id for any request once the record expires', async () => {
    const store = open({ ttlMs: 50 });
    const key = id();
    await store.claim(key, 'host-a', 10_000, A);
    await store.complete(key, 'host-a', '{}');
    await sleep(120);
    expect(await store.claim(key, 'host-b', 10_000, B)).toEqual({ status: 'claimed' });
  });

  it('adds the digest column to a table of the previous version, whose rows still replay to any digest', async () => {
    // The previous version's DDL, with one completed row it wrote.
    await adminQuery(`CREATE TABLE ${legacyTable} (
      namespace text NOT NULL, envelope_id text NOT NULL,
      state text NOT NULL CHECK (state IN ('pending', 'completed')), owner text NOT NULL,
      lease_expires_at timestamptz, response text, interrupted_owner text,
      claimed_at timestamptz NOT NULL, completed_at timestamptz, expires_at timestamptz NOT NULL,
      PRIMARY KEY (namespace, envelope_id))`);
    await adminQuery(`CREATE INDEX ${legacyTable}_expires_at_idx ON ${legacyTable} (expires_at)`);
    await adminQuery(
      `INSERT INTO ${legacyTable} (namespace, envelope_id, state, owner, response, claimed_at, completed_at, expires_at)
       VALUES ($1, 'old-env', 'completed', 'old-host', '{"old":true}', now(), now(), now() + interval '1 hour')`,
      [namespace],
    );

    const store = open({ table: legacyTable });
    expect(await store.claim('old-env', 'new-host', 10_000, B)).toEqual({ status: 'completed', response: '{"old":true}' });
    const columns = await adminQuery<{ column_name: string; is_nullable: string }>(
      `SELECT column_name, is_nullable FROM information_schema.columns WHERE table_name = $1 AND column_name = 'request_digest'`,
      [legacyTable],
    );
    expect(columns).toEqual([{ column_name: 'request_digest', is_nullable: 'YES' }]);

    // New claims on the upgraded table are checked.
    const key = id();
    expect(await store.claim(key, 'new-host', 10_000, A)).toEqual({ status: 'claimed' });
    await store.complete(key, 'new-host', '{"new":true}');
    expect(await open({ table: legacyTable }).claim(key, 'other-host', 10_000, B)).toEqual({ status: 'conflict' });
  });
});
