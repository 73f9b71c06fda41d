/**
 * The whole path on real parts: envelope → RuntimeHostProcess (in-memory bus) →
 * EffectNode → DbHandler on a real PostgreSQL / HttpHandler on a real local HTTP
 * server → response envelope. Includes a backend terminated mid-run.
 */
import { rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EffectNode, parseRuntimeHostContract, type OnexEnvelope } from '@onex/core';
import { HANDLER_CATALOG, createRuntimeHostFromContract, type RuntimeHostProcess } from '@onex/infra';
import { dbHandlerContract, loopbackHttpHandlerContract, writeHandlerContractDir } from '../helpers/handler-contract-dir.js';
import { PG_URL, pgServerAvailable } from '../helpers/require-server.js';

const available = await pgServerAvailable();
const APP = `onex_host_it_${process.pid}`;
const TABLE = `host_it_${process.pid}`;

describe.skipIf(!available)('runtime host on real PostgreSQL and HTTP', () => {
  let host: RuntimeHostProcess;
  let api: http.Server;
  let apiUrl: string;
  let contractDir: string;

  /** Handler contracts as a deployment ships them; the db URL placeholder must sit inside its secret scopes. */
  const writeHandlerContracts = (): Promise<string> =>
    writeHandlerContractDir('onex-host-it-', { db: dbHandlerContract(['db.query', 'db.execute', 'db.transaction'], 'env://ONEX_IT_*'), http: loopbackHttpHandlerContract });

  beforeAll(async () => {
    contractDir = await writeHandlerContracts();
    api = http.createServer((req, res) => {
      res.writeHead(req.url === '/missing' ? 404 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ path: req.url }));
    });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
    const { contract } = parseRuntimeHostContract(
      [
        'runtime:',
        '  name: "it"',
        '  version: "1.0.0"',
        '  event_bus:',
        '    kind: "inmemory"',
        '  handlers:',
        '    - type: "db"',
        '      config:',
        '        url: "${ONEX_IT_PG_URL}"',
        '        pool_size: 2',
        '    - type: "http"',
        '      config:',
        '        allowed_domains: ["127.0.0.1"]',
        '  nodes:',
        '    - slug: "store"',
      ].join('\n'),
      { source: 'it.yaml', catalog: HANDLER_CATALOG },
    );
    // The URL reaches the handler through a ${NAME} placeholder, as in production.
    const url = new URL(PG_URL);
    url.searchParams.set('application_name', APP);
    host = await createRuntimeHostFromContract({
      contract,
      contractDir,
      env: { ONEX_IT_PG_URL: url.toString() },
      nodes: [
        new EffectNode({
          slug: 'store',
          operations: ['db.query', 'db.execute', 'db.transaction', 'http.get'],
          // The node writes: a read_only grant (the default) would be refused by the db handler.
          access: { 'db.execute': 'read_write', 'db.transaction': 'read_write' },
        }),
      ],
    });
    await host.start();
  });

  afterAll(async () => {
    await host?.submit({ target_node: 'store', operation: 'db.execute', payload: { sql: `drop table if exists ${TABLE}` } }, 10_000);
    await host?.stop();
    await new Promise((resolve) => api?.close(resolve));
    if (contractDir) await rm(contractDir, { recursive: true, force: true });
  });

  const send = async (operation: string, payload: Record<string, unknown>): Promise<OnexEnvelope> =>
    (await host.submit({ target_node: 'store', operation, payload }, 15_000)).envelope;

  it('runs db.execute, db.query and db.transaction through the host', async () => {
    expect((await send('db.execute', { sql: `create table ${TABLE} (id int primary key, name text)` })).success).toBe(true);
    const tx = await send('db.transaction', {
      statements: [
        { sql: `insert into ${TABLE} values ($1, $2)`, parameters: [1, 'ada'] },
        { sql: `insert into ${TABLE} values ($1, $2)`, parameters: [2, 'grace'] },
      ],
    });
    expect(tx.success).toBe(true);
    const rows = await send('db.query', { sql: `select id, name from ${TABLE} order by id` });
    expect(rows.payload).toMatchObject({ rows: [{ id: 1, name: 'ada' }, { id: 2, name: 'grace' }], row_count: 2 });
  });

  it('rolls a failing transaction back and answers with the SQLSTATE', async () => {
    const tx = await send('db.transaction', {
      statements: [
        { sql: `insert into ${TABLE} values ($1, $2)`, parameters: [3, 'linus'] },
        { sql: `insert into ${TABLE} values ($1, $2)`, parameters: [1, 'duplicate'] },
      ],
    });
    expect(tx.success).toBe(false);
    expect(tx.error).toMatchObject({ code: 'HANDLER_EXECUTION_ERROR', sqlstate: '23505', handler_type: 'db', operation: 'db.transaction' });
    const count = await send('db.query', { sql: `select count(*)::int as n from ${TABLE}` });
    expect(count.payload).toMatchObject({ rows: [{ n: 2 }] });
  });

  it('rejects a parameter-count mismatch before it reaches the server', async () => {
    const r = await send('db.query', { sql: `select * from ${TABLE} where id = $1 and name = $2`, parameters: [1] });
    expect(r.success).toBe(false);
    expect(r.error?.code).toBe('ENVELOPE_VALIDATION_ERROR');
  });

  it('maps a terminated backend to a retryable error, and the next envelope succeeds', async () => {
    const sleeping = send('db.query', { sql: 'select pg_sleep(5)' });
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      // Wait until the sleep is running, then kill the backend serving it.
      for (let i = 0; i < 50; i += 1) {
        const r = await admin.query("select count(*)::int as n from pg_stat_activity where application_name = $1 and query like 'select pg_sleep%'", [APP]);
        if ((r.rows[0] as { n: number }).n > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1 and pid <> pg_backend_pid()', [APP]);
    } finally {
      await admin.end();
    }
    const failed = await sleeping;
    expect(failed.success).toBe(false);
    expect(failed.error?.retryable).toBe(true);
    expect(['INFRA_CONNECTION_ERROR', 'INFRA_UNAVAILABLE']).toContain(failed.error?.code);
    expect(JSON.stringify(failed)).not.toContain('postgres://');
    const next = await send('db.query', { sql: 'select 1 as one' });
    expect(next.success).toBe(true);
  });

  it('calls a real HTTP server; a 404 is a successful transport result', async () => {
    const ok = await send('http.get', { url: `${apiUrl}/hello`, query: { a: 1 } });
    expect(ok.payload).toMatchObject({ status_code: 200, body: { path: '/hello?a=1' } });
    const missing = await send('http.get', { url: `${apiUrl}/missing` });
    expect(missing.success).toBe(true);
    expect(missing.payload).toMatchObject({ status_code: 404 });
  });
});
