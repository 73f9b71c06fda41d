/**
 * Turns zod issues into contract drafts: one rule id per kind of problem, messages that
 * name the field, and hints that say what to write instead (the allowed fields, the
 * allowed values, the expected type).
 */
import { z } from 'zod';
import { isContractRuleId } from './contract-rule-ids.js';
import { isPlaceholder } from './secret-ref.js';
import { describeValue, formatPath, isRecord, isSensitivePath, valueAt, type ContractPath, type DraftIssue } from './draft-issue.js';

type ZodIssue = z.core.$ZodIssue;

/** Fields reserved by the specification for later milestones get a specific explanation. */
const RESERVED_FIELDS: Readonly<Record<string, string>> = {
  tenant_id: 'tenant_id is reserved for multi-tenancy, which this runtime does not support yet; remove it.',
};

const EXPECTED_PHRASES: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
};

/** For a handler config field, how to set it from the environment instead. */
function handlerOverrideHint(path: ContractPath, raw: unknown): string {
  const [runtime, handlers, index, config, key] = path;
  if (runtime !== 'runtime' || handlers !== 'handlers' || typeof index !== 'number' || config !== 'config' || typeof key !== 'string' || path.length !== 5) return '';
  const binding = valueAt(raw, path.slice(0, 3));
  const name = isRecord(binding) && typeof binding.name === 'string' ? binding.name : isRecord(binding) && typeof binding.type === 'string' ? binding.type : '<binding name>';
  // The same spelling as infra's envOverrideName.
  const part = (text: string) => text.toUpperCase().replace(/[^A-Z0-9]/g, '_');
  return `; to set it from the environment, export ONEX_HANDLER_${part(name)}_${part(key)} instead (see docs/secrets.md)`;
}

/** Maps every issue of a failed parse; `raw` is the input data, `schema` the schema that failed. */
export function draftsFromZodError(error: z.ZodError, raw: unknown, schema: z.ZodType): DraftIssue[] {
  return error.issues.flatMap((issue) => fromIssue(issue, [], raw, schema));
}

function fromIssue(issue: ZodIssue, prefix: ContractPath, raw: unknown, schema: z.ZodType): DraftIssue[] {
  const path: ContractPath = [...prefix, ...issue.path.filter((s): s is string | number => typeof s !== 'symbol')];
  const field = fieldLabel(path);
  const where = formatPath(path.slice(0, -1)) ?? 'the top level';
  const got = describeValue(valueAt(raw, path), isSensitivePath(path));
  const invalid = (message: string, hint: string): DraftIssue[] => [
    { ruleId: 'CONTRACT_INVALID_VALUE', severity: 'error', message, hint, path, target: 'value' },
  ];

  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = allowedKeysAt(schema, path);
      const level = formatPath(path) ?? 'the top level';
      return issue.keys.map((key) => ({
        ruleId: 'CONTRACT_UNKNOWN_FIELD',
        severity: 'error',
        message: `Unknown field "${key}" in ${level}`,
        hint: RESERVED_FIELDS[key] ?? unknownFieldHint(key, allowed),
        path: [...path, key],
        target: 'key',
      }));
    }
    case 'invalid_type': {
      const expected = EXPECTED_PHRASES[issue.expected] ?? issue.expected;
      if (isMissing(raw, path)) {
        return [
          {
            ruleId: 'CONTRACT_MISSING_FIELD',
            severity: 'error',
            message: `Missing required field "${field}" in ${where}`,
            hint: `Add "${field}" (${expected}) under ${where}.`,
            path,
            target: 'key',
          },
        ];
      }
      const value = valueAt(raw, path);
      const quote = issue.expected === 'string' && typeof value === 'number' ? ' Quote the value to keep it a string.' : '';
      // `${NAME}` fills text only: a typed field must be valid when the contract is read.
      if (typeof value === 'string' && isPlaceholder(value)) {
        const override = handlerOverrideHint(path, raw);
        return invalid(`"${field}" must be ${expected}, got the placeholder ${got}: placeholders fill string fields only`, `Write ${expected} here${override}.`);
      }
      return invalid(`"${field}" must be ${expected}, got ${got}`, `Change "${field}" to ${expected}.${quote}`);
    }
    case 'invalid_value': {
      const options = issue.values.map((v) => JSON.stringify(v)).join(', ');
      if (isMissing(raw, path)) {
        return [{ ruleId: 'CONTRACT_MISSING_FIELD', severity: 'error', message: `Missing required field "${field}" in ${where}`, hint: `Add "${field}" (one of ${options}) under ${where}.`, path, target: 'key' }];
      }
      return invalid(`"${field}" must be one of ${options}, got ${got}`, `Use one of: ${issue.values.map(String).join(', ')}.`);
    }
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const word = issue.code === 'too_small' ? (issue.inclusive ? 'at least' : 'greater than') : issue.inclusive ? 'at most' : 'less than';
      if (issue.origin === 'string' && issue.code === 'too_small' && Number(bound) <= 1) {
        return invalid(`"${field}" must not be empty`, `Give "${field}" a non-empty value.`);
      }
      const unit = issue.origin === 'array' ? ' item(s)' : issue.origin === 'string' ? ' character(s)' : '';
      const what = issue.origin === 'array' ? `"${field}" must have ${word} ${String(bound)}${unit}` : `"${field}" must be ${word} ${String(bound)}${unit}`;
      return invalid(`${what}, got ${got}`, `Change "${field}" to a value ${word} ${String(bound)}${unit}.`);
    }
    case 'custom': {
      const params: unknown = issue.params;
      const ruleId = isRecord(params) && isContractRuleId(params.ruleId) ? params.ruleId : 'CONTRACT_INVALID_VALUE';
      const hint = isRecord(params) && typeof params.hint === 'string' ? params.hint : `Check the value of "${field}".`;
      const target = isRecord(params) && params.target === 'key' ? 'key' : 'value';
      return [{ ruleId, severity: 'error', message: withField(field, issue.message), hint, path, target }];
    }
    case 'invalid_union': {
      if (isMissing(raw, path)) {
        return [{ ruleId: 'CONTRACT_MISSING_FIELD', severity: 'error', message: `Missing required field "${field}" in ${where}`, hint: `Add "${field}" under ${where}: it ${issue.message}.`, path, target: 'key' }];
      }
      const branch = bestBranch(issue.errors);
      if (branch) return branch.flatMap((inner) => fromIssue(inner, path, raw, schema));
      return invalid(`"${field}" ${issue.message}, got ${got}`, `Change "${field}": it ${issue.message}.`);
    }
    default:
      return invalid(`"${field}" is invalid: ${issue.message}`, `Check the value of "${field}".`);
  }
}

/**
 * When every branch of a union fails, the branch that got past the type check explains the
 * real problem (e.g. a `secret_ref` mapping with a bad reference). Branches that failed on
 * the type alone are noise.
 */
function bestBranch(branches: readonly (readonly ZodIssue[])[]): readonly ZodIssue[] | undefined {
  const candidates = branches.filter((issues) => !issues.some((i) => i.code === 'invalid_type' && i.path.length === 0));
  return candidates.sort((a, b) => a.length - b.length)[0];
}

/**
 * Checks phrase messages as predicates ("must be ...") when they do not know the field name
 * (one check serves many fields); those get the field name in front. Messages starting
 * upper-case are complete sentences and stay as written.
 */
function withField(field: string, message: string): string {
  const first = message.charAt(0);
  return first !== '' && first === first.toLowerCase() && first !== first.toUpperCase() ? `"${field}" ${message}` : message;
}

/** The field as a reader finds it in the file: the last key plus any list indexes after it (`operations[2]`). */
function fieldLabel(path: ContractPath): string {
  let start = path.length - 1;
  while (start > 0 && typeof path[start] === 'number') start -= 1;
  return formatPath(path.slice(Math.max(start, 0))) ?? '<root>';
}

function isMissing(raw: unknown, path: ContractPath): boolean {
  const key = path[path.length - 1];
  if (typeof key !== 'string') return false;
  const parent = valueAt(raw, path.slice(0, -1));
  // A parent that is itself absent (an omitted `config:` filled by a default) counts too.
  return (isRecord(parent) && !Object.hasOwn(parent, key)) || (parent === undefined && path.length > 1);
}

/** `Did you mean …? Remove … or use one of the allowed fields: …`. */
export function unknownFieldHint(key: string, allowed: readonly string[]): string {
  if (allowed.length === 0) return `Remove "${key}".`;
  const suggestion = closest(key, allowed);
  const didYouMean = suggestion ? `Did you mean "${suggestion}"? ` : '';
  return `${didYouMean}Remove "${key}" or use one of the allowed fields: ${allowed.join(', ')}.`;
}

/** The allowed name nearest to a misspelt one, if it is close enough to be a typo. */
function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** The field names an object schema accepts at `path`, looking through wrappers and unions. */
export function allowedKeysAt(schema: z.ZodType, path: ContractPath): string[] {
  let current = unwrap(schema);
  for (const segment of path) {
    current = current.flatMap((s) => {
      if (s instanceof z.ZodObject && typeof segment === 'string') {
        const shape: Record<string, z.ZodType> = s.shape;
        const child = shape[segment];
        return child ? unwrap(child) : [];
      }
      if (s instanceof z.ZodArray && typeof segment === 'number') return unwrap(s.element as z.ZodType);
      return [];
    });
  }
  const keys = current.flatMap((s) => (s instanceof z.ZodObject ? Object.keys(s.shape as Record<string, z.ZodType>) : []));
  return [...new Set(keys)];
}

function unwrap(schema: z.ZodType): z.ZodType[] {
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodNullable || schema instanceof z.ZodDefault || schema instanceof z.ZodPrefault) {
    return unwrap(schema.unwrap() as z.ZodType);
  }
  if (schema instanceof z.ZodPipe) return unwrap(schema.in as z.ZodType);
  if (schema instanceof z.ZodUnion) return (schema.options as readonly z.ZodType[]).flatMap(unwrap);
  return [schema];
}
