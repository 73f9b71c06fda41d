/**
 * Attack: poison the pooled connection for the next envelope (SET statement_timeout,
 * SET search_path, advisory locks, LISTEN, prepared statements). With a pool of one
 * connection every envelope shares the session, so a leak would show in the next one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DbHandler, DbQueryResponse, DbTransactionResponse } from '../../src/handlers/db/index.js';
import { pgServerAvailable } from '../helpers/require-server.js';
import { rejection } from '../handlers/db/db-test-kit.js';
import { handlerFor, ROLES, sendAs } from './db-security-kit.js';

const available = await pgServerAvailable();

describe.skipIf(!available).each(ROLES)('db attacks as $name: session state', (role) => {
  let handler: DbHandler;
  let defaults: Record<string, unknown>;
  const session = async () =>
    ((await sendAs(handler, 'db.query', {
      sql: "select pg_backend_pid() as pid, current_setting('statement_timeout') as statement_timeout, current_setting('search_path') as search_path",
    })) as DbQueryResponse).rows[0];

  beforeAll(async () => {
    handler = await handlerFor(role, { poolSize: 1 });
    defaults = (await session()) ?? {};
  });
  afterAll(() => handler.shutdown());

  it.each([
    'SET statement_timeout = 1',
    "set session statement_timeout to '1ms'",
    'SET search_path = evil',
    'set search_path to evil, public',
    "select set_config('search_path', 'evil', false)",
    'reset all',
    'set role none',
    'select pg_advisory_lock(42)',
    'listen onex_channel',
    'prepare onex_p as select 1',
    'declare onex_c cursor with hold for select 1',
    'discard all',
    'create temp table onex_tmp (a int)',
  ])('refuses %s; the next envelope on the same connection sees the defaults', async (sql) => {
    const error = await rejection(sendAs(handler, 'db.execute', { sql }));
    expect(error.code).toBe('ENVELOPE_VALIDATION_ERROR');
    expect(error.details).toMatchObject({ statement_class: 'session' });
    expect(await session()).toEqual(defaults);
  });

  it('SET LOCAL inside db.transaction takes effect there and does not survive it', async () => {
    const answer = (await sendAs(handler, 'db.transaction', {
      statements: [{ sql: "set local statement_timeout = '1234ms'" }, { sql: 'show statement_timeout' }],
    })) as DbTransactionResponse;
    expect(answer.results[1]?.rows).toEqual([{ statement_timeout: '1234ms' }]);
    expect(await session()).toEqual(defaults);
  });

  it('SET LOCAL outside a transaction is refused and points to db.transaction', async () => {
    const error = await rejection(sendAs(handler, 'db.execute', { sql: "set local search_path = evil" }));
    expect(error.hint).toContain('db.transaction');
    expect(await session()).toEqual(defaults);
  });

  it('the transaction-scoped advisory lock is allowed and released with the transaction', async () => {
    await sendAs(handler, 'db.transaction', { statements: [{ sql: 'select pg_advisory_xact_lock(4242)' }] });
    const locks = (await sendAs(handler, 'db.query', {
      sql: "select count(*)::int as n from pg_locks where locktype = 'advisory' and pid = pg_backend_pid()",
    })) as DbQueryResponse;
    expect(locks.rows).toEqual([{ n: 0 }]);
  });
});
