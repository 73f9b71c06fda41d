/**
 * Handler contract parsing: `handler_contract.yaml` text in, a frozen HandlerContract (or
 * every problem found) out. Mirrors parse-contract.ts; kept apart so the handler contract
 * can evolve without touching the runtime and node contract flow.
 */
import { ContractValidationError } from '../errors/contract-validation-error.js';
import { CONTRACT_RULES } from './contract-rule-ids.js';
import { deepFreeze } from './deep-freeze.js';
import { finalizeIssues, isRecord, type DraftIssue } from './draft-issue.js';
import { HANDLER_CONTRACT_FORBIDDEN_FIELDS, handlerContractSchema, type HandlerContract } from './handler-contract-schema.js';
import type { ParseNodeContractOptions, ParseResult, ValidationResult } from './parse-contract.js';
import { checkSchemaVersion } from './schema-version.js';
import { readYamlSource } from './yaml-source.js';
import { draftsFromZodError } from './zod-issues.js';

export type ParseHandlerContractOptions = ParseNodeContractOptions;

const FORBIDDEN_HINTS = {
  HANDLER_CONTRACT_FORBIDDEN_DECLARATION:
    'Remove it. Contract → Descriptor is one-way; handlers never publish, dispatch or orchestrate: they return results to the runtime, and routing and publishing belong to node contracts and the runtime host.',
  HANDLER_CONTRACT_CODE_REFERENCE:
    'Remove it. The implementation is looked up by handler_type among the handlers this host ships; a contract never names code to load.',
} as const;

/** Forbidden fields get their own rule instead of a generic unknown-field error. */
function forbiddenFieldDrafts(raw: Record<string, unknown>): DraftIssue[] {
  return Object.keys(raw).flatMap((key): DraftIssue[] => {
    const ruleId = HANDLER_CONTRACT_FORBIDDEN_FIELDS[key];
    if (ruleId === undefined) return [];
    return [{ ruleId, severity: 'error', message: `"${key}" is not allowed in a handler contract: ${CONTRACT_RULES[ruleId]}`, hint: FORBIDDEN_HINTS[ruleId], path: [key], target: 'key' }];
  });
}

/** Validates a handler contract and reports every problem instead of throwing. */
export function validateHandlerContract(text: string, options: ParseHandlerContractOptions = {}): ValidationResult<HandlerContract> {
  const { source } = options;
  const read = readYamlSource(text);
  if (!read.ok) return { ok: false, issues: finalizeIssues(read.issues, source, undefined) };
  const { value, locate } = read.source;
  const finish = (drafts: readonly DraftIssue[], contract?: HandlerContract): ValidationResult<HandlerContract> => {
    const issues = finalizeIssues([...read.warnings, ...drafts], source, locate);
    if (contract === undefined || issues.some((issue) => issue.severity === 'error')) return { ok: false, issues };
    return { ok: true, contract: deepFreeze(contract), warnings: issues };
  };
  if (!isRecord(value)) {
    return finish([
      {
        ruleId: 'CONTRACT_NOT_A_MAPPING',
        severity: 'error',
        message: value === null || value === undefined ? 'The handler contract is empty' : 'The handler contract must be a YAML mapping at the top level',
        hint: 'Start with top-level keys: handler_name, handler_version, handler_type, handler_type_category, capabilities, commands_accepted (see docs/templates/).',
        position: { line: 1, column: 1 },
      },
    ]);
  }
  const versionIssues = checkSchemaVersion(value);
  if (versionIssues.some((issue) => issue.severity === 'error')) return finish(versionIssues);
  const forbidden = forbiddenFieldDrafts(value);
  // Forbidden keys already have their issue; the schema sees the rest so it does not add
  // a second, less helpful unknown-field error for the same key.
  const rest = Object.fromEntries(Object.entries(value).filter(([key]) => HANDLER_CONTRACT_FORBIDDEN_FIELDS[key] === undefined));
  const parsed = handlerContractSchema.safeParse(rest);
  const drafts = [...versionIssues, ...forbidden, ...(parsed.success ? [] : draftsFromZodError(parsed.error, rest, handlerContractSchema))];
  return finish(drafts, parsed.success ? parsed.data : undefined);
}

/**
 * Parses a handler contract.
 * @throws ContractValidationError carrying every error and warning found.
 */
export function parseHandlerContract(text: string, options: ParseHandlerContractOptions = {}): ParseResult<HandlerContract> {
  const result = validateHandlerContract(text, options);
  if (!result.ok) throw new ContractValidationError(result.issues, options.source);
  return { contract: result.contract, warnings: result.warnings };
}

/** 1-based line and column of a field in contract text. */
export interface ContractPosition {
  readonly line: number;
  readonly column: number;
}

/**
 * A lookup from field paths (`['runtime', 'handlers', 0, 'type']`) to positions in a
 * contract's text, for checks that run after parsing (in infra, where the handler source
 * is resolved) yet should still report `file:line`. Undefined for text that is not YAML.
 */
export function contractLocator(text: string): ((path: readonly (string | number)[], target?: 'key' | 'value') => ContractPosition | undefined) | undefined {
  const read = readYamlSource(text);
  if (!read.ok) return undefined;
  const { locate } = read.source;
  return (path, target = 'value') => locate(path, target);
}
