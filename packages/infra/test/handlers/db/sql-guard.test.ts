import { EnvelopeValidationError, InvalidOperationError } from '@onex/core';
import { describe, expect, it } from 'vitest';
import {
  analyzeSql,
  checkStatement,
  checkStatementMode,
  guardStatement,
  isPermitted,
  STATEMENT_MODE,
  MAX_CACHED_SQL_LENGTH,
  SqlAnalysisCache,
} from '../../../src/handlers/db/sql-guard.js';

describe('analyzeSql: placeholder counting', () => {
  it.each([
    ['select 1', 0],
    ['select * from t where a = $1', 1],
    ['select $2, $1', 2],
    ['select $1, $1, $1', 1],
    ['insert into t values ($1, $2, $3)', 3],
    ['select $10', 10],
    ['select $1::int + $2::int', 2],
  ])('%s → %i', (sql, count) => {
    expect(analyzeSql(sql).placeholderCount).toBe(count);
  });

  it('ignores $n inside single-quoted strings, including doubled quotes', () => {
    expect(analyzeSql("select '$1' || $1").placeholderCount).toBe(1);
    expect(analyzeSql("select 'it''s $3' , $1").placeholderCount).toBe(1);
  });

  it('ignores $n inside E-strings with backslash-escaped quotes', () => {
    expect(analyzeSql("select E'a\\' $5', $1").placeholderCount).toBe(1);
  });

  it('ignores $n inside double-quoted identifiers', () => {
    expect(analyzeSql('select "col$2", "we""ird $3" from t where x = $1').placeholderCount).toBe(1);
  });

  it('ignores $n inside dollar-quoted strings, tagged or not', () => {
    expect(analyzeSql('select $$ $4 $$, $1').placeholderCount).toBe(1);
    expect(analyzeSql('select $fn$ body $7 with $$ inside $fn$ , $2, $1').placeholderCount).toBe(2);
  });

  it('ignores $n in line and (nested) block comments', () => {
    expect(analyzeSql('select $1 -- and $2\n').placeholderCount).toBe(1);
    expect(analyzeSql('select /* $3 /* nested $4 */ still $5 */ $1').placeholderCount).toBe(1);
  });

  it('does not treat $ inside identifiers as a placeholder', () => {
    expect(analyzeSql('select a$1 from t').placeholderCount).toBe(0);
  });
});

describe('analyzeSql: multiple statements', () => {
  it.each([
    'select 1',
    'select 1;',
    'select 1;   ',
    'select 1; -- trailing comment',
    'select 1; /* trailing */ ',
    "select ';' as semi",
    'select 1 as "a;b"',
    'select $$;drop table t$$',
    '-- select 1; select 2\nselect 3',
  ])('single: %s', (sql) => {
    expect(analyzeSql(sql).multipleStatements).toBe(false);
  });

  it.each([
    'select 1; select 2',
    'select 1;select 2;',
    "select 1; 'x'",
    'select 1; /* c */ delete from t',
    'select 1;\n-- comment\nselect 2',
  ])('multiple: %s', (sql) => {
    expect(analyzeSql(sql).multipleStatements).toBe(true);
  });
});

describe('analyzeSql: suspicious patterns', () => {
  it('flags ;-- outside quotes', () => {
    expect(analyzeSql("select * from users where name = 'x';-- ").suspiciousPatterns).toContain('semicolon_comment');
    expect(analyzeSql("select ';--'").suspiciousPatterns).toEqual([]);
  });

  it('flags DROP as a keyword, not inside literals or longer identifiers', () => {
    expect(analyzeSql('drop table t').suspiciousPatterns).toContain('drop');
    expect(analyzeSql("select 'drop table t', drop_date, \"DROP\" from t").suspiciousPatterns).toEqual([]);
  });

  it('flags UNION at the top level but not inside a subquery', () => {
    expect(analyzeSql('select a from t union select password from users').suspiciousPatterns).toContain('union_outside_subquery');
    expect(analyzeSql('select * from (select 1 union select 2) s').suspiciousPatterns).toEqual([]);
    expect(analyzeSql('with x as (select 1 union all select 2) select * from x').suspiciousPatterns).toEqual([]);
  });

  it('returns a shape with every literal blanked, safe to log', () => {
    const { shape } = analyzeSql("select * from t where name = 'alice' and pw = $$s3cret$$ -- note\n and id = $1");
    expect(shape).not.toContain('alice');
    expect(shape).not.toContain('s3cret');
    expect(shape).not.toContain('note');
    expect(shape).toContain('$1');
  });
});

describe('guardStatement', () => {
  const where = { field: 'payload.sql', operation: 'db.query', correlationId: 'c-1', handlerType: 'db' };

  it('accepts a matching statement and returns the analysis', () => {
    expect(guardStatement('select $1, $2', 2, where).placeholderCount).toBe(2);
  });

  it('rejects a placeholder/parameter mismatch with both counts', () => {
    const error = catchError(() => guardStatement('select $1, $2', 1, where));
    expect(error).toBeInstanceOf(EnvelopeValidationError);
    expect(error.code).toBe('ENVELOPE_VALIDATION_ERROR');
    expect(error.details).toMatchObject({ placeholders: 2, parameters: 1 });
    expect(error.message).toContain('payload.sql');
    expect(error.hint).toMatch(/parameters/);
    expect(error.correlationId).toBe('c-1');
  });

  it('rejects parameters for a statement without placeholders', () => {
    expect(catchError(() => guardStatement('select 1', 1, where)).details).toMatchObject({ placeholders: 0, parameters: 1 });
  });

  it('rejects several statements', () => {
    const error = catchError(() => guardStatement('select 1; drop table t', 0, where));
    expect(error.code).toBe('ENVELOPE_VALIDATION_ERROR');
    expect(error.message).toMatch(/more than one SQL statement/);
  });
});

describe('SqlAnalysisCache', () => {
  it('analyzes a repeated text once and returns the same frozen analysis', () => {
    const cache = new SqlAnalysisCache();
    const first = cache.analyze('select a from t union select b from u where x = $1');
    expect(first).toEqual(analyzeSql('select a from t union select b from u where x = $1'));
    expect(cache.analyze('select a from t union select b from u where x = $1')).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first.suspiciousPatterns)).toBe(true);
  });

  it('keeps at most its size, dropping the oldest text first', () => {
    const cache = new SqlAnalysisCache(2);
    const oldest = cache.analyze('select 1');
    const kept = cache.analyze('select 2');
    cache.analyze('select 3');
    expect(cache.size).toBe(2);
    expect(cache.analyze('select 2')).toBe(kept);
    expect(cache.analyze('select 1')).not.toBe(oldest);
    expect(cache.size).toBe(2);
  });

  it('analyzes very long texts every time instead of keeping them', () => {
    const cache = new SqlAnalysisCache();
    const long = `select ${'1 + '.repeat(MAX_CACHED_SQL_LENGTH)}$1`;
    expect(cache.analyze(long).placeholderCount).toBe(1);
    expect(cache.size).toBe(0);
  });

  it('rejects from a cached analysis exactly as guardStatement does', () => {
    const where = { field: 'payload.sql', operation: 'db.query', correlationId: 'c-2', handlerType: 'db' };
    const cache = new SqlAnalysisCache();
    for (const [sql, parameters] of [['select $1, $2', 1], ['select 1; drop table t', 0]] as const) {
      const cached = catchError(() => checkStatement(cache.analyze(sql), parameters, where));
      const direct = catchError(() => guardStatement(sql, parameters, where));
      expect(cached.message).toBe(direct.message);
      expect(cached.details).toEqual(direct.details);
      expect(cached.code).toBe('ENVELOPE_VALIDATION_ERROR');
    }
    expect(checkStatement(cache.analyze('select $1'), 1, where).placeholderCount).toBe(1);
  });
});

function catchError(fn: () => unknown): EnvelopeValidationError {
  try {
    fn();
  } catch (error) {
    return error as EnvelopeValidationError;
  }
  throw new Error('expected an error');
}

describe('analyzeSql: statement classes', () => {
  const cls = (sql: string) => analyzeSql(sql).statementClass;

  it.each([
    'select 1',
    'SELECT * FROM t WHERE a = $1',
    '(select 1) union (select 2)',
    'values (1), (2)',
    'table t',
    'show search_path',
    'explain select * from t',
    'with x as (select 1) select * from x',
    "select current_setting('search_path')",
    'select pg_advisory_xact_lock(1)',
    "select pg_sleep(0)",
    '-- only a comment',
  ])('read: %s', (sql) => {
    expect(cls(sql)).toBe('read');
  });

  it.each([
    ['insert into t values ($1)', 'INSERT'],
    ['update t set a = 1', 'UPDATE'],
    ['delete from t', 'DELETE'],
    ['merge into t using s on true when matched then delete', 'MERGE'],
    ['with x as (delete from t returning *) select * from x', 'WITH … DELETE'],
    ['WITH x AS (INSERT INTO t VALUES (1) RETURNING *) SELECT * FROM x', 'WITH … INSERT'],
    ["select nextval('s')", 'nextval()'],
    ["select setval('s', 5)", 'setval()'],
    ['select * from t for update', 'SELECT … UPDATE'],
    ['select * from t for key share', 'SELECT … FOR SHARE'],
    ['select * into t2 from t', 'SELECT … INTO'],
    ['explain analyze delete from t', 'EXPLAIN … DELETE'],
    ['create table t (a int)', 'CREATE TABLE'],
    ['drop table t', 'DROP'],
    ['truncate t', 'TRUNCATE'],
    ['call p()', 'CALL'],
    ['create function f() returns int language sql as $$ select 1 $$', 'CREATE FUNCTION'],
  ])('write: %s', (sql, construct) => {
    expect(analyzeSql(sql)).toMatchObject({ statementClass: 'write', construct });
  });

  it.each([
    ['do $$ begin perform 1; end $$', 'DO block'],
    ["copy t to program 'touch /tmp/x'", 'COPY'],
    ["COPY t FROM '/etc/passwd'", 'COPY'],
    ['copy (select 1) to stdout', 'COPY'],
    ["select pg_read_file('/etc/passwd')", 'pg_read_file()'],
    ["select * from pg_catalog.pg_read_binary_file('/etc/passwd')", 'pg_read_binary_file()'],
    ["select \"pg_read_file\"('/etc/passwd')", 'pg_read_file()'],
    ["select pg_ls_dir('.')", 'pg_ls_dir()'],
    ['select * from pg_ls_waldir()', 'pg_ls_waldir()'],
    ["select pg_stat_file('x')", 'pg_stat_file()'],
    ["select lo_import('/etc/passwd')", 'lo_import()'],
    ["select lo_export(1, '/tmp/x')", 'lo_export()'],
    ["select dblink_exec('host=x', 'drop table t')", 'dblink_exec()'],
    ['select pg_reload_conf()', 'pg_reload_conf()'],
    ['select pg_terminate_backend(1)', 'pg_terminate_backend()'],
    ["select query_to_xml('select 1', true, true, '')", 'query_to_xml()'],
    ["create operator === (leftarg = text, function = pg_read_file)", 'pg_read_file()'],
    ["alter system set work_mem = '1GB'", 'ALTER SYSTEM'],
    ["load 'plpgsql'", 'LOAD'],
    ['create extension dblink', 'CREATE EXTENSION'],
    ["create function f() returns int language plpython3u as $$ return 1 $$", 'CREATE FUNCTION with an untrusted LANGUAGE'],
    ["create or replace function f() returns int as 'lib', 'sym' language c", 'CREATE FUNCTION with an untrusted LANGUAGE'],
    ["create function f() returns int as $$ x $$ language 'c'", 'CREATE FUNCTION with an untrusted LANGUAGE'],
    ["alter role app set search_path = evil", 'ALTER ROLE … SET'],
    ['select U&"pg_read\\005ffile"(1)', 'U&"…" identifier'],
  ])('forbidden: %s', (sql, construct) => {
    expect(analyzeSql(sql)).toMatchObject({ statementClass: 'forbidden', construct, permits: 0 });
  });

  it.each(['begin', 'BEGIN ISOLATION LEVEL SERIALIZABLE', 'start transaction', 'commit', 'end', 'rollback', 'abort', 'savepoint a', 'release savepoint a', "prepare transaction 'x'"])(
    'transaction control: %s',
    (sql) => {
      expect(analyzeSql(sql)).toMatchObject({ statementClass: 'transaction_control', permits: 0 });
    },
  );

  it.each([
    'set statement_timeout = 1',
    'SET search_path = evil',
    'set session search_path to evil',
    'set role postgres',
    'reset all',
    "select set_config('search_path', 'evil', false)",
    'listen c',
    'unlisten *',
    'prepare p as select 1',
    'execute p',
    'deallocate all',
    'declare c cursor for select 1',
    'discard all',
    'select pg_advisory_lock(1)',
    'select pg_try_advisory_lock_shared(1)',
    'create temp table tt (a int)',
    'create temporary table tt as select 1',
    'select 1 into temp tt',
  ])('session: %s', (sql) => {
    expect(analyzeSql(sql)).toMatchObject({ statementClass: 'session', permits: 0 });
  });

  it('SET LOCAL and SET CONSTRAINTS run inside db.transaction only; SET TRANSACTION and read-only switches for read_write only', () => {
    const inTransaction = STATEMENT_MODE.readOnlyInTransaction | STATEMENT_MODE.readWriteInTransaction;
    expect(analyzeSql("set local statement_timeout = '1s'")).toMatchObject({ statementClass: 'transaction_local', permits: inTransaction });
    expect(analyzeSql('set constraints all deferred').permits).toBe(inTransaction);
    expect(analyzeSql('set transaction isolation level serializable').permits).toBe(STATEMENT_MODE.readWriteInTransaction);
    expect(analyzeSql('set local transaction_read_only = off').permits).toBe(STATEMENT_MODE.readWriteInTransaction);
    expect(analyzeSql('set local role postgres').permits).toBe(STATEMENT_MODE.readWriteInTransaction);
    expect(analyzeSql('create temp table tt (a int) on commit drop').permits).toBe(STATEMENT_MODE.readWriteInTransaction);
  });

  it.each([
    "select 'DO'",
    "select 'COPY t TO PROGRAM ''x'''",
    'select "COPY", "do", "set" from "copy"',
    'select 1 -- ; COPY t TO PROGRAM',
    "select 1 /* pg_read_file('/etc/passwd') */",
    "select $$ pg_read_file('x'); delete from t $$",
    "select $q$ nextval('s') $q$",
    "select 'pg_read_file', E'set_config\\' nextval'",
    "select 'begin', 'commit'",
    'select temp from weather',
    'select * from "delete"',
  ])('quoting and comments never trigger: %s', (sql) => {
    expect(analyzeSql(sql).statementClass).toBe('read');
  });

  it('insert … on conflict do update is a write, not a DO block', () => {
    expect(analyzeSql('insert into t values (1) on conflict (a) do update set b = 2')).toMatchObject({ statementClass: 'write', construct: 'INSERT' });
  });
});

describe('checkStatementMode', () => {
  const where = { field: 'payload.sql', operation: 'db.query', handlerType: 'db', correlationId: undefined, nodeSlug: 'reader' };

  it('refuses a write from a read_only grant with InvalidOperationError naming the node and the fix', () => {
    const analysis = analyzeSql('with x as (delete from t returning *) select * from x');
    expect(isPermitted(analysis, STATEMENT_MODE.readOnly)).toBe(false);
    expect(isPermitted(analysis, STATEMENT_MODE.readWrite)).toBe(true);
    const error = (() => {
      try {
        checkStatementMode(analysis, STATEMENT_MODE.readOnly, where);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(InvalidOperationError);
    expect((error as InvalidOperationError).message).toContain("node 'reader' has read_only access");
    expect((error as InvalidOperationError).hint).toContain('access: read_write');
  });

  it('refuses forbidden, session and transaction control statements for every grant, never echoing values', () => {
    for (const mode of Object.values(STATEMENT_MODE)) {
      expect(() => checkStatementMode(analyzeSql("copy t to program 'rm -rf /secret'"), mode, where)).toThrow(EnvelopeValidationError);
      expect(() => checkStatementMode(analyzeSql("set search_path = 'evil'"), mode, where)).toThrow(EnvelopeValidationError);
      expect(() => checkStatementMode(analyzeSql('begin'), mode, where)).toThrow(/db\.transaction|transaction control/);
    }
    try {
      checkStatementMode(analyzeSql("copy t to program 'rm -rf /secret'"), STATEMENT_MODE.readWrite, where);
    } catch (e) {
      const error = e as EnvelopeValidationError;
      expect(error.code).toBe('ENVELOPE_VALIDATION_ERROR');
      expect(JSON.stringify(error.toEnvelopeError())).not.toContain('secret');
      expect(error.details).toMatchObject({ construct: 'COPY', statement_class: 'forbidden' });
    }
  });

  it('points SET LOCAL outside a transaction to db.transaction', () => {
    expect(() => checkStatementMode(analyzeSql('set local statement_timeout = 5'), STATEMENT_MODE.readWrite, where)).toThrow(
      /only takes effect inside a transaction/,
    );
  });
});
