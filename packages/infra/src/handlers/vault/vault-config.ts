/**
 * Configuration of the vault handler (`initialize` input, camelCase): where Vault is, the
 * KV v2 mount, the paths envelopes may touch, and how to log in. Credentials are
 * SecretStrings; the handler reveals them only to the Vault client.
 */
import { HandlerConfigurationError, isSecretString, type SecretString } from '@onex/core';
import { z } from 'zod';
import { DEFAULT_APPROLE_MOUNT, DEFAULT_VAULT_RENEW_RATIO } from '../../vault/vault-session.js';
import { vaultPathSchema } from '../../vault/vault-kv.js';
import { describeIssues } from '../db/db-issues.js';

/** @default "secret" */
export const DEFAULT_VAULT_MOUNT = 'secret';
/** @default 10 000 ms */
export const DEFAULT_VAULT_TIMEOUT_MS = 10_000;

const MAX_TIMER_MS = 2_147_483_647;

/** An allowed_paths glob: a path whose segments may be `*` (within a segment) or `**` (across). */
export const vaultPathGlobSchema = z.string().superRefine((glob, ctx) => {
  // Check the glob as a path with its wildcards standing in for a plain segment.
  const probe = glob.replace(/\*\*/g, 'x').replace(/\*/g, 'x');
  const parsed = vaultPathSchema.safeParse(probe);
  if (!parsed.success) ctx.addIssue({ code: 'custom', message: parsed.error.issues[0]?.message ?? 'is not a valid path glob' });
});

const secret = z.custom<SecretString>(isSecretString, { message: 'must be a SecretString (credentials stay wrapped)' });

export const vaultAuthConfigSchema = z.discriminatedUnion('method', [
  z.strictObject({ method: z.literal('token'), token: secret }),
  z.strictObject({ method: z.literal('approle'), roleId: secret, secretId: secret, mountPoint: vaultPathSchema.optional() }),
]);

/** Schema of `VaultHandler.initialize` input. Strict: a misspelt option is an error. */
export const vaultHandlerConfigSchema = z.strictObject({
  address: z.string().regex(/^https?:\/\/[^\s/?#@]+\/?$/, 'must be http(s)://host:port without credentials or path'),
  mount: vaultPathSchema.default(DEFAULT_VAULT_MOUNT),
  allowedPaths: z.array(vaultPathGlobSchema).readonly(),
  auth: vaultAuthConfigSchema,
  timeoutMs: z.int().positive().max(MAX_TIMER_MS).default(DEFAULT_VAULT_TIMEOUT_MS),
  renewRatio: z.number().gt(0).lt(1).default(DEFAULT_VAULT_RENEW_RATIO),
});

/** Options accepted by `VaultHandler.initialize`. */
export interface VaultHandlerConfig {
  /** `http(s)://host:port` of Vault or OpenBao (no credentials, no path). */
  readonly address: string;
  /** The KV version 2 mount. @default "secret" */
  readonly mount?: string;
  /**
   * Paths (inside the mount) envelopes may touch: globs where `*` matches within one
   * segment and `**` across segments, e.g. `["app/*", "shared/**"]`. Every operation's
   * path must match one; `[]` refuses everything. Required: whoever can send an envelope
   * can otherwise read everything the handler's token can.
   */
  readonly allowedPaths: readonly string[];
  readonly auth:
    | { readonly method: 'token'; readonly token: SecretString }
    | { readonly method: 'approle'; readonly roleId: SecretString; readonly secretId: SecretString; readonly mountPoint?: string };
  /** Budget of each Vault request. @default 10000 */
  readonly timeoutMs?: number;
  /** Renew the token after this share of its TTL. @default 2/3 */
  readonly renewRatio?: number;
}

export type ResolvedVaultHandlerConfig = Readonly<z.output<typeof vaultHandlerConfigSchema>>;

/**
 * Validates and defaults a configuration.
 * @throws HandlerConfigurationError naming each bad field, never echoing a value.
 */
export function parseVaultHandlerConfig(input: unknown): ResolvedVaultHandlerConfig {
  const parsed = vaultHandlerConfigSchema.safeParse(input);
  if (parsed.success) return Object.freeze(parsed.data);
  const issues = describeIssues(parsed.error, 'config');
  throw new HandlerConfigurationError(`Invalid vault handler configuration: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`, {
    handlerType: 'vault',
    details: { issues: issues.map((i) => ({ path: i.path, message: i.message })) },
    hint: `Set address, allowed_paths and auth (token, or approle with role_id and secret_id); mount defaults to "${DEFAULT_VAULT_MOUNT}", the AppRole mount to "${DEFAULT_APPROLE_MOUNT}".`,
  });
}
