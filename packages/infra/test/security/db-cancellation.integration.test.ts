/**
 * Attack: a statement that would hold a backend long after its caller gave up. An aborted
 * call signal cancels the statement on the server (and never sends one whose signal is
 * already aborted).
 */
import { randomUUID } from 'node:crypto';
import { InfraTimeoutError, InfraUnavailableError } from '@onex/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DbHandler, DbQueryResponse } from '../../src/handlers/db/index.js';
import { pgServerAvailable } from '../helpers/require-server.js';
import { rejection } from '../handlers/db/db-test-kit.js';
import { eventually, handlerFor, ROLES, runningQueries, sendAs } from './db-security-kit.js';

const available = await pgServerAvailable();

describe.skipIf(!available).each(ROLES)('db attacks as $name: cancellation', (role) => {
  let handler: DbHandler;
  const runId = randomUUID().slice(0, 8);
  const appName = `onex-cancel-${role.name}-${runId}`;
  const table = `onex_cancel_${role.name}_${runId}`;

  beforeAll(async () => {
    handler = await handlerFor(role, { poolSize: 1, applicationName: appName });
    await sendAs(handler, 'db.execute', { sql: `create table ${table} (a int)` });
  });
  afterAll(async () => {
    await sendAs(handler, 'db.execute', { sql: `drop table if exists ${table}` });
    await handler.shutdown();
  });

  for (const access of ['read_write', 'read_only'] as const) {
    it(`an abort while pg_sleep(30) runs (${access}) cancels it on the server`, async () => {
      const controller = new AbortController();
      const marker = `/* ${access}-${runId} */`;
      const pending = rejection(sendAs(handler, 'db.query', { sql: `select pg_sleep(30) ${marker}` }, { access, signal: controller.signal }));
      await eventually('pg_sleep is running', async () => (await runningQueries(appName, marker)) === 1);
      controller.abort();
      const error = await pending;
      expect(error).toBeInstanceOf(InfraTimeoutError);
      expect(error.message).toContain('cancelled');
      await eventually('pg_sleep is gone from pg_stat_activity', async () => (await runningQueries(appName, marker)) === 0);
    });
  }

  it("rejects with the signal's reason when it is a typed error", async () => {
    const controller = new AbortController();
    const marker = `/* reason-${runId} */`;
    const pending = rejection(sendAs(handler, 'db.query', { sql: `select pg_sleep(30) ${marker}` }, { signal: controller.signal }));
    await eventually('pg_sleep is running', async () => (await runningQueries(appName, marker)) === 1);
    const reason = new InfraUnavailableError('host is stopping', { transportType: 'db' });
    controller.abort(reason);
    const error = await pending;
    expect(error).toBeInstanceOf(InfraUnavailableError);
    expect(error.message).toBe('host is stopping');
    await eventually('pg_sleep is gone', async () => (await runningQueries(appName, marker)) === 0);
  });

  it('an already aborted signal sends nothing, alone or as a transaction', async () => {
    const signal = AbortSignal.abort();
    await rejection(sendAs(handler, 'db.execute', { sql: `insert into ${table} values (1)` }, { signal }));
    await rejection(sendAs(handler, 'db.transaction', { statements: [{ sql: `insert into ${table} values (2)` }] }, { signal }));
    const rows = (await sendAs(handler, 'db.query', { sql: `select count(*)::int as n from ${table}` })) as DbQueryResponse;
    expect(rows.rows).toEqual([{ n: 0 }]);
  });

  it('an abort inside db.transaction cancels the running statement and rolls everything back', async () => {
    const controller = new AbortController();
    const marker = `/* tx-${runId} */`;
    const pending = rejection(
      sendAs(
        handler,
        'db.transaction',
        { statements: [{ sql: `insert into ${table} values (3)` }, { sql: `select pg_sleep(30) ${marker}` }] },
        { signal: controller.signal },
      ),
    );
    await eventually('pg_sleep is running', async () => (await runningQueries(appName, marker)) === 1);
    controller.abort();
    expect(await pending).toBeInstanceOf(InfraTimeoutError);
    await eventually('pg_sleep is gone', async () => (await runningQueries(appName, marker)) === 0);
    const rows = (await sendAs(handler, 'db.query', { sql: `select count(*)::int as n from ${table}` })) as DbQueryResponse;
    expect(rows.rows).toEqual([{ n: 0 }]);
  });
});
