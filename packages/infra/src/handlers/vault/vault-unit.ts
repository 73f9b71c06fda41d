/**
 * The vault handler unit: operations, the contract config schema (wire → settings) and
 * how the handler is built. The handler module, and node-vault with it, loads only in
 * `create`.
 *
 * Credentials are flat top-level keys (`token`, `role_id`, `secret_id`) rather than a
 * nested `auth` mapping, because the host resolves secret references in a unit's
 * top-level credential fields only; `auth_method` says which ones apply. The same keys
 * configure Vault for the host's own secrets (`runtime.secrets.vault`).
 */
import { HandlerConfigurationError, type SecretString } from '@onex/core';
import { addRuleIssue, isTemplated, secretValueSchema } from '@onex/core/contract-kit';
import { z } from 'zod';
import { defineHandlerUnit, type HandlerConfigValue, type HandlerInitConfig, type HandlerOperation } from '../handler-unit.js';
import { vaultPathSchema } from '../../vault/vault-kv.js';
import { DEFAULT_VAULT_MOUNT, vaultPathGlobSchema } from './vault-config.js';
import {
  VAULT_RESPONSE_SHAPES,
  vaultDeleteSecretPayloadSchema,
  vaultGetSecretPayloadSchema,
  vaultListSecretsPayloadSchema,
  vaultRenewTokenPayloadSchema,
  vaultSetSecretPayloadSchema,
} from './vault-payload.js';

/**
 * Where Vault is: an http(s) URL, or one with `${NAME}` placeholders the host fills from
 * its environment. Not a credential (no secret_ref): a URL with credentials is refused.
 */
const addressSchema = z.string().superRefine((value, ctx) => {
  if (!isTemplated(value) && !/^https?:\/\/[^\s/?#@]+\/?$/.test(value)) {
    addRuleIssue(ctx, 'must be an http(s)://host:port URL (no credentials, no path) or a ${NAME} placeholder', {
      hint: 'Write e.g. address: "https://vault.internal:8200" or address: "${VAULT_ADDR}".',
    });
  }
});

/** The vault binding's own `config` keys (besides timeout_ms, retry_policy, rate_limit). */
export const vaultContractConfigSchema = z
  .strictObject({
    address: addressSchema.describe('http(s)://host:port of Vault or OpenBao, or a ${NAME} placeholder.'),
    mount: vaultPathSchema.optional().describe(`KV version 2 mount. Default "${DEFAULT_VAULT_MOUNT}".`),
    allowed_paths: z
      .array(vaultPathGlobSchema)
      .readonly()
      .describe('Paths inside the mount envelopes may touch: globs, "*" within a segment, "**" across (e.g. ["app/*", "shared/**"]). Required; [] refuses everything.'),
    auth_method: z.enum(['token', 'approle']).describe('token: a Vault token in `token`; approle: `role_id` + `secret_id`.'),
    token: secretValueSchema.optional().describe('auth_method token: the Vault token (a secret_ref or ${NAME}).'),
    role_id: secretValueSchema.optional().describe('auth_method approle: the role_id (a secret_ref or ${NAME}).'),
    secret_id: secretValueSchema.optional().describe('auth_method approle: the secret_id (a secret_ref or ${NAME}).'),
    approle_mount: vaultPathSchema.optional().describe('Where AppRole is mounted. Default "approle".'),
    renew_ratio: z.number().gt(0).lt(1).optional().describe('Renew the token after this share of its TTL. Default 2/3.'),
  })
  .superRefine((w, ctx) => {
    const need = w.auth_method === 'token' ? ['token'] : ['role_id', 'secret_id'];
    const refuse = w.auth_method === 'token' ? ['role_id', 'secret_id', 'approle_mount'] : ['token'];
    for (const key of need) {
      if (w[key as 'token'] === undefined) addRuleIssue(ctx, `is required with auth_method ${w.auth_method}`, { hint: `Add ${key}: { secret_ref: "env://..." }.`, target: 'key' }, [key]);
    }
    for (const key of refuse) {
      if (w[key as 'token'] !== undefined) addRuleIssue(ctx, `does not apply to auth_method ${w.auth_method}`, { hint: `Remove ${key}, or change auth_method.`, target: 'key' }, [key]);
    }
  })
  .transform((w) => ({
    address: w.address,
    mount: w.mount,
    allowedPaths: w.allowed_paths,
    authMethod: w.auth_method,
    token: w.token,
    role_id: w.role_id,
    secret_id: w.secret_id,
    approleMount: w.approle_mount,
    renewRatio: w.renew_ratio,
  }));

const operations: HandlerOperation[] = [
  {
    name: 'vault.get_secret',
    summary: 'Read a KV v2 secret (latest or a version); a missing secret is { found: false }, not an error.',
    payloadSchema: vaultGetSecretPayloadSchema,
    responseShape: VAULT_RESPONSE_SHAPES['vault.get_secret'],
  },
  { name: 'vault.set_secret', summary: 'Write a new version of a secret (check-and-set with cas). Needs read_write.', payloadSchema: vaultSetSecretPayloadSchema, responseShape: VAULT_RESPONSE_SHAPES['vault.set_secret'] },
  {
    name: 'vault.delete_secret',
    summary: 'Soft-delete the latest version, or every version with all_versions: true. Needs read_write.',
    payloadSchema: vaultDeleteSecretPayloadSchema,
    responseShape: VAULT_RESPONSE_SHAPES['vault.delete_secret'],
  },
  { name: 'vault.list_secrets', summary: 'List the keys in a folder ([] when it does not exist).', payloadSchema: vaultListSecretsPayloadSchema, responseShape: VAULT_RESPONSE_SHAPES['vault.list_secrets'] },
  { name: "vault.renew_token", summary: "Renew the handler's own token now; answers its TTL, never the token.", payloadSchema: vaultRenewTokenPayloadSchema, responseShape: VAULT_RESPONSE_SHAPES['vault.renew_token'] },
];

export const vaultUnit = defineHandlerUnit({
  type: 'vault',
  name: 'handler_vault',
  version: '1.0.0',
  category: 'effect',
  isAdapter: false,
  devOnly: false,
  summary: 'KV v2 secrets on Vault or OpenBao (tested on OpenBao 2.7.2), confined to allowed_paths; token or AppRole auth with renewal.',
  capabilities: ['secrets.kv_v2', 'secrets.cas', 'auth.token', 'auth.approle', 'auth.renewal'],
  operations,
  configSchema: vaultContractConfigSchema,
  credentialFields: ['token', 'role_id', 'secret_id'],
  security: { defaultAllowedDomains: [], secretScopes: [] },
  initializeConfig(settings, policies): HandlerInitConfig {
    // The config schema requires the credentials of the chosen method; a missing one here
    // means the settings were not built from it.
    const need = (value: SecretString | undefined, field: string): SecretString => {
      if (value === undefined) throw new HandlerConfigurationError(`vault handler: ${field} is required with auth_method ${settings.authMethod}`, { handlerType: 'vault', hint: `Add ${field}: { secret_ref: "env://..." }.` });
      return value;
    };
    const auth: Record<string, HandlerConfigValue> =
      settings.authMethod === 'token'
        ? { method: 'token', token: need(settings.token, 'token') }
        : { method: 'approle', roleId: need(settings.role_id, 'role_id'), secretId: need(settings.secret_id, 'secret_id') };
    if (settings.approleMount !== undefined) auth.mountPoint = settings.approleMount;
    const config: Record<string, HandlerConfigValue> = { address: settings.address, allowedPaths: [...settings.allowedPaths], auth, timeoutMs: policies.timeoutMs };
    if (settings.mount !== undefined) config.mount = settings.mount;
    if (settings.renewRatio !== undefined) config.renewRatio = settings.renewRatio;
    return config;
  },
  async create({ logger }) {
    const { VaultHandler } = await import('./vault-handler.js');
    return new VaultHandler({ logger });
  },
});
