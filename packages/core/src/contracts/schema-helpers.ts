/**
 * Zod building blocks shared by the contract schemas. Checks that know which rule they
 * enforce attach `{ ruleId, hint }` as issue params; the issue mapper keeps them, so a
 * rule's id and remediation live next to the check that raises it.
 */
import { z } from 'zod';
import { HANDLER_TYPES, type HandlerType } from '../enums/handler-type.js';
import type { ContractRuleId } from './contract-rule-ids.js';
import type { LocateTarget } from './draft-issue.js';

/** Params carried on custom zod issues raised by contract checks. */
export interface RuleParams {
  /** @default 'CONTRACT_INVALID_VALUE' */
  readonly ruleId?: ContractRuleId;
  readonly hint: string;
  /** Point at the key instead of the value (unknown or missing fields). @default 'value' */
  readonly target?: LocateTarget;
}

type IssueSink = Pick<z.core.$RefinementCtx, 'addIssue'>;

/** Raises a custom issue; `path` is relative to the schema the check is attached to. */
export function addRuleIssue(ctx: IssueSink, message: string, params: RuleParams, path?: (string | number)[]): void {
  ctx.addIssue({ code: 'custom', message, params: { ...params }, ...(path ? { path } : {}) });
}

/**
 * A string that must match `re`. `message` gets the value (do not echo secrets) and is
 * phrased as a predicate ("must be ..."): the issue mapper puts the field name in front.
 */
export function matching(re: RegExp, message: (value: string) => string, hint: string): z.ZodString {
  return z.string().superRefine((value, ctx) => {
    if (!re.test(value)) addRuleIssue(ctx, message(value), { hint });
  });
}

export const nonEmptyString = z.string().min(1);
export const positiveInt = z.number().int().positive();
export const nonNegativeInt = z.number().int().nonnegative();

/** Semantic Versioning 2.0.0, including pre-release and build metadata. */
export const SEMVER_RE =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

/** Plain `MAJOR.MINOR.PATCH`, as schema versions use. */
export const VERSION_TRIPLE_RE = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;

const QUOTE_HINT = 'Write it as a quoted semantic version, e.g. "1.0.0" (unquoted 1.0 is read as a number).';

export const semverString = matching(SEMVER_RE, (v) => `must be a semantic version like "1.0.0" (got "${v}")`, QUOTE_HINT);
export const versionTriple = matching(VERSION_TRIPLE_RE, (v) => `must be "MAJOR.MINOR.PATCH", e.g. "1.0.0" (got "${v}")`, QUOTE_HINT);

const semverObject = z
  .strictObject({ major: nonNegativeInt, minor: nonNegativeInt, patch: nonNegativeInt })
  .transform((v) => `${v.major}.${v.minor}.${v.patch}`);

/** A version written either as `"1.2.3"` or as `{ major, minor, patch }`; always a string after parsing. */
export const versionSchema = z.union([semverString, semverObject], {
  error: 'must be a semantic version string like "1.0.0" or a mapping { major, minor, patch }',
});

function handlerTypeHint(valid: readonly string[], devOnly: readonly string[]): string {
  const listed = valid.map((t) => (devOnly.includes(t) ? `${t} (dev only)` : t));
  return `Valid handler types are: ${listed.join(', ')}. Remove or replace the handler type.`;
}

/**
 * A handler type restricted to `valid`. Unknown names and names that exist but have no
 * implementation yet both fail with CONTRACT_UNKNOWN_HANDLER_TYPE, with different messages;
 * the hint lists `valid`, marking those in `devOnly`.
 */
export function handlerTypeSchema(valid: readonly HandlerType[], devOnly: readonly string[] = []): z.ZodType<HandlerType, string> {
  return z.string().transform((value, ctx): HandlerType => {
    const match = valid.find((t) => t === value);
    if (match !== undefined) return match;
    const known = (HANDLER_TYPES as readonly string[]).includes(value);
    let hint = handlerTypeHint(valid, devOnly);
    const lower = value.toLowerCase();
    if (lower !== value && valid.some((t) => t === lower)) hint = `Handler types are lower-case: write "${lower}".`;
    else if (lower === 'kafka') hint = `Kafka is the event bus, not a handler: configure it under runtime.event_bus (kind: kafka). ${hint}`;
    const message = known
      ? `Handler type "${value}" has no implementation in this runtime yet`
      : `Unknown handler type "${value}"`;
    addRuleIssue(ctx, message, { ruleId: 'CONTRACT_UNKNOWN_HANDLER_TYPE', hint });
    return z.NEVER;
  });
}
