/**
 * DbHandler against a real PostgreSQL server (PG_URL, default
 * postgres://postgres@127.0.0.1:5432/onex_test). Skips loudly without a server; fails under CI=true.
 */
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { InfraConnectionError, InfraTimeoutError, InvalidOperationError, type OnexError } from '@onex/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDbHandler,
  DbHandler,
  type DbExecuteResponse,
  type DbQueryResponse,
  type DbTransactionResponse,
} from '../../../src/handlers/db/index.js';
import { adminQuery, PG_URL, pgServerAvailable } from '../../helpers/require-server.js';
import { rejection, send } from './db-test-kit.js';

const available = await pgServerAvailable();
const runId = randomUUID().slice(0, 8);
const table = `onex_db_it_${runId}`;
const appName = `onex-db-it-${runId}`;

/** Polls pg_stat_activity until `predicate` holds for the connections named `applicationName`. */
async function waitForBackends(applicationName: string, predicate: (states: string[]) => boolean): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const rows = await adminQuery<{ state: string; query: string }>(
      'select state, query from pg_stat_activity where application_name = $1',
      [applicationName],
    );
    if (predicate(rows.map((r) => `${r.state}:${r.query}`))) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`pg_stat_activity never reached the expected state for ${applicationName}`);
}

function terminate(applicationName: string): Promise<unknown[]> {
  return adminQuery(
    'select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1 and pid <> pg_backend_pid()',
    [applicationName],
  );
}

/**
 * A TCP relay to the PG_URL server that can stop passing the server's answers on, like
 * a server that hangs or a network that silently drops packets.
 */
async function stallingRelay(): Promise<{ url: string; stall(on: boolean): void; close(): Promise<void> }> {
  const upstream = new URL(PG_URL);
  let stalled = false;
  const sockets = new Set<net.Socket>();
  const relay = net.createServer((client) => {
    const server = net.connect(Number(upstream.port || 5432), upstream.hostname);
    for (const socket of [client, server]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        server.destroy();
      });
    }
    client.on('data', (chunk) => server.write(chunk));
    server.on('data', (chunk) => {
      if (!stalled) client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  const relayed = new URL(PG_URL);
  relayed.hostname = '127.0.0.1';
  relayed.port = String((relay.address() as net.AddressInfo).port);
  return {
    url: relayed.href,
    stall: (on) => {
      stalled = on;
    },
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => relay.close(() => resolve()));
    },
  };
}

describe.skipIf(!available)('DbHandler against PostgreSQL', () => {
  let handler: DbHandler;

  beforeAll(async () => {
    handler = await createDbHandler({ url: PG_URL, applicationName: appName, poolSize: 4 });
    await send(handler, 'db.execute', {
      sql: `create table ${table} (id int primary key, name text not null, tags jsonb, big int8, created timestamptz, raw bytea)`,
    });
  });

  afterAll(async () => {
    if (!available) return;
    await handler?.shutdown();
    await adminQuery(`drop table if exists ${table}`);
  });

  it('reports healthy with pool statistics', async () => {
    expect(await handler.healthCheck()).toMatchObject({ healthy: true, handler_type: 'db', backend: 'pg', target: '127.0.0.1:5432/onex_test' });
    expect(handler.describe().supportedOperations).toContain('db.transaction');
  });

  it('inserts with parameters, queries rows and fields, and counts updated rows', async () => {
    const inserted = (await send(handler, 'db.execute', {
      sql: `insert into ${table} (id, name, tags, big, created, raw) values ($1, $2, $3, $4, $5, $6), (2, $2, null, null, null, null)`,
      parameters: [1, "it's $1; drop", { color: 'red' }, '9007199254740993', '2024-01-02T03:04:05.000Z', '\\x0102'],
    })) as DbExecuteResponse;
    expect(inserted).toEqual({ row_count: 2 });

    const result = (await send(handler, 'db.query', { sql: `select * from ${table} where id = $1`, parameters: [1] })) as DbQueryResponse;
    expect(result.row_count).toBe(1);
    expect(result.rows).toEqual([
      { id: 1, name: "it's $1; drop", tags: { color: 'red' }, big: '9007199254740993', created: '2024-01-02T03:04:05.000Z', raw: '\\x0102' },
    ]);
    expect(result.fields[0]).toEqual({ name: 'id', data_type_id: 23 });

    const updated = await send(handler, 'db.execute', { sql: `update ${table} set name = $1 where id >= $2`, parameters: ['renamed', 1] });
    expect(updated).toEqual({ row_count: 2 });
  });

  it('commits a transaction, and rolls back all of it when one statement fails', async () => {
    const committed = (await send(handler, 'db.transaction', {
      statements: [
        { sql: `insert into ${table} (id, name) values ($1, $2)`, parameters: [10, 'ten'] },
        { sql: `select name from ${table} where id = $1`, parameters: [10] },
      ],
    })) as DbTransactionResponse;
    expect(committed).toEqual({ results: [{ row_count: 1, rows: [] }, { row_count: 1, rows: [{ name: 'ten' }] }], row_count: 2 });

    const error = await rejection(
      send(handler, 'db.transaction', {
        statements: [
          { sql: `insert into ${table} (id, name) values ($1, $2)`, parameters: [20, 'twenty'] },
          { sql: `insert into ${table} (id, name) values ($1, $2)`, parameters: [10, 'duplicate'] },
        ],
      }),
    );
    expect(error.details).toMatchObject({ sqlstate: '23505', constraint: `${table}_pkey`, statement_index: 1 });
    const rows = await adminQuery(`select id from ${table} where id = 20`);
    expect(rows).toEqual([]);
  });

  it('serves more concurrent envelopes than the pool has connections', async () => {
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => send(handler, 'db.query', { sql: 'select pg_sleep(0.02), $1::int as i', parameters: [i] })),
    );
    expect(results.map((r) => (r as DbQueryResponse).rows[0]?.i)).toEqual(Array.from({ length: 12 }, (_, i) => i));
  });

  it('rejects mismatched parameters, several statements and unknown operations before the server', async () => {
    const mismatch = await rejection(send(handler, 'db.execute', { sql: `delete from ${table} where id = $1 or id = $2`, parameters: [1] }));
    expect(mismatch.code).toBe('ENVELOPE_VALIDATION_ERROR');
    expect(mismatch.details).toMatchObject({ placeholders: 2, parameters: 1 });
    const multiple = await rejection(send(handler, 'db.execute', { sql: `select 1; drop table ${table}` }));
    expect(multiple.code).toBe('ENVELOPE_VALIDATION_ERROR');
    const unknown = await rejection(send(handler, 'db.drop', {}));
    expect(unknown).toBeInstanceOf(InvalidOperationError);
    expect(await adminQuery(`select count(*)::int as n from ${table}`)).toEqual([{ n: 3 }]);
  });

  it('maps a syntax error and a unique violation to HANDLER_EXECUTION_ERROR with the SQLSTATE', async () => {
    const syntax = await rejection(send(handler, 'db.query', { sql: 'selec 1' }));
    expect(syntax.code).toBe('HANDLER_EXECUTION_ERROR');
    expect(syntax.retryable).toBe(false);
    expect(syntax.details).toMatchObject({ sqlstate: '42601', position: 1, target: '127.0.0.1:5432/onex_test' });

    const unique = await rejection(send(handler, 'db.execute', { sql: `insert into ${table} (id, name) values ($1, $2)`, parameters: [1, 'again'] }));
    expect(unique.code).toBe('HANDLER_EXECUTION_ERROR');
    expect(unique.details).toMatchObject({ sqlstate: '23505', constraint: `${table}_pkey`, table });
    // The row values of the conflicting key (pg's `detail`) never reach the envelope.
    expect(JSON.stringify(unique.toEnvelopeError())).not.toContain('(id)=(1)');
  });

  it('maps statement_timeout to a retryable INFRA_TIMEOUT, and the connection stays usable', async () => {
    const quick = await createDbHandler({ url: PG_URL, applicationName: `${appName}-t`, poolSize: 1, timeoutMs: 200 });
    try {
      const error = await rejection(send(quick, 'db.query', { sql: 'select pg_sleep(5)' }));
      expect(error).toBeInstanceOf(InfraTimeoutError);
      expect(error.code).toBe('INFRA_TIMEOUT');
      expect(error.retryable).toBe(true);
      expect(error.details).toMatchObject({ sqlstate: '57014', transport_type: 'db' });
      expect(await send(quick, 'db.query', { sql: 'select 1 as ok' })).toMatchObject({ rows: [{ ok: 1 }] });
    } finally {
      await quick.shutdown();
    }
  });

  it('survives a backend terminated mid-query: that envelope fails retryable, the next one succeeds', async () => {
    const victimApp = `${appName}-kill`;
    const victim = await createDbHandler({ url: PG_URL, applicationName: victimApp });
    try {
      const sleeping = rejection(send(victim, 'db.query', { sql: 'select pg_sleep(5)' }));
      await waitForBackends(victimApp, (states) => states.some((s) => s.startsWith('active:') && s.includes('pg_sleep')));
      await terminate(victimApp);

      const error: OnexError = await sleeping;
      expect(['INFRA_CONNECTION_ERROR', 'INFRA_UNAVAILABLE']).toContain(error.code);
      expect(error.retryable).toBe(true);
      expect(error.details).toMatchObject({ sqlstate: '57P01', transport_type: 'db' });

      expect(await send(victim, 'db.query', { sql: 'select 1 as ok' })).toMatchObject({ rows: [{ ok: 1 }] });
    } finally {
      await victim.shutdown();
    }
  });

  it('gives up on a server that stops answering (timeoutMs + 5 s): retryable INFRA_TIMEOUT, then a fresh connection', async () => {
    const relay = await stallingRelay();
    const stalling = await createDbHandler({ url: relay.url, applicationName: `${appName}-stall`, poolSize: 2, timeoutMs: 300 });
    try {
      // Open both connections first: a new one could not start up through the stalled relay.
      await Promise.all([1, 2].map(() => send(stalling, 'db.query', { sql: 'select pg_sleep(0.05)' })));
      relay.stall(true);
      const [query, transaction] = await Promise.all([
        rejection(send(stalling, 'db.query', { sql: 'select 1 as ok' })),
        rejection(send(stalling, 'db.transaction', { statements: [{ sql: 'select 1' }] })),
      ]);
      for (const error of [query, transaction]) {
        expect(error).toBeInstanceOf(InfraTimeoutError);
        expect(error.retryable).toBe(true);
        expect(error.message).toContain('Query read timeout');
      }
      relay.stall(false);
      expect(await send(stalling, 'db.query', { sql: 'select 1 as ok' })).toMatchObject({ rows: [{ ok: 1 }] });
    } finally {
      relay.stall(false);
      await stalling.shutdown();
      await relay.close();
    }
  }, 30_000);

  it('survives idle connections being terminated (no crash, next envelope succeeds)', async () => {
    const idleApp = `${appName}-idle`;
    const idle = await createDbHandler({ url: PG_URL, applicationName: idleApp });
    try {
      await Promise.all([1, 2, 3].map((i) => send(idle, 'db.query', { sql: 'select pg_sleep(0.02), $1::int', parameters: [i] })));
      await terminate(idleApp);
      await waitForBackends(idleApp, (states) => states.length === 0);
      expect(await send(idle, 'db.query', { sql: 'select 1 as ok' })).toMatchObject({ rows: [{ ok: 1 }] });
      expect((await idle.healthCheck()).healthy).toBe(true);
    } finally {
      await idle.shutdown();
    }
  });
});

describe.skipIf(!available)('DbHandler connection failures', () => {
  const password = 'sekret-pass';

  function expectNoSecrets(error: OnexError, url: string): void {
    const wire = JSON.stringify(error.toEnvelopeError());
    for (const text of [error.message, wire]) {
      expect(text).not.toContain(password);
      expect(text).not.toContain(url);
      expect(text).not.toContain('postgres://');
    }
  }

  it('maps a refused port to a retryable INFRA_CONNECTION_ERROR without credentials', async () => {
    const url = `postgres://postgres:${password}@127.0.0.1:5499/onex_test`;
    const handler = new DbHandler();
    const error = await rejection(handler.initialize({ url, connectionTimeoutMs: 2000 }));
    expect(error).toBeInstanceOf(InfraConnectionError);
    expect(error.retryable).toBe(true);
    expect(error.details).toMatchObject({ transport_type: 'db', target: '127.0.0.1:5499/onex_test', error_code: 'ECONNREFUSED' });
    expectNoSecrets(error, url);
    expect(handler.state).toBe('failed');
    await handler.shutdown();
  });

  it('maps a missing database to a non-retryable INFRA_CONNECTION_ERROR without credentials', async () => {
    const url = `postgres://postgres:${password}@127.0.0.1:5432/onex_no_such_db_${runId}`;
    const error = await rejection(createDbHandler({ url }));
    expect(error.code).toBe('INFRA_CONNECTION_ERROR');
    expect(error.retryable).toBe(false);
    expect(error.details).toMatchObject({ sqlstate: '3D000' });
    expect(error.hint).toMatch(/database/);
    expectNoSecrets(error, url);
  });
});
