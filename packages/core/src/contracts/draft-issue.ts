/**
 * The intermediate form of a contract issue: what the checks produce before the issue is
 * tied to a file position. Checks speak in field paths; one place turns paths into
 * `file:line:col` so every rule gets locations for free.
 */
import type { ContractIssue } from '../errors/contract-validation-error.js';
import type { ContractRuleId } from './contract-rule-ids.js';

/** A path into the parsed contract: mapping keys and list indexes. */
export type ContractPath = readonly (string | number)[];

/** 1-based position in the contract text. */
export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

/**
 * Which end of a `key: value` pair an issue points at: the key for unknown or missing
 * fields (the value may not exist), the value for bad values.
 */
export type LocateTarget = 'key' | 'value';

export type Locate = (path: ContractPath, target: LocateTarget) => SourcePosition | undefined;

export interface DraftIssue {
  readonly ruleId: ContractRuleId;
  readonly severity: 'error' | 'warning';
  readonly message: string;
  readonly hint: string;
  readonly path?: ContractPath | undefined;
  /** @default 'value' */
  readonly target?: LocateTarget | undefined;
  /** Known position; wins over `path` (YAML syntax errors have a position but no path). */
  readonly position?: SourcePosition | undefined;
}

/** `runtime.handlers[1].type`; undefined for the document root. */
export function formatPath(path: ContractPath): string | undefined {
  let out = '';
  for (const segment of path) {
    out += typeof segment === 'number' ? `[${segment}]` : out === '' ? segment : `.${segment}`;
  }
  return out === '' ? undefined : out;
}

/** The value at `path` in plain parsed data, or undefined when any step is missing. */
export function valueAt(root: unknown, path: ContractPath): unknown {
  let current = root;
  for (const segment of path) {
    if (typeof segment === 'number') {
      if (!Array.isArray(current)) return undefined;
      current = current[segment];
    } else {
      if (!isRecord(current) || !Object.hasOwn(current, segment)) return undefined;
      current = current[segment];
    }
  }
  return current;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Fields whose values are never echoed in messages: issues leave the process (CLI output,
 * logs, CI annotations) and must not carry credentials.
 */
const SENSITIVE_FIELDS = new Set(['token', 'password', 'url', 'secret_ref', 'bootstrap_servers']);

export function isSensitivePath(path: ContractPath): boolean {
  return path.some((segment) => typeof segment === 'string' && SENSITIVE_FIELDS.has(segment));
}

/** A short description of a value for `got ...` in messages. */
export function describeValue(value: unknown, sensitive = false): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') {
    if (sensitive) return 'a string';
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  }
  if (sensitive) return `a ${typeof value}`;
  return String(value);
}

/** Ties drafts to positions, drops exact repeats and orders them as they appear in the file. */
export function finalizeIssues(drafts: readonly DraftIssue[], source: string | undefined, locate: Locate | undefined): ContractIssue[] {
  const seen = new Set<string>();
  const located: { issue: ContractIssue; order: number }[] = [];
  for (const draft of drafts) {
    const pathText = draft.path ? formatPath(draft.path) : undefined;
    const key = `${draft.ruleId}|${pathText ?? ''}|${draft.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const position = draft.position ?? (draft.path && locate ? locate(draft.path, draft.target ?? 'value') : undefined);
    const issue: ContractIssue = {
      ruleId: draft.ruleId,
      severity: draft.severity,
      message: draft.message,
      hint: draft.hint,
      ...(source !== undefined ? { file: source } : {}),
      ...(position ? { line: position.line, column: position.column } : {}),
      ...(pathText !== undefined ? { path: pathText } : {}),
    };
    located.push({ issue, order: located.length });
  }
  // Reading order makes a long list easy to work through top to bottom in an editor.
  located.sort((a, b) => {
    const la = a.issue.line ?? Number.MAX_SAFE_INTEGER;
    const lb = b.issue.line ?? Number.MAX_SAFE_INTEGER;
    if (la !== lb) return la - lb;
    const ca = a.issue.column ?? 0;
    const cb = b.issue.column ?? 0;
    return ca !== cb ? ca - cb : a.order - b.order;
  });
  return located.map((entry) => entry.issue);
}
