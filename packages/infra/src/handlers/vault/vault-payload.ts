/**
 * Request payloads of the vault operations (snake_case wire fields), validated with zod,
 * and the shapes of their responses. A bad payload is the caller's mistake: an
 * ENVELOPE_VALIDATION_ERROR naming each bad field, never echoing a value.
 */
import { EnvelopeValidationError, type ErrorContext, type JsonValue } from '@onex/core';
import { z } from 'zod';
import { vaultPathSchema } from '../../vault/vault-kv.js';
import { describeIssues } from '../db/db-issues.js';

const jsonValueSchema: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([z.null(), z.boolean(), z.number(), z.string(), z.array(jsonValueSchema), z.record(z.string(), jsonValueSchema)]),
);

const path = vaultPathSchema.describe('Secret path inside the mount, e.g. "app/db" (no leading "/", no "..").');

export const vaultGetSecretPayloadSchema = z.strictObject({
  path,
  version: z.int().positive().optional().describe('A specific version; default the latest.'),
});
export const vaultSetSecretPayloadSchema = z.strictObject({
  path,
  data: z.record(z.string(), jsonValueSchema).describe('The secret: an object of JSON values. Replaces the whole secret (a new version).'),
  cas: z.int().nonnegative().optional().describe('Check-and-set: write only if the current version is this (0: only if the secret does not exist).'),
});
export const vaultDeleteSecretPayloadSchema = z.strictObject({
  path,
  all_versions: z.boolean().optional().describe('true: remove the secret and every version (metadata delete); default false: soft-delete the latest version.'),
});
export const vaultListSecretsPayloadSchema = z.strictObject({
  path: vaultPathSchema.describe('Folder inside the mount, e.g. "app".'),
});
export const vaultRenewTokenPayloadSchema = z.strictObject({
  increment_seconds: z.int().positive().optional().describe("TTL to ask for; default the token's own TTL."),
});

export type VaultGetSecretPayload = z.output<typeof vaultGetSecretPayloadSchema>;
export type VaultSetSecretPayload = z.output<typeof vaultSetSecretPayloadSchema>;

/** `vault.get_secret`: found, or `{ found: false }` (not found is an answer, not an error). */
export type VaultGetSecretResponse =
  | { found: true; data: Record<string, JsonValue>; version: number; created_time: string }
  | { found: false };
export type VaultSetSecretResponse = { version: number; created_time: string };
export type VaultDeleteSecretResponse = { deleted: true; path: string; all_versions: boolean };
export type VaultListSecretsResponse = { keys: string[] };
export type VaultRenewTokenResponse = { ttl_seconds: number; renewable: boolean };

export const VAULT_RESPONSE_SHAPES = {
  'vault.get_secret': '{ found: true, data: object, version: number, created_time: string } | { found: false }',
  'vault.set_secret': '{ version: number, created_time: string }',
  'vault.delete_secret': '{ deleted: true, path: string, all_versions: boolean }',
  'vault.list_secrets': '{ keys: string[] } (sub-folders end with "/"; [] when the folder does not exist)',
  'vault.renew_token': '{ ttl_seconds: number, renewable: boolean }',
} as const;

/**
 * Parses `payload` with `schema`.
 * @throws EnvelopeValidationError listing each bad field (paths and messages, no values).
 */
export function parseVaultPayload<S extends z.ZodType>(schema: S, payload: JsonValue, context: ErrorContext): z.output<S> {
  const parsed = schema.safeParse(payload);
  if (parsed.success) return parsed.data;
  const issues = describeIssues(parsed.error, 'payload');
  throw new EnvelopeValidationError(`Invalid ${context.operation ?? 'vault'} payload: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`, {
    ...context,
    details: { issues: issues.map((i) => ({ path: i.path, message: i.message })) },
    hint: 'See `describe` for the payload of each vault operation; paths are relative to the mount, e.g. "app/db".',
  });
}
