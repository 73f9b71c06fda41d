import type { ContractRuleId } from '../contracts/contract-rule-ids.js';
import type { JsonObject } from '../json.js';
import type { OnexErrorCode } from './codes.js';
import { RuntimeHostError } from './runtime-errors.js';

/** One problem found in a contract, structured so tools and people can act on it. */
export interface ContractIssue {
  /** Stable identifier of the rule that was broken, e.g. `CONTRACT_UNKNOWN_FIELD`: one of CONTRACT_RULES, so an ad-hoc id does not compile. */
  readonly ruleId: ContractRuleId;
  readonly severity: 'error' | 'warning';
  readonly message: string;
  /** What to change to fix it. */
  readonly hint: string;
  /** The contract's source (file path or a label the caller chose). */
  readonly file?: string | undefined;
  /** 1-based line and column in the source, where known. */
  readonly line?: number | undefined;
  readonly column?: number | undefined;
  /** Dotted path of the offending field, e.g. `runtime.handlers[1].type`. */
  readonly path?: string | undefined;
}

/** `file:line:col` (or as much of it as is known). */
export function formatIssueLocation(issue: ContractIssue): string {
  const parts = [issue.file ?? '<contract>'];
  if (issue.line !== undefined) parts.push(String(issue.line));
  if (issue.line !== undefined && issue.column !== undefined) parts.push(String(issue.column));
  return parts.join(':');
}

/** One human-readable line per issue: `file:line:col error RULE_ID message (hint: ...)`. */
export function formatIssue(issue: ContractIssue): string {
  const where = issue.path ? ` at ${issue.path}` : '';
  return `${formatIssueLocation(issue)} ${issue.severity} ${issue.ruleId}${where}: ${issue.message}\n  hint: ${issue.hint}`;
}

function issueToJson(issue: ContractIssue): JsonObject {
  const out: JsonObject = { rule_id: issue.ruleId, severity: issue.severity, message: issue.message, remediation_hint: issue.hint };
  if (issue.file !== undefined) out.file = issue.file;
  if (issue.line !== undefined) out.line = issue.line;
  if (issue.column !== undefined) out.column = issue.column;
  if (issue.path !== undefined) out.path = issue.path;
  return out;
}

/** A contract failed validation. Carries every problem found, not only the first. */
export class ContractValidationError extends RuntimeHostError {
  static override readonly defaultCode: OnexErrorCode = 'CONTRACT_VALIDATION_ERROR';

  readonly issues: readonly ContractIssue[];

  constructor(issues: readonly ContractIssue[], source?: string) {
    const errors = issues.filter((i) => i.severity === 'error');
    const head = `Contract ${source ?? '<contract>'} failed validation with ${errors.length} error(s)`;
    super(`${head}:\n${errors.map(formatIssue).join('\n')}`, {
      details: { issues: issues.map(issueToJson) },
      hint: errors[0]?.hint ?? 'Fix the listed problems and validate again.',
    });
    this.issues = issues;
  }
}
