/**
 * `runtime.handler_source`: where the host gets its handler descriptors. Contract-first
 * (ticket 15): `contract` is the default; `bootstrap` (the handlers compiled into the
 * host) is an emergency override that must be switched on explicitly and may expire.
 */
import { z } from 'zod';
import { HANDLER_SOURCE_TYPES, type HandlerSourceType } from '../enums/handler-source-type.js';
import { addRuleIssue, nonEmptyString } from './schema-helpers.js';

/** Every default of `runtime.handler_source`. */
export const HANDLER_SOURCE_DEFAULTS = {
  mode: 'contract',
  contractPaths: ['handlers'],
  allowBootstrapOverride: false,
} as const;

export interface HandlerSourceSettings {
  /**
   * `contract`: only handler contracts; `hybrid`: contracts win per handler identity and
   * bootstrap fills in the rest; `bootstrap`: the built-in descriptors only (override).
   * @default 'contract'
   */
  readonly mode: HandlerSourceType;
  /** Directories scanned for `handler_contract.yaml`, relative to the runtime contract's directory. @default ['handlers'] */
  readonly contractPaths: readonly string[];
  /** Must be true for mode `bootstrap`. @default false */
  readonly allowBootstrapOverride: boolean;
  /** ISO-8601 date-time after which mode `bootstrap` refuses to start. */
  readonly bootstrapExpiresAt?: string | undefined;
}

const contractPathSchema = nonEmptyString.superRefine((value, ctx) => {
  if (value.startsWith('~')) {
    addRuleIssue(ctx, 'must not start with "~": home-directory expansion is not supported', {
      hint: 'Write the path relative to the runtime contract file, or as an absolute path.',
    });
  }
});

/** Wire `runtime.handler_source` → {@link HandlerSourceSettings}. */
export const handlerSourceSchema = z
  .strictObject({
    mode: z.enum(HANDLER_SOURCE_TYPES).default(HANDLER_SOURCE_DEFAULTS.mode),
    contract_paths: z.array(contractPathSchema).min(1).default([...HANDLER_SOURCE_DEFAULTS.contractPaths]),
    allow_bootstrap_override: z.boolean().default(HANDLER_SOURCE_DEFAULTS.allowBootstrapOverride),
    // Quoted in YAML so it stays text; an offset is required so the instant is unambiguous.
    bootstrap_expires_at: z.iso
      .datetime({ offset: true, error: 'must be an ISO-8601 date-time with an offset, e.g. "2026-03-01T00:00:00Z"' })
      .optional(),
  })
  .prefault({})
  .transform(
    (w): HandlerSourceSettings => ({
      mode: w.mode,
      contractPaths: w.contract_paths,
      allowBootstrapOverride: w.allow_bootstrap_override,
      bootstrapExpiresAt: w.bootstrap_expires_at,
    }),
  );
