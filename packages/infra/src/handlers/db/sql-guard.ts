/**
 * Static checks on the SQL text of a db envelope, run before anything reaches the
 * server: the highest `$n` placeholder must match the number of parameters, one
 * envelope carries one statement, and injection-shaped SQL is flagged for a warning.
 *
 * The scanner is a small lexer that knows PostgreSQL's quoting rules, so that `$1`,
 * `;` or `DROP` inside a string literal, a quoted identifier, a dollar-quoted body or
 * a comment never count.
 *
 * The same scan classifies the statement (see {@link SqlStatementClass}): what it does to
 * the database and to the session, so that a read-only node cannot write, and nothing an
 * envelope sends can change the pooled connection for the next envelope, reach the
 * server's files and programs, or open a transaction that outlives it.
 *
 * The analysis depends on the text alone, so DbHandler keeps recent results in a small
 * bounded {@link SqlAnalysisCache} and scans each distinct statement text once; the
 * per-call check is then one bit test ({@link isPermitted}).
 */
import { EnvelopeValidationError, InvalidOperationError, type ErrorContext } from '@onex/core';
import { classifyStatement, STATEMENT_MODE, type SqlStatementClass, type StatementMode } from './sql-classes.js';

export type { SqlStatementClass } from './sql-classes.js';
export { STATEMENT_MODE, type StatementMode } from './sql-classes.js';

/** Injection-shaped SQL that is logged as a warning but still executed. */
export type SuspiciousPattern = 'semicolon_comment' | 'drop' | 'union_outside_subquery';

/** What the scanner learned about one SQL text. */
export interface SqlAnalysis {
  /** Highest `$n` placeholder outside quotes and comments; 0 when there is none. */
  readonly placeholderCount: number;
  /** True when a `;` is followed by anything but whitespace or comments. */
  readonly multipleStatements: boolean;
  readonly suspiciousPatterns: readonly SuspiciousPattern[];
  /**
   * The SQL with literals, quoted identifiers and comments blanked (`''`, `""`,
   * `/**\/`, `--`), whitespace collapsed: safe to log because no value survives.
   */
  readonly shape: string;
  /** What the statement does; the most dangerous construct found decides. */
  readonly statementClass: SqlStatementClass;
  /**
   * The keyword(s) or function that decided the class (`COPY`, `pg_read_file()`,
   * `WITH … DELETE`): identifiers from the SQL text, never a value.
   */
  readonly construct: string;
  /** Bit set of the {@link STATEMENT_MODE}s in which the statement may run. */
  readonly permits: number;
}

const IDENT_START = /[A-Za-z_\u0080-\uffff]/;
const IDENT_CHAR = /[A-Za-z0-9_$\u0080-\uffff]/;
const WHITESPACE = /\s/;
const PLACEHOLDER = /\$(\d+)/y;
const DOLLAR_TAG = /\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/y;
const WORD = /[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*/y;

function matchAt(pattern: RegExp, text: string, index: number): RegExpExecArray | null {
  pattern.lastIndex = index;
  return pattern.exec(text);
}

/** Index just past a quoted run starting at `start` (the opening quote). */
function skipQuoted(sql: string, start: number, quote: "'" | '"', backslashEscapes: boolean): number {
  let i = start + 1;
  while (i < sql.length) {
    const c = sql[i];
    if (backslashEscapes && c === '\\') i += 2;
    else if (c === quote && sql[i + 1] === quote) i += 2;
    else if (c === quote) return i + 1;
    else i += 1;
  }
  return sql.length;
}

/** Index just past a (possibly nested) block comment starting at `start`. */
function skipBlockComment(sql: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < sql.length) {
    if (sql.startsWith('/*', i)) {
      depth += 1;
      i += 2;
    } else if (sql.startsWith('*/', i)) {
      depth -= 1;
      i += 2;
      if (depth === 0) return i;
    } else i += 1;
  }
  return sql.length;
}

/** Scans `sql` once; never throws, whatever the input (unterminated quotes run to the end). */
export function analyzeSql(sql: string): SqlAnalysis {
  let placeholderCount = 0;
  let multipleStatements = false;
  let afterTerminator = false;
  let lastCode = '';
  let parenDepth = 0;
  const patterns = new Set<SuspiciousPattern>();
  const shape: string[] = [];
  // Code tokens for the classifier: unquoted words upper-cased, quoted identifiers as
  // `"` + their name, string literals as `'` + their text (needed for `LANGUAGE 'c'`),
  // punctuation as itself. Never leaves this function.
  const tokens: string[] = [];
  let unicodeIdentifier = false;

  // Any token after a `;` means a second statement.
  const token = (text: string) => {
    if (afterTerminator) multipleStatements = true;
    shape.push(text);
    lastCode = text.slice(-1);
  };

  let i = 0;
  while (i < sql.length) {
    const c = sql[i] as string;
    const prev = i > 0 ? (sql[i - 1] as string) : '';
    if (sql.startsWith('--', i)) {
      if (lastCode === ';') patterns.add('semicolon_comment');
      const end = sql.indexOf('\n', i);
      i = end === -1 ? sql.length : end;
      shape.push(' -- ');
    } else if (sql.startsWith('/*', i)) {
      i = skipBlockComment(sql, i);
      shape.push(' /**/ ');
    } else if (c === "'") {
      const end = skipQuoted(sql, i, "'", false);
      tokens.push(`'${sql.slice(i + 1, end - 1).replaceAll("''", "'")}`);
      i = end;
      token("''");
    } else if (c === '"') {
      const end = skipQuoted(sql, i, '"', false);
      // U&"..." spells a name with escapes the classifier cannot read: never trust one.
      if (sql[i - 1] === '&' && (sql[i - 2] === 'U' || sql[i - 2] === 'u') && !IDENT_CHAR.test(sql[i - 3] ?? '')) unicodeIdentifier = true;
      tokens.push(`"${sql.slice(i + 1, end - 1).replaceAll('""', '"')}`);
      i = end;
      token('""');
    } else if (c === '$' && !IDENT_CHAR.test(prev)) {
      const placeholder = matchAt(PLACEHOLDER, sql, i);
      const tag = placeholder ? null : matchAt(DOLLAR_TAG, sql, i);
      if (placeholder) {
        placeholderCount = Math.max(placeholderCount, Number(placeholder[1]));
        i += placeholder[0].length;
        tokens.push(placeholder[0]);
        token(placeholder[0]);
      } else if (tag) {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        i = close === -1 ? sql.length : close + tag[0].length;
        tokens.push("'$");
        token("''");
      } else {
        i += 1;
        token(c);
      }
    } else if (c === ';') {
      afterTerminator = true;
      lastCode = ';';
      shape.push(';');
      i += 1;
    } else if (WHITESPACE.test(c)) {
      if (shape.at(-1) !== ' ') shape.push(' ');
      i += 1;
    } else if (IDENT_START.test(c) && !IDENT_CHAR.test(prev)) {
      const word = (matchAt(WORD, sql, i) as RegExpExecArray)[0];
      i += word.length;
      if ((word === 'E' || word === 'e') && sql[i] === "'") {
        // E'...' escape string: backslash escapes the next character, including a quote.
        i = skipQuoted(sql, i, "'", true);
        tokens.push("'E");
        token("E''");
        continue;
      }
      const upper = word.toUpperCase();
      tokens.push(upper);
      if (upper === 'DROP') patterns.add('drop');
      if (upper === 'UNION' && parenDepth === 0) patterns.add('union_outside_subquery');
      token(word);
    } else {
      if (c === '(') parenDepth += 1;
      if (c === ')') parenDepth = Math.max(0, parenDepth - 1);
      if (c !== '&') tokens.push(c);
      i += 1;
      token(c);
    }
  }
  const verdict = classifyStatement(tokens, unicodeIdentifier);
  return {
    placeholderCount,
    multipleStatements,
    suspiciousPatterns: [...patterns],
    shape: shape.join('').replace(/\s+/g, ' ').trim(),
    statementClass: verdict.statementClass,
    construct: verdict.construct,
    permits: verdict.permits,
  };
}

/** Where a statement came from, for error messages: `sql` or `statements.2.sql`. */
export interface StatementLocation extends ErrorContext {
  readonly field: string;
}

/** Statement texts remembered by one {@link SqlAnalysisCache}. @default 512 */
export const DEFAULT_SQL_ANALYSIS_CACHE_SIZE = 512;
/**
 * Longer texts are analyzed every time instead of being remembered, so a cache full of
 * generated giant statements cannot hold much memory. @default 8192 characters
 */
export const MAX_CACHED_SQL_LENGTH = 8_192;

/**
 * Remembers the analysis of recent statement texts. Applications send the same few
 * statements again and again, and the analysis depends on the text alone, so scanning
 * each text once is enough. Bounded: when full, the oldest entry makes room.
 */
export class SqlAnalysisCache {
  readonly #entries = new Map<string, SqlAnalysis>();
  readonly #limit: number;

  constructor(limit = DEFAULT_SQL_ANALYSIS_CACHE_SIZE) {
    this.#limit = Math.max(1, limit);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The analysis of `sql`, computed once per distinct text while it stays cached. */
  analyze(sql: string): SqlAnalysis {
    const cached = this.#entries.get(sql);
    if (cached !== undefined) return cached;
    const analysis = freezeAnalysis(analyzeSql(sql));
    if (sql.length <= MAX_CACHED_SQL_LENGTH) {
      if (this.#entries.size >= this.#limit) this.#entries.delete(this.#entries.keys().next().value as string);
      this.#entries.set(sql, analysis);
    }
    return analysis;
  }
}

/** Cached analyses are shared between calls, so nobody may change them. */
function freezeAnalysis(analysis: SqlAnalysis): SqlAnalysis {
  Object.freeze(analysis.suspiciousPatterns);
  return Object.freeze(analysis);
}

/** True when `analysis` passes the checks of {@link guardStatement} for `parameterCount` parameters. */
export function isAcceptedStatement(analysis: SqlAnalysis, parameterCount: number): boolean {
  return !analysis.multipleStatements && analysis.placeholderCount === parameterCount;
}

/**
 * Throws the ENVELOPE_VALIDATION_ERROR that {@link guardStatement} raises for `analysis`,
 * or returns `analysis` when it passes.
 */
export function checkStatement(analysis: SqlAnalysis, parameterCount: number, where: StatementLocation): SqlAnalysis {
  if (isAcceptedStatement(analysis, parameterCount)) return analysis;
  const context = { correlationId: where.correlationId, operation: where.operation, handlerType: where.handlerType };
  if (analysis.multipleStatements) {
    throw new EnvelopeValidationError(`Payload field ${where.field} contains more than one SQL statement`, {
      ...context,
      details: { field: where.field },
      hint: 'Send one statement per envelope; to run several atomically use db.transaction with one entry per statement.',
    });
  }
  throw new EnvelopeValidationError(
    `Payload field ${where.field} uses ${analysis.placeholderCount} placeholder(s) ($1..$n) but ${parameterCount} parameter(s) were given`,
    {
      ...context,
      details: { field: where.field, placeholders: analysis.placeholderCount, parameters: parameterCount },
      hint: 'Pass exactly one value in "parameters" for each $1..$n placeholder, in order; never put values into the SQL text itself.',
    },
  );
}

/**
 * Analyzes one statement and rejects what must never reach the server: more than one
 * statement, or a placeholder count that differs from the parameter count.
 *
 * @returns the analysis, so the caller can log suspicious patterns.
 * @throws EnvelopeValidationError.
 */
export function guardStatement(sql: string, parameterCount: number, where: StatementLocation): SqlAnalysis {
  return checkStatement(analyzeSql(sql), parameterCount, where);
}

/** True when a statement with `analysis` may run in `mode` (one bit test: cheap enough for every call). */
export function isPermitted(analysis: SqlAnalysis, mode: StatementMode): boolean {
  return (analysis.permits & mode) !== 0;
}

/** Who is asking, for the error of {@link checkStatementMode}. */
export interface StatementGrant extends StatementLocation {
  /** Slug of the calling node; undefined for a direct call. */
  readonly nodeSlug: string | undefined;
}

const TRANSACTION_MODES: number = STATEMENT_MODE.readOnlyInTransaction | STATEMENT_MODE.readWriteInTransaction;
const READ_ONLY_MODES: number = STATEMENT_MODE.readOnly | STATEMENT_MODE.readOnlyInTransaction;

function hintForForbidden(construct: string): string {
  if (construct === 'COPY') return 'COPY can read and write server files or run programs and the driver cannot stream it; use INSERT … VALUES ($1, …) or SELECT with parameters.';
  if (construct === 'DO block') return 'A DO block runs procedural code the handler cannot inspect; send plain statements, or call a function created by a migration.';
  if (construct.endsWith('()')) return 'Functions that reach server files, programs, other servers, other sessions or server settings are never allowed from envelopes; do this with an administrative tool.';
  return 'This changes the server itself or loads code into it; do it with a migration or an administrative tool, not from an envelope.';
}

/**
 * Throws when `analysis` may not run in `mode`, or returns `analysis`. Names the construct,
 * never a value.
 * @throws EnvelopeValidationError for a statement the handler never runs (or runs only
 *   inside db.transaction); InvalidOperationError for a write from a read_only grant.
 */
export function checkStatementMode(analysis: SqlAnalysis, mode: StatementMode, where: StatementGrant): SqlAnalysis {
  if (isPermitted(analysis, mode)) return analysis;
  const context = { correlationId: where.correlationId, operation: where.operation, handlerType: where.handlerType };
  const { construct, statementClass } = analysis;
  const details = { field: where.field, statement_class: statementClass, construct };
  const subject = `Payload field ${where.field} uses ${construct}`;
  switch (statementClass) {
    case 'forbidden':
      throw new EnvelopeValidationError(`${subject}, which the db handler never runs`, { ...context, details, hint: hintForForbidden(construct) });
    case 'transaction_control':
      throw new EnvelopeValidationError(`${subject}: transaction control is not allowed in a statement`, {
        ...context,
        details,
        hint: 'A transaction left open would leak to the next envelope on the pooled connection; send the statements together as db.transaction {"statements": [...]}, which begins, commits and rolls back for you.',
      });
    case 'session':
      throw new EnvelopeValidationError(`${subject}, which changes session state that would leak to the next envelope on the pooled connection`, {
        ...context,
        details,
        hint: 'Inside db.transaction use SET LOCAL … (it ends with the transaction); set lasting settings on the database role or in the handler config, not from envelopes.',
      });
    default:
      break;
  }
  if ((mode & READ_ONLY_MODES) !== 0 && (analysis.permits & (mode << 1)) !== 0) {
    const node = where.nodeSlug === undefined ? 'the caller' : `node '${where.nodeSlug}'`;
    throw new InvalidOperationError(`${subject}, which writes, but ${node} has read_only access to ${where.operation ?? 'the db handler'}`, {
      ...context,
      details: { ...details, access: 'read_only', ...(where.nodeSlug === undefined ? {} : { node: where.nodeSlug }) },
      hint: "If the node should write, declare `access: read_write` on its io_operations entry for the db handler (in code: EffectNode's access option, e.g. { 'db.execute': 'read_write' }).",
    });
  }
  const inTransaction = (mode & TRANSACTION_MODES) !== 0;
  throw new EnvelopeValidationError(
    inTransaction ? `${subject}, which is not allowed here` : `${subject}, which only takes effect inside a transaction`,
    {
      ...context,
      details,
      hint: inTransaction
        ? 'Drop the statement or change the grant of the calling node.'
        : 'Send it as one of the statements of db.transaction, before the statements it should affect.',
    },
  );
}
