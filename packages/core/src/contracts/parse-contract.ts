/**
 * Contract parsing entry points: YAML text in, a frozen contract (plus warnings) out, or
 * every problem found at once. Core never reads files: the caller passes the text and a
 * `source` label (usually the path) used in messages.
 */
import type { z } from 'zod';
import { ContractValidationError, type ContractIssue } from '../errors/contract-validation-error.js';
import { nodeContractRules, runtimeHostRules } from './contract-rules.js';
import { deepFreeze } from './deep-freeze.js';
import { finalizeIssues, isRecord, type DraftIssue, type Locate } from './draft-issue.js';
import { nodeContractSchema, type NodeContract } from './node-contract-schema.js';
import { runtimeHostContractSchema, type RuntimeHostContract } from './runtime-host-contract-schema.js';
import type { HandlerCatalog } from './handler-catalog.js';
import { checkSchemaVersion } from './schema-version.js';
import { readYamlSource } from './yaml-source.js';
import { draftsFromZodError } from './zod-issues.js';

/** A successfully parsed contract and the warnings found on the way. */
export interface ParseResult<T> {
  readonly contract: T;
  readonly warnings: readonly ContractIssue[];
}

/** The outcome of validating a contract without throwing. */
export type ValidationResult<T> =
  | { readonly ok: true; readonly contract: T; readonly warnings: readonly ContractIssue[] }
  /** `issues` holds every error and warning, in the order they appear in the text. */
  | { readonly ok: false; readonly issues: readonly ContractIssue[] };

export interface ParseNodeContractOptions {
  /** Label for the text in issues and errors, usually its file path. */
  readonly source?: string | undefined;
}

export interface ValidateNodeContractOptions extends ParseNodeContractOptions {
  /**
   * When given, each io operation must be one its handler offers
   * (CONTRACT_UNKNOWN_OPERATION) and its type one the catalog has.
   */
  readonly catalog?: HandlerCatalog | undefined;
  /**
   * The handler types the runtime contract enables; when given, an io_operations entry of
   * another type is CONTRACT_HANDLER_NOT_ENABLED (the node could never call it).
   */
  readonly enabledHandlers?: readonly string[] | undefined;
}

export interface ParseRuntimeHostContractOptions extends ParseNodeContractOptions {
  /**
   * The handler types this host can run and their config schemas (the host builds it
   * from its handler registry). A type not in it is CONTRACT_UNKNOWN_HANDLER_TYPE.
   */
  readonly catalog: HandlerCatalog;
  /**
   * Load for development: accept dev-only handlers (`local`) and downgrade literal
   * credentials to warnings. Only the `dev` command and tests set this; `run` refuses both.
   * @default false
   */
  readonly allowDevHandlers?: boolean | undefined;
}

type Rules = (raw: unknown, locate: Locate) => DraftIssue[];

function validate<T>(text: string, source: string | undefined, schema: z.ZodType<T>, rules: Rules): ValidationResult<T> {
  const read = readYamlSource(text);
  if (!read.ok) return { ok: false, issues: finalizeIssues(read.issues, source, undefined) };
  const { value, locate } = read.source;
  const finish = (drafts: readonly DraftIssue[], contract?: T): ValidationResult<T> => {
    const issues = finalizeIssues([...read.warnings, ...drafts], source, locate);
    if (contract === undefined || issues.some((issue) => issue.severity === 'error')) return { ok: false, issues };
    return { ok: true, contract: deepFreeze(contract), warnings: issues };
  };

  if (!isRecord(value)) {
    const empty = value === null || value === undefined;
    return finish([
      {
        ruleId: 'CONTRACT_NOT_A_MAPPING',
        severity: 'error',
        message: empty ? 'The contract is empty' : `The contract must be a YAML mapping at the top level, got ${Array.isArray(value) ? 'a list' : `a ${typeof value}`}`,
        hint: 'Start the contract with top-level keys, e.g. "schema_version: \\"1.0.0\\"" followed by the contract body.',
        position: { line: 1, column: 1 },
      },
    ]);
  }

  const versionIssues = checkSchemaVersion(value);
  // Another major has other fields and rules: checking against ours would only add noise.
  if (versionIssues.some((issue) => issue.severity === 'error')) return finish(versionIssues);

  const parsed = schema.safeParse(value);
  const drafts = [...versionIssues, ...(parsed.success ? [] : draftsFromZodError(parsed.error, value, schema)), ...rules(value, locate)];
  return finish(drafts, parsed.success ? parsed.data : undefined);
}

function unwrap<T>(result: ValidationResult<T>, source: string | undefined): ParseResult<T> {
  if (!result.ok) throw new ContractValidationError(result.issues, source);
  return { contract: result.contract, warnings: result.warnings };
}

const schemas = new WeakMap<HandlerCatalog, ReturnType<typeof runtimeHostContractSchema>>();

/** The contract schema of a catalog, built once per catalog object. */
function schemaFor(catalog: HandlerCatalog): ReturnType<typeof runtimeHostContractSchema> {
  let schema = schemas.get(catalog);
  if (schema === undefined) {
    schema = runtimeHostContractSchema(catalog);
    schemas.set(catalog, schema);
  }
  return schema;
}

/** Validates a runtime host contract and reports every problem instead of throwing. */
export function validateRuntimeHostContract(text: string, options: ParseRuntimeHostContractOptions): ValidationResult<RuntimeHostContract> {
  const ruleOptions = { allowDevHandlers: options.allowDevHandlers ?? false, catalog: options.catalog };
  return validate(text, options.source, schemaFor(options.catalog), (raw, locate) => runtimeHostRules(raw, ruleOptions, locate));
}

/**
 * Parses a runtime host contract.
 * @throws ContractValidationError carrying every error and warning found.
 */
export function parseRuntimeHostContract(text: string, options: ParseRuntimeHostContractOptions): ParseResult<RuntimeHostContract> {
  return unwrap(validateRuntimeHostContract(text, options), options.source);
}

/** Validates a node contract and reports every problem instead of throwing. */
export function validateNodeContract(text: string, options: ValidateNodeContractOptions = {}): ValidationResult<NodeContract> {
  const handlers = { catalog: options.catalog, enabledHandlers: options.enabledHandlers };
  return validate(text, options.source, nodeContractSchema, (raw, locate) => nodeContractRules(raw, locate, handlers));
}

/**
 * Parses a node contract.
 * @throws ContractValidationError carrying every error and warning found.
 */
export function parseNodeContract(text: string, options: ValidateNodeContractOptions = {}): ParseResult<NodeContract> {
  return unwrap(validateNodeContract(text, options), options.source);
}
