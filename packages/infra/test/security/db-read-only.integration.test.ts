/**
 * Attack: a node granted read_only tries every way to write. The guard refuses what it
 * can see; what it cannot see (a write inside a function) PostgreSQL itself refuses,
 * because read-only calls run on connections started with default_transaction_read_only.
 */
import { randomUUID } from 'node:crypto';
import { InvalidOperationError } from '@onex/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DbHandler, DbQueryResponse } from '../../src/handlers/db/index.js';
import { pgServerAvailable } from '../helpers/require-server.js';
import { rejection } from '../handlers/db/db-test-kit.js';
import { handlerFor, ROLES, sendAs } from './db-security-kit.js';

const available = await pgServerAvailable();
const runId = randomUUID().slice(0, 8);
const reader = { access: 'read_only', nodeSlug: 'report-reader' } as const;

describe.skipIf(!available).each(ROLES)('db attacks as $name: a read_only node tries to write', (role) => {
  let handler: DbHandler;
  const table = `onex_ro_${role.name}_${runId}`;
  const sequence = `${table}_seq`;
  const writer = `${table}_write`;
  const state = async () =>
    ((await sendAs(handler, 'db.query', { sql: `select (select count(*)::int from ${table}) as rows, (select last_value::int from ${sequence}) as seq` }, reader)) as DbQueryResponse)
      .rows[0];

  beforeAll(async () => {
    handler = await handlerFor(role);
    await sendAs(handler, 'db.execute', { sql: `create table ${table} (id int primary key, name text)` });
    await sendAs(handler, 'db.execute', { sql: `insert into ${table} values (1, 'one')` });
    await sendAs(handler, 'db.execute', { sql: `create sequence ${sequence}` });
    // A write the lexer cannot see: it hides in a function body.
    await sendAs(handler, 'db.execute', {
      sql: `create function ${writer}() returns int language sql volatile as $$ insert into ${table} values (99, 'hidden') returning id $$`,
    });
  });
  afterAll(async () => {
    await sendAs(handler, 'db.execute', { sql: `drop function if exists ${writer}()` });
    await sendAs(handler, 'db.execute', { sql: `drop table if exists ${table}` });
    await sendAs(handler, 'db.execute', { sql: `drop sequence if exists ${sequence}` });
    await handler.shutdown();
  });

  it('may read', async () => {
    expect(await state()).toEqual({ rows: 1, seq: 1 });
  });

  it.each([
    ['db.execute', `insert into ${'T'} values (2, 'two')`],
    ['db.execute', `update ${'T'} set name = 'x'`],
    ['db.execute', `delete from ${'T'}`],
    ['db.query', `with x as (delete from ${'T'} returning *) select * from x`],
    ['db.query', `select nextval('${'T'}_seq')`],
    ['db.query', `select * from ${'T'} for update`],
    ['db.execute', `merge into ${'T'} t using (select 1 as id) s on t.id = s.id when matched then delete`],
    ['db.execute', `select * into ${'T'}_copy from ${'T'}`],
    ['db.query', `explain analyze delete from ${'T'}`],
    ['db.execute', `truncate ${'T'}`],
    ['db.execute', `create table ${'T'}_new (a int)`],
    ['db.execute', `drop table ${'T'}`],
  ])('%s %s is refused before the server, naming the grant and the fix', async (operation, template) => {
    const sql = template.replaceAll('T', table).replaceAll(`${table}_seq`, sequence);
    const error = await rejection(sendAs(handler, operation, { sql }, reader));
    expect(error).toBeInstanceOf(InvalidOperationError);
    expect(error.message).toContain("node 'report-reader' has read_only access");
    expect(error.hint).toContain('access: read_write');
    expect(await state()).toEqual({ rows: 1, seq: 1 });
  });

  it('refuses writes and read-only switches inside db.transaction', async () => {
    for (const statements of [
      [{ sql: `insert into ${table} values (3, 'three')` }],
      [{ sql: 'set local transaction_read_only = off' }, { sql: `insert into ${table} values (3, 'three')` }],
      [{ sql: 'set transaction read write' }, { sql: `insert into ${table} values (3, 'three')` }],
    ]) {
      const error = await rejection(sendAs(handler, 'db.transaction', { statements }, reader));
      expect(error).toBeInstanceOf(InvalidOperationError);
    }
    expect(await state()).toEqual({ rows: 1, seq: 1 });
  });

  it('a write hidden in a function is refused by PostgreSQL (SQLSTATE 25006), alone and in db.transaction', async () => {
    for (const send of [
      () => sendAs(handler, 'db.query', { sql: `select ${writer}()` }, reader),
      () => sendAs(handler, 'db.transaction', { statements: [{ sql: `select ${writer}()` }] }, reader),
    ]) {
      const error = await rejection(send());
      expect(error).toBeInstanceOf(InvalidOperationError);
      expect(error.details).toMatchObject({ sqlstate: '25006', access: 'read_only' });
      expect(error.hint).toContain('access: read_write');
    }
    expect(await state()).toEqual({ rows: 1, seq: 1 });
  });

  it('the same statements run for a read_write node', async () => {
    await sendAs(handler, 'db.query', { sql: `select nextval('${sequence}')` }, { access: 'read_write', nodeSlug: 'writer' });
    await sendAs(handler, 'db.query', { sql: `select ${writer}()` }, { access: 'read_write', nodeSlug: 'writer' });
    expect(await state()).toEqual({ rows: 2, seq: 1 });
    await sendAs(handler, 'db.execute', { sql: `delete from ${table} where id = 99` });
  });
});
