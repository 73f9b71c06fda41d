import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HandlerConfigurationError, HandlerExecutionError, InvalidOperationError } from '@onex/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DbHandler,
  createDbHandler,
  type DbExecuteResponse,
  type DbQueryResponse,
  type DbTransactionResponse,
} from '../../../src/handlers/db/index.js';
import { memoryLogger, rejection, send, sendAs } from './db-test-kit.js';

// PGlite boots a whole PostgreSQL in WebAssembly; give setup room on slow machines.
const BOOT_TIMEOUT_MS = 60_000;

describe('DbHandler on pglite://memory', () => {
  const log = memoryLogger();
  let handler: DbHandler;

  beforeAll(async () => {
    handler = await createDbHandler({ url: 'pglite://memory' }, { logger: log.logger });
    await send(handler, 'db.execute', {
      sql: 'create table items (id int primary key, name text not null, tags jsonb, big int8, created timestamptz, raw bytea)',
    });
  }, BOOT_TIMEOUT_MS);

  afterAll(async () => {
    await handler?.shutdown();
  });

  it('describes its operations and reports healthy', async () => {
    const description = handler.describe();
    expect(description.supportedOperations).toEqual(['db.query', 'db.execute', 'db.transaction']);
    expect(description.requiredPayloadFields['db.transaction']).toEqual(['statements']);
    expect(await handler.healthCheck()).toMatchObject({ healthy: true, handler_type: 'db', backend: 'pglite', pool_total: 1 });
  });

  it('inserts with parameters and reports row_count', async () => {
    const result = (await send(handler, 'db.execute', {
      sql: 'insert into items (id, name, tags, big, created, raw) values ($1, $2, $3, $4, $5, $6), (2, $2, null, null, null, null)',
      parameters: [1, "it's $1; drop", { color: 'red' }, '9007199254740993', '2024-01-02T03:04:05.000Z', '\\x0102'],
    })) as DbExecuteResponse;
    expect(result).toEqual({ row_count: 2 });
  });

  it('queries rows and field types as JSON', async () => {
    const result = (await send(handler, 'db.query', { sql: 'select * from items where id = $1', parameters: [1] })) as DbQueryResponse;
    expect(result.row_count).toBe(1);
    expect(result.rows).toEqual([
      { id: 1, name: "it's $1; drop", tags: { color: 'red' }, big: '9007199254740993', created: '2024-01-02T03:04:05.000Z', raw: '\\x0102' },
    ]);
    expect(result.fields.map((f) => f.name)).toEqual(['id', 'name', 'tags', 'big', 'created', 'raw']);
    expect(result.fields[0]).toEqual({ name: 'id', data_type_id: 23 });
  });

  it('reports the rows an update touched', async () => {
    const result = await send(handler, 'db.execute', { sql: 'update items set name = $1 where id >= $2', parameters: ['renamed', 1] });
    expect(result).toEqual({ row_count: 2 });
  });

  it('commits a transaction and returns each statement result', async () => {
    const result = (await send(handler, 'db.transaction', {
      statements: [
        { sql: 'insert into items (id, name) values ($1, $2)', parameters: [10, 'ten'] },
        { sql: 'insert into items (id, name) values ($1, $2)', parameters: [11, 'eleven'] },
        { sql: 'select name from items where id >= $1 order by id', parameters: [10] },
      ],
    })) as DbTransactionResponse;
    expect(result.results).toEqual([
      { row_count: 1, rows: [] },
      { row_count: 1, rows: [] },
      { row_count: 2, rows: [{ name: 'ten' }, { name: 'eleven' }] },
    ]);
    expect(result.row_count).toBe(4);
  });

  it('rolls back the whole transaction when a statement fails', async () => {
    const error = await rejection(
      send(handler, 'db.transaction', {
        statements: [
          { sql: 'insert into items (id, name) values ($1, $2)', parameters: [20, 'twenty'] },
          { sql: 'insert into items (id, name) values ($1, $2)', parameters: [1, 'duplicate'] },
        ],
      }),
    );
    expect(error).toBeInstanceOf(HandlerExecutionError);
    expect(error.code).toBe('HANDLER_EXECUTION_ERROR');
    expect(error.retryable).toBe(false);
    expect(error.details).toMatchObject({ sqlstate: '23505', constraint: 'items_pkey', statement_index: 1 });
    const after = (await send(handler, 'db.query', { sql: 'select count(*)::int as n from items where id = 20' })) as DbQueryResponse;
    expect(after.rows).toEqual([{ n: 0 }]);
  });

  it('never lets a concurrent envelope run inside another envelope’s transaction', async () => {
    // The transaction inserts row 30, runs more statements, then fails. Other envelopes
    // are sent while it is in flight. Were they interleaved on the single PGlite session,
    // queries would see the uncommitted row 30 and inserts would be rolled back with it.
    const transaction = rejection(
      send(handler, 'db.transaction', {
        statements: [
          { sql: 'insert into items (id, name) values ($1, $2)', parameters: [30, 'uncommitted'] },
          ...Array.from({ length: 10 }, () => ({ sql: 'select 1' })),
          { sql: 'select 1 / 0' },
        ],
      }),
    );
    const queries: Array<Promise<unknown>> = [];
    const inserts: Array<Promise<unknown>> = [];
    for (let turn = 0; turn < 200; turn += 1) {
      await Promise.resolve();
      if (turn % 10 !== 0) continue;
      queries.push(send(handler, 'db.query', { sql: 'select count(*)::int as n from items where id = 30' }));
      inserts.push(send(handler, 'db.execute', { sql: 'insert into items (id, name) values ($1, $2)', parameters: [100 + turn, 'outside'] }));
    }
    const error = await transaction;
    expect(error.details).toMatchObject({ sqlstate: '22012', statement_index: 11 });
    const seen = (await Promise.all(queries)) as DbQueryResponse[];
    expect(seen.map((r) => r.rows[0]?.n)).toEqual(queries.map(() => 0));
    expect(await Promise.all(inserts)).toEqual(inserts.map(() => ({ row_count: 1 })));
    const kept = (await send(handler, 'db.query', { sql: 'select count(*)::int as n from items where id >= 30 and id < 400' })) as DbQueryResponse;
    expect(kept.rows).toEqual([{ n: inserts.length }]);
  });

  it('rejects a placeholder/parameter mismatch before it reaches the database', async () => {
    const error = await rejection(send(handler, 'db.execute', { sql: 'insert into items (id, name) values ($1, $2)', parameters: [40] }));
    expect(error.code).toBe('ENVELOPE_VALIDATION_ERROR');
    expect(error.details).toMatchObject({ placeholders: 2, parameters: 1 });
    const tooMany = await rejection(send(handler, 'db.query', { sql: "select '$1' as literal", parameters: ['x'] }));
    expect(tooMany.details).toMatchObject({ placeholders: 0, parameters: 1 });
  });

  it('rejects several statements in one sql, in query and in a transaction', async () => {
    const error = await rejection(send(handler, 'db.execute', { sql: 'delete from items; drop table items' }));
    expect(error.code).toBe('ENVELOPE_VALIDATION_ERROR');
    const inTransaction = await rejection(
      send(handler, 'db.transaction', { statements: [{ sql: 'select 1' }, { sql: 'select 1; delete from items' }] }),
    );
    expect(inTransaction.message).toContain('payload.statements.1.sql');
    const count = (await send(handler, 'db.query', { sql: 'select count(*)::int as n from items' })) as DbQueryResponse;
    expect(count.rows[0]?.n).toBeGreaterThan(0);
  });

  it('rejects an unknown operation, listing the supported ones', async () => {
    const error = await rejection(send(handler, 'db.truncate', { sql: 'select 1' }));
    expect(error).toBeInstanceOf(InvalidOperationError);
    expect(error.code).toBe('INVALID_OPERATION');
    expect(error.message).toContain('db.query, db.execute, db.transaction');
    expect(error.details.supported_operations).toEqual(['db.query', 'db.execute', 'db.transaction']);
  });

  it('names the bad payload field', async () => {
    const missing = await rejection(send(handler, 'db.query', { parameters: [] }));
    expect(missing.code).toBe('ENVELOPE_VALIDATION_ERROR');
    expect(missing.message).toContain('payload.sql is required');
    const misspelt = await rejection(send(handler, 'db.query', { sql: 'select $1', params: [1] }));
    expect(misspelt.message).toContain('"params"');
    const empty = await rejection(send(handler, 'db.transaction', { statements: [] }));
    expect(empty.message).toContain('payload.statements');
    const blank = await rejection(send(handler, 'db.query', { sql: '   ' }));
    expect(blank.message).toContain('payload.sql must not be empty');
    const notArray = await rejection(send(handler, 'db.execute', { sql: 'select $1', parameters: 'x' }));
    expect(notArray.message).toContain('payload.parameters');
  });

  it('maps a syntax error to HANDLER_EXECUTION_ERROR with its SQLSTATE', async () => {
    const error = await rejection(send(handler, 'db.query', { sql: 'selec 1' }));
    expect(error.code).toBe('HANDLER_EXECUTION_ERROR');
    expect(error.details).toMatchObject({ sqlstate: '42601', transport_type: 'db', target: 'pglite://memory' });
    expect(error.operation).toBe('db.query');
    expect(error.handlerType).toBe('db');
  });

  it('never echoes a rejected value back in the error', async () => {
    const error = await rejection(send(handler, 'db.query', { sql: 'select $1::int', parameters: ['secret-value-42'] }));
    expect(error.details).toMatchObject({ sqlstate: '22P02' });
    expect(JSON.stringify(error.toEnvelopeError())).not.toContain('secret-value-42');
  });

  it('warns about suspicious SQL with the correlation id but without parameter values', async () => {
    await send(handler, 'db.query', { sql: 'select id from items where name = $1 union select 1', parameters: ['hunter2'] }, 'corr-union');
    const warning = log.lines().find((line) => line.correlation_id === 'corr-union');
    expect(warning).toMatchObject({ level: 'warn', patterns: ['union_outside_subquery'], operation: 'db.query' });
    expect(JSON.stringify(log.lines())).not.toContain('hunter2');
  });

  it('warns on every envelope with suspicious SQL, not only the first of the same text', async () => {
    const sql = 'select id from items where name = $1 union select 2';
    for (const correlationId of ['corr-repeat-1', 'corr-repeat-2', 'corr-repeat-3']) {
      await send(handler, 'db.query', { sql, parameters: ['x'] }, correlationId);
    }
    const warnings = log.lines().filter((line) => String(line.correlation_id).startsWith('corr-repeat-'));
    expect(warnings.map((line) => line.correlation_id)).toEqual(['corr-repeat-1', 'corr-repeat-2', 'corr-repeat-3']);
    expect(warnings.every((line) => line.level === 'warn')).toBe(true);
  });

  it('checks placeholders on every envelope, whatever was sent before with the same text', async () => {
    const sql = 'select name from items where id = $1';
    expect(await send(handler, 'db.query', { sql, parameters: [1] })).toMatchObject({ row_count: 1 });
    const error = await rejection(send(handler, 'db.query', { sql, parameters: [1, 2] }));
    expect(error.code).toBe('ENVELOPE_VALIDATION_ERROR');
    expect(error.details).toMatchObject({ placeholders: 1, parameters: 2 });
  });

  it('takes scalar, null and JSON parameters alike', async () => {
    const result = (await send(handler, 'db.query', {
      sql: 'select $1::int as n, $2::text as t, $3::boolean as b, $4::text as z, $5::jsonb as j',
      parameters: [7, 'seven', true, null, { nested: [1, 'two'] }],
    })) as DbQueryResponse;
    expect(result.rows).toEqual([{ n: 7, t: 'seven', b: true, z: null, j: { nested: [1, 'two'] } }]);
  });
});

describe('DbHandler lifecycle', () => {
  it('rejects a bad configuration without echoing the url', async () => {
    const handler = new DbHandler();
    const error = await rejection(handler.initialize({ url: 'mysql://root:pw@db/x' }));
    expect(error).toBeInstanceOf(HandlerConfigurationError);
    expect(error.message).toContain('config.url');
    expect(error.message).not.toContain('pw@');
    const misspelt = await rejection(handler.initialize({ url: 'pglite://memory', pool_size: 3 } as never));
    expect(misspelt.message).toContain('"pool_size"');
  });

  it('refuses envelopes before initialize and after shutdown, and shuts down once', async () => {
    const handler = new DbHandler();
    expect((await rejection(send(handler, 'db.query', { sql: 'select 1' }))).code).toBe('HANDLER_EXECUTION_ERROR');
    expect((await handler.healthCheck()).healthy).toBe(false);
    await handler.initialize({ url: 'pglite://memory' });
    const again = await rejection(handler.initialize({ url: 'pglite://memory' }));
    expect(again).toBeInstanceOf(HandlerConfigurationError);
    expect(again.message).toBe('DbHandler.initialize() called while ready');
    expect(again.hint).toBe('Initialize a handler once; create a new DbHandler for another database.');
    const first = handler.shutdown();
    expect(handler.shutdown()).toBe(first);
    await first;
    await handler.shutdown();
    const error = await rejection(send(handler, 'db.query', { sql: 'select 1' }));
    expect(error.code).toBe('SHUTTING_DOWN');
    expect(error.message).toBe('DbHandler is shut down and accepts no more envelopes');
    expect(error.retryable).toBe(true);
    expect(await handler.healthCheck()).toMatchObject({ healthy: false, state: 'shutdown' });
  }, BOOT_TIMEOUT_MS);

  it('persists pglite://<dir> across restarts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'onex-db-'));
    try {
      const first = await createDbHandler({ url: `pglite://${dir}` });
      await send(first, 'db.transaction', {
        statements: [{ sql: 'create table kept (v text)' }, { sql: 'insert into kept values ($1)', parameters: ['survives'] }],
      });
      await first.shutdown();
      const second = await createDbHandler({ url: `pglite://${dir}` });
      const result = (await send(second, 'db.query', { sql: 'select v from kept' })) as DbQueryResponse;
      await second.shutdown();
      expect(result.rows).toEqual([{ v: 'survives' }]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 2 * BOOT_TIMEOUT_MS);
});

describe('DbHandler on pglite://memory: grants and limits', () => {
  let handler: DbHandler;
  const reader = { access: 'read_only', nodeSlug: 'reader' } as const;

  beforeAll(async () => {
    handler = await createDbHandler({ url: 'pglite://memory', maxRows: 3, maxResultBytes: 2048 });
    await send(handler, 'db.execute', { sql: 'create table notes (id int primary key)' });
    await send(handler, 'db.execute', { sql: 'insert into notes values (1)' });
    await send(handler, 'db.execute', {
      sql: 'create function sneaky_write() returns int language sql volatile as $$ insert into notes values (2) returning id $$',
    });
  }, BOOT_TIMEOUT_MS);

  afterAll(async () => {
    await handler?.shutdown();
  });

  it('a read_only node may read but not write; a write hidden in a function fails inside BEGIN READ ONLY', async () => {
    expect(((await sendAs(handler, 'db.query', { sql: 'select count(*)::int as n from notes' }, reader)) as DbQueryResponse).rows).toEqual([{ n: 1 }]);
    expect(await rejection(sendAs(handler, 'db.execute', { sql: 'insert into notes values (3)' }, reader))).toBeInstanceOf(InvalidOperationError);
    const hidden = await rejection(sendAs(handler, 'db.query', { sql: 'select sneaky_write()' }, reader));
    expect(hidden).toBeInstanceOf(InvalidOperationError);
    expect(hidden.details).toMatchObject({ sqlstate: '25006' });
    expect(((await send(handler, 'db.query', { sql: 'select count(*)::int as n from notes' })) as DbQueryResponse).rows).toEqual([{ n: 1 }]);
  });

  it('checks maxRows and maxResultBytes after the statement', async () => {
    expect((await rejection(send(handler, 'db.query', { sql: 'select generate_series(1, 4) as g' }))).details).toMatchObject({ max_rows: 3, rows_received: 4 });
    expect((await rejection(send(handler, 'db.query', { sql: "select repeat('x', 5000) as wide" }))).code).toBe('INFRA_RESPONSE_TOO_LARGE');
    expect(((await send(handler, 'db.query', { sql: 'select generate_series(1, 3) as g' })) as DbQueryResponse).row_count).toBe(3);
  });

  it('an already aborted signal runs nothing', async () => {
    await rejection(sendAs(handler, 'db.execute', { sql: 'insert into notes values (4)' }, { signal: AbortSignal.abort() }));
    expect(((await send(handler, 'db.query', { sql: 'select count(*)::int as n from notes' })) as DbQueryResponse).rows).toEqual([{ n: 1 }]);
  });
});
