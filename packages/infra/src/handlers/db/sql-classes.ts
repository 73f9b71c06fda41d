/**
 * Statement classes of the db handler: from the code tokens of one statement (the
 * sql-guard lexer has already dropped comments and told quoted text from keywords),
 * decide what the statement does, which construct decided it, and in which
 * {@link STATEMENT_MODE}s it may run.
 *
 * The rules are deliberately conservative: a read is a statement that starts like a read
 * and mentions nothing that writes; anything unknown is a write. The server enforces
 * read-only on its side too (see pg-executor.ts), so a write hidden where the lexer
 * cannot see it (inside a user-defined function) still fails for a read-only node.
 */

/**
 * - `read`: SELECT / VALUES / TABLE / SHOW / EXPLAIN / WITH without anything that writes.
 * - `write`: changes data or schema (INSERT, a data-modifying WITH, `nextval()`, DDL, …).
 * - `transaction_local`: `SET LOCAL`, `SET CONSTRAINTS`, `SET TRANSACTION`, a temporary
 *   table `ON COMMIT DROP`: ends with the transaction, so it may run inside `db.transaction` only.
 * - `session`: changes the session for whoever uses the pooled connection next (`SET`,
 *   `RESET`, `LISTEN`, `PREPARE`, cursors, session advisory locks, temporary tables).
 * - `transaction_control`: `BEGIN`, `COMMIT`, `SAVEPOINT`, …: the handler owns transactions.
 * - `forbidden`: reaches beyond the database (server files, programs, other servers,
 *   server configuration) or cannot run through the driver (`COPY`, `DO`, …).
 */
export type SqlStatementClass = 'read' | 'write' | 'transaction_local' | 'session' | 'transaction_control' | 'forbidden';

/** Where a statement is about to run, one bit each; {@link SqlAnalysis.permits} is a set of them. */
export const STATEMENT_MODE = {
  /** db.query / db.execute for a node granted read_only. */
  readOnly: 1,
  /** db.query / db.execute for a node granted read_write (or a direct call). */
  readWrite: 2,
  /** One statement of db.transaction, read_only grant. */
  readOnlyInTransaction: 4,
  /** One statement of db.transaction, read_write grant. */
  readWriteInTransaction: 8,
} as const;
export type StatementMode = (typeof STATEMENT_MODE)[keyof typeof STATEMENT_MODE];

const { readOnly, readWrite, readOnlyInTransaction, readWriteInTransaction } = STATEMENT_MODE;
const PERMITS: Readonly<Record<SqlStatementClass, number>> = {
  read: readOnly | readWrite | readOnlyInTransaction | readWriteInTransaction,
  write: readWrite | readWriteInTransaction,
  transaction_local: readOnlyInTransaction | readWriteInTransaction,
  session: 0,
  transaction_control: 0,
  forbidden: 0,
};
/** Worse classes win when a statement mixes several (a SELECT calling pg_read_file()). */
const SEVERITY: Readonly<Record<SqlStatementClass, number>> = {
  read: 0,
  transaction_local: 1,
  write: 2,
  session: 3,
  transaction_control: 4,
  forbidden: 5,
};

export interface StatementVerdict {
  readonly statementClass: SqlStatementClass;
  readonly construct: string;
  readonly permits: number;
}

/**
 * Functions that read or write the server's files, run programs, talk to other servers,
 * signal other sessions, change server configuration or run SQL given as text (which
 * would hide it from this classifier).
 */
const FORBIDDEN_FUNCTIONS: ReadonlySet<string> = new Set([
  'pg_read_file', 'pg_read_binary_file', 'pg_stat_file', 'pg_ls_dir',
  'lo_import', 'lo_export',
  'pg_file_write', 'pg_file_rename', 'pg_file_unlink', 'pg_file_sync', 'pg_file_read', 'pg_file_length', 'pg_logdir_ls',
  'pg_reload_conf', 'pg_rotate_logfile', 'pg_terminate_backend', 'pg_cancel_backend', 'pg_promote',
  'pg_switch_wal', 'pg_create_restore_point', 'pg_backup_start', 'pg_backup_stop', 'pg_start_backup', 'pg_stop_backup',
  'pg_wal_replay_pause', 'pg_wal_replay_resume', 'pg_log_backend_memory_contexts', 'pg_import_system_collations',
  'query_to_xml', 'query_to_xmlschema', 'query_to_xml_and_xmlschema', 'cursor_to_xml', 'cursor_to_xmlschema',
]);
/** Families of such functions: `pg_ls_logdir`, `dblink_exec`, `pg_replication_origin_create`, … */
const FORBIDDEN_FUNCTION_PREFIXES = ['pg_ls_', 'pg_file_', 'dblink', 'pg_replication_origin_', 'pg_logical_', 'pg_background_'];
const FORBIDDEN_FUNCTION_SUFFIX = '_replication_slot';

/** Functions whose effect outlives the envelope on its pooled connection. */
const SESSION_FUNCTIONS: ReadonlySet<string> = new Set([
  'set_config',
  'pg_advisory_lock', 'pg_advisory_lock_shared', 'pg_try_advisory_lock', 'pg_try_advisory_lock_shared',
  'pg_advisory_unlock', 'pg_advisory_unlock_shared', 'pg_advisory_unlock_all',
]);

/** Built-ins that write although they may appear in a SELECT. */
const WRITE_FUNCTIONS: ReadonlySet<string> = new Set([
  'nextval', 'setval', 'pg_notify',
  'lo_create', 'lo_creat', 'lo_unlink', 'lo_put', 'lo_from_bytea', 'lowrite', 'lo_truncate', 'lo_truncate64',
]);

const READ_LEADS: ReadonlySet<string> = new Set(['SELECT', 'WITH', 'VALUES', 'TABLE', 'SHOW', 'EXPLAIN']);
/** Words that make a read-looking statement write (a data-modifying WITH, SELECT … INTO, FOR UPDATE). */
const WRITE_WORDS_IN_READ: ReadonlySet<string> = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE', 'INTO', 'CREATE']);
const TRANSACTION_CONTROL: ReadonlySet<string> = new Set(['BEGIN', 'START', 'COMMIT', 'END', 'ROLLBACK', 'ABORT', 'SAVEPOINT', 'RELEASE']);
const SESSION_LEADS: ReadonlySet<string> = new Set([
  'RESET', 'LISTEN', 'UNLISTEN', 'PREPARE', 'EXECUTE', 'DEALLOCATE', 'DECLARE', 'DISCARD', 'CLOSE', 'FETCH', 'MOVE',
]);
const FORBIDDEN_LEADS: ReadonlySet<string> = new Set(['DO', 'COPY', 'LOAD', 'CHECKPOINT']);
/** What CREATE may not create: code in the server, or links to other servers. */
const FORBIDDEN_CREATE: ReadonlySet<string> = new Set(['EXTENSION', 'LANGUAGE', 'SERVER', 'FOREIGN', 'SUBSCRIPTION', 'EVENT']);
/** Languages whose functions run with no more power than the caller has. */
const TRUSTED_LANGUAGES: ReadonlySet<string> = new Set(['sql', 'plpgsql', 'plperl', 'pltcl']);
/** Settings a read-only node may not touch even with SET LOCAL: they would lift read-only or switch roles. */
const READ_ONLY_GUARDS: ReadonlySet<string> = new Set([
  'transaction_read_only', 'default_transaction_read_only', 'role', 'session', 'session_authorization',
]);

/** A verdict, remembering the worst one seen so far. */
class Verdicts {
  statementClass: SqlStatementClass = 'read';
  construct = '';
  permits = PERMITS.read;

  add(statementClass: SqlStatementClass, construct: string, permits = PERMITS[statementClass]): void {
    if (this.construct !== '' && SEVERITY[statementClass] <= SEVERITY[this.statementClass]) {
      // Same class again: keep the stricter permission set.
      if (statementClass === this.statementClass) this.permits &= permits;
      return;
    }
    this.statementClass = statementClass;
    this.construct = construct;
    this.permits = permits;
  }
}

function isWord(token: string | undefined): token is string {
  return token !== undefined && /^[A-Z_\u0080-\uffff]/i.test(token) && token[0] !== "'" && token[0] !== '"';
}

/** The name a token spells as an identifier: unquoted words fold to lower case, quoted ones keep theirs. */
function identifier(token: string): string | undefined {
  if (token.startsWith('"')) return token.slice(1);
  if (isWord(token)) return token.toLowerCase();
  return undefined;
}

function forbiddenFunction(name: string): boolean {
  return (
    FORBIDDEN_FUNCTIONS.has(name) ||
    FORBIDDEN_FUNCTION_PREFIXES.some((prefix) => name.startsWith(prefix)) ||
    name.endsWith(FORBIDDEN_FUNCTION_SUFFIX)
  );
}

/**
 * Classifies one statement from its code tokens. `unicodeIdentifier`: the text uses a
 * `U&"…"` identifier, whose real name the lexer does not decode.
 */
export function classifyStatement(tokens: readonly string[], unicodeIdentifier: boolean): StatementVerdict {
  const verdict = new Verdicts();
  if (unicodeIdentifier) verdict.add('forbidden', 'U&"…" identifier');


  classifyLead(tokens, verdict);
  // Functions are matched wherever their name appears, called or not: an operator or
  // aggregate can name one without parentheses (CREATE OPERATOR … FUNCTION = f).
  for (const token of tokens) {
    const name = identifier(token);
    if (name === undefined) continue;
    if (forbiddenFunction(name)) verdict.add('forbidden', `${name}()`);
    else if (SESSION_FUNCTIONS.has(name)) verdict.add('session', `${name}()`);
    else if (WRITE_FUNCTIONS.has(name)) verdict.add('write', `${name}()`);
  }
  return verdict;
}

/** The statement's own keywords: what it is (SELECT, COPY, SET LOCAL, CREATE EXTENSION, …). */
function classifyLead(tokens: readonly string[], verdict: Verdicts): void {
  let start = 0;
  while (tokens[start] === '(') start += 1;
  const lead = tokens[start];
  if (lead === undefined) return;
  const next = tokens[start + 1];
  const rest = tokens.slice(start + 1);

  if (!isWord(lead)) verdict.add('write', 'statement');
  else if (READ_LEADS.has(lead)) classifyRead(lead, rest, verdict);
  else if (FORBIDDEN_LEADS.has(lead)) verdict.add('forbidden', lead === 'DO' ? 'DO block' : lead);
  else if (lead === 'PREPARE' && next === 'TRANSACTION') verdict.add('transaction_control', 'PREPARE TRANSACTION');
  else if (TRANSACTION_CONTROL.has(lead)) verdict.add('transaction_control', lead);
  else if (lead === 'SET') classifySet(rest, verdict);
  else if (SESSION_LEADS.has(lead)) verdict.add('session', lead === 'DECLARE' ? 'DECLARE … CURSOR' : lead);
  else if (lead === 'CREATE') classifyCreate(rest, verdict);
  else if (lead === 'ALTER') classifyAlter(rest, verdict);
  else verdict.add('write', lead);
}

function classifyRead(lead: string, rest: readonly string[], verdict: Verdicts): void {
  for (let i = 0; i < rest.length; i += 1) {
    const word = rest[i] as string;
    if (word === 'INTO' && (rest[i + 1] === 'TEMP' || rest[i + 1] === 'TEMPORARY')) {
      verdict.add('session', 'SELECT … INTO TEMP');
    } else if (WRITE_WORDS_IN_READ.has(word)) {
      verdict.add('write', `${lead} … ${word}`);
    } else if (word === 'SHARE' && (rest[i - 1] === 'FOR' || rest[i - 1] === 'KEY')) {
      verdict.add('write', `${lead} … FOR SHARE`);
    }
  }
}

function classifySet(rest: readonly string[], verdict: Verdicts): void {
  const scope = rest[0];
  if (scope === 'LOCAL') {
    const name = rest[1] === undefined ? '' : (identifier(rest[1]) ?? '');
    if (READ_ONLY_GUARDS.has(name)) verdict.add('transaction_local', `SET LOCAL ${name}`, readWriteInTransaction);
    else verdict.add('transaction_local', 'SET LOCAL');
  } else if (scope === 'TRANSACTION') {
    // Could switch a read-only transaction to read write before its first query.
    verdict.add('transaction_local', 'SET TRANSACTION', readWriteInTransaction);
  } else if (scope === 'CONSTRAINTS') {
    verdict.add('transaction_local', 'SET CONSTRAINTS');
  } else {
    verdict.add('session', 'SET');
  }
}

function classifyCreate(rest: readonly string[], verdict: Verdicts): void {
  let i = 0;
  let temporary = false;
  // CREATE [OR REPLACE] [GLOBAL|LOCAL] [TEMP|TEMPORARY|UNLOGGED] [TRUSTED] [PROCEDURAL] <kind>
  for (;;) {
    const word = rest[i];
    if (word === 'OR' && rest[i + 1] === 'REPLACE') i += 2;
    else if (word === 'GLOBAL' || word === 'LOCAL' || word === 'UNLOGGED' || word === 'TRUSTED' || word === 'PROCEDURAL') i += 1;
    else if (word === 'TEMP' || word === 'TEMPORARY') {
      temporary = true;
      i += 1;
    } else break;
  }
  const kind = rest[i] ?? '';
  if (FORBIDDEN_CREATE.has(kind)) {
    verdict.add('forbidden', `CREATE ${kind === 'FOREIGN' || kind === 'EVENT' ? `${kind} ${rest[i + 1] ?? ''}`.trim() : kind}`);
  } else if (kind === 'USER' && rest[i + 1] === 'MAPPING') {
    verdict.add('forbidden', 'CREATE USER MAPPING');
  } else if (kind === 'FUNCTION' || kind === 'PROCEDURE') {
    const at = rest.indexOf('LANGUAGE', i);
    const language = at === -1 ? 'sql' : rest[at + 1];
    const name = language === undefined ? undefined : language.startsWith("'") ? language.slice(1) : identifier(language);
    if (name === undefined || !TRUSTED_LANGUAGES.has(name.toLowerCase())) {
      verdict.add('forbidden', `CREATE ${kind} with an untrusted LANGUAGE`);
    } else verdict.add('write', `CREATE ${kind}`);
  } else if (temporary) {
    // A temporary object lives as long as the session unless it is dropped at commit.
    const onCommitDrop = rest.some((word, at) => word === 'ON' && rest[at + 1] === 'COMMIT' && rest[at + 2] === 'DROP');
    if (onCommitDrop) verdict.add('write', 'CREATE TEMPORARY … ON COMMIT DROP', readWriteInTransaction);
    else verdict.add('session', 'CREATE TEMPORARY');
  } else {
    verdict.add('write', `CREATE${kind === '' ? '' : ` ${kind}`}`);
  }
}

function classifyAlter(rest: readonly string[], verdict: Verdicts): void {
  const kind = rest[0] ?? '';
  if (kind === 'SYSTEM') verdict.add('forbidden', 'ALTER SYSTEM');
  else if (kind === 'EXTENSION') verdict.add('forbidden', 'ALTER EXTENSION');
  else if ((kind === 'ROLE' || kind === 'USER' || kind === 'DATABASE') && (rest.includes('SET') || rest.includes('RESET'))) {
    // Per-role and per-database settings change every future session (search_path, …).
    verdict.add('forbidden', `ALTER ${kind} … SET`);
  } else verdict.add('write', `ALTER${kind === '' ? '' : ` ${kind}`}`);
}
