/**
 * The `vault` protocol handler: KV version 2 secrets on Vault or OpenBao from envelopes,
 * confined to the config's allowed paths, with token or AppRole auth and token renewal.
 * Tested on OpenBao 2.7.2 (no registry ships HashiCorp's Vault binary).
 */
export { VaultHandler, createVaultHandler, VAULT_OPERATIONS, VAULT_HANDLER_VERSION, type VaultOperation, type VaultHandlerOptions, type VaultHandlerState } from './vault-handler.js';
export { parseVaultHandlerConfig, DEFAULT_VAULT_MOUNT, DEFAULT_VAULT_TIMEOUT_MS, type VaultHandlerConfig, type ResolvedVaultHandlerConfig } from './vault-config.js';
export type {
  VaultGetSecretResponse,
  VaultSetSecretResponse,
  VaultDeleteSecretResponse,
  VaultListSecretsResponse,
  VaultRenewTokenResponse,
} from './vault-payload.js';
