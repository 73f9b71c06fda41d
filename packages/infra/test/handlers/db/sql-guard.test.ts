import { EnvelopeValidationError } from '@onex/core';
import { describe, expect, it } from 'vitest';
import {
  analyzeSql,
  checkStatement,
  guardStatement,
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
