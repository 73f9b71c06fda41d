/**
 * The one place node-vault is touched. node-vault is CommonJS and typed `any`, reads
 * `VAULT_*` environment variables on its own and prints request bodies through `debug`;
 * this module loads it, switches all of that off, and offers one typed `send`. Responses
 * stay `unknown` here: callers narrow them with zod.
 */
import { createRequire } from 'node:module';

/** The HTTP verbs the Vault API uses (`LIST` is Vault's own). */
export type VaultMethod = 'GET' | 'POST' | 'LIST' | 'DELETE';

/** One Vault API call. */
export interface VaultRequest {
  readonly method: VaultMethod;
  /** API path below `/v1/`, without a leading slash, e.g. `secret/data/app/db`. */
  readonly path: string;
  /** JSON body of a POST. */
  readonly body?: Readonly<Record<string, unknown>> | undefined;
  /** The `X-Vault-Token` to send; absent for a login. */
  readonly token?: string | undefined;
  /** Socket budget handed to the HTTP client (the session also races its own deadline). */
  readonly timeoutMs: number;
}

/** Sends Vault API calls. Resolves to the parsed JSON body (or `undefined` for 204). */
export interface VaultTransport {
  send(request: VaultRequest): Promise<unknown>;
}

interface NodeVaultClient {
  token: string | undefined;
  pathPrefix: string;
  namespace: string | undefined;
  request(options: Record<string, unknown>): Promise<unknown>;
}

type NodeVaultFactory = (config: Record<string, unknown>) => NodeVaultClient;

const require = createRequire(import.meta.url);

/** A no-op for node-vault's `debug`: with DEBUG=node-vault it would print secret bodies. */
const quiet = Object.assign(() => undefined, { enabled: false });

/**
 * A transport over node-vault. `address` is the server's base URL (`http://127.0.0.1:8200`).
 * Nothing is read from the environment: no `VAULT_TOKEN`, `VAULT_PREFIX`,
 * `VAULT_NAMESPACE` or `VAULT_SKIP_VERIFY` changes what this client does.
 */
export function createNodeVaultTransport(address: string): VaultTransport {
  const factory = require('node-vault') as NodeVaultFactory;
  const client = factory({
    endpoint: address,
    apiVersion: 'v1',
    debug: quiet,
    rpDefaults: { strictSSL: true },
  });
  // The factory falls back to VAULT_* variables for these; this host never does.
  client.token = undefined;
  client.pathPrefix = '';
  client.namespace = undefined;
  return {
    send(request) {
      const options: Record<string, unknown> = {
        path: `/${request.path}`,
        method: request.method,
        timeout: request.timeoutMs,
        headers: request.token === undefined ? {} : { 'X-Vault-Token': request.token },
      };
      if (request.body !== undefined) options.json = request.body;
      return client.request(options);
    },
  };
}
