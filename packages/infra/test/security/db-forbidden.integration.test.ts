/**
 * Attack: SQL that reaches beyond the database (server programs and files, procedural
 * code, server settings) or opens a transaction that outlives its envelope. Each is
 * refused before it reaches the server, for the superuser and for the least-privileged
 * role alike, and leaves no trace.
 */
import { existsSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { EnvelopeValidationError } from '@onex/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DbHandler, DbQueryResponse } from '../../src/handlers/db/index.js';
import { pgServerAvailable } from '../helpers/require-server.js';
import { rejection } from '../handlers/db/db-test-kit.js';
import { adminQuery, handlerFor, ROLES, sendAs } from './db-security-kit.js';

const available = await pgServerAvailable();
const runId = randomUUID().slice(0, 8);

describe.skipIf(!available).each(ROLES)('db attacks as $name: forbidden constructs', (role) => {
  let handler: DbHandler;
  const marker = `/tmp/onex-copy-program-${role.name}-${runId}`;
  const doTable = `onex_do_${role.name}_${runId}`;

  beforeAll(async () => {
    // pool of one: a leaked transaction would show in the very next envelope.
    handler = await handlerFor(role, { poolSize: 1 });
  });
  afterAll(async () => {
    await handler.shutdown();
    rmSync(marker, { force: true });
    await adminQuery(`drop table if exists ${doTable}`);
  });

  it('refuses COPY … TO PROGRAM before the server sees it: no program runs', async () => {
    const error = await rejection(sendAs(handler, 'db.execute', { sql: `copy (select 1) to program 'touch ${marker}'` }));
    expect(error).toBeInstanceOf(EnvelopeValidationError);
    expect(error.details).toMatchObject({ construct: 'COPY', statement_class: 'forbidden' });
    expect(error.message).not.toContain(marker);
    expect(existsSync(marker)).toBe(false);
  });

  it.each([
    ["copy (select 1) to '/tmp/onex-copy-file'", 'COPY'],
    ["copy pg_catalog.pg_class from '/etc/hostname'", 'COPY'],
    ["select pg_read_file('/etc/hostname')", 'pg_read_file()'],
    ["select * from pg_ls_dir('.')", 'pg_ls_dir()'],
    ["select lo_import('/etc/hostname')", 'lo_import()'],
    ['select pg_reload_conf()', 'pg_reload_conf()'],
    ["select set_config('search_path', 'evil', false)", 'set_config()'],
    ["alter system set work_mem = '1GB'", 'ALTER SYSTEM'],
    ["load 'plpgsql'", 'LOAD'],
    ['create extension if not exists dblink', 'CREATE EXTENSION'],
    ["create function onex_untrusted() returns int language c as 'x', 'y'", 'CREATE FUNCTION with an untrusted LANGUAGE'],
  ])('refuses %s', async (sql, construct) => {
    const error = await rejection(sendAs(handler, 'db.query', { sql }));
    expect(error.code).toBe('ENVELOPE_VALIDATION_ERROR');
    expect(error.details).toMatchObject({ construct });
    expect(error.hint).toBeTruthy();
  });

  it('refuses a DO block: its body never runs', async () => {
    const error = await rejection(sendAs(handler, 'db.execute', { sql: `do $$ begin create table ${doTable} (a int); end $$` }));
    expect(error).toBeInstanceOf(EnvelopeValidationError);
    expect(error.details).toMatchObject({ construct: 'DO block' });
    expect(await adminQuery(`select to_regclass('public.${doTable}') as t`)).toEqual([{ t: null }]);
  });

  it('refuses transaction control as a statement and points to db.transaction; the next envelope is not in a transaction', async () => {
    for (const sql of ['begin', 'start transaction read write', 'savepoint s', 'commit', 'rollback']) {
      const error = await rejection(sendAs(handler, 'db.execute', { sql }));
      expect(error.code).toBe('ENVELOPE_VALIDATION_ERROR');
      expect(error.hint).toContain('db.transaction');
    }
    // now() is the transaction's start; in autocommit it equals the statement's start.
    const answer = (await sendAs(handler, 'db.query', { sql: 'select now() = statement_timestamp() as autocommit' })) as DbQueryResponse;
    expect(answer.rows).toEqual([{ autocommit: true }]);
  });

  it('refuses a forbidden statement inside db.transaction before BEGIN', async () => {
    const error = await rejection(
      sendAs(handler, 'db.transaction', { statements: [{ sql: 'select 1' }, { sql: `copy (select 1) to program 'touch ${marker}'` }] }),
    );
    expect(error.details).toMatchObject({ field: 'payload.statements.1.sql', construct: 'COPY' });
    expect(existsSync(marker)).toBe(false);
  });
});
