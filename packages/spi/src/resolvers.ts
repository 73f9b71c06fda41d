import type { JsonObject } from '@onex/core';

/**
 * A reference to a secret instead of its value, e.g. `vault://secret/data/db#password`
 * or `env://DB_PASSWORD`. Contracts hold references; resolvers turn them into values
 * at startup, and the values never appear in logs, errors or envelopes.
 */
export interface SecretReference {
  readonly secretRef: string;
}

export interface ProtocolSecretResolver {
  /** Schemes this resolver understands, e.g. `["vault", "env"]`. */
  readonly schemes: readonly string[];
  /** Resolves one reference. Fails with `SecretResolutionError` naming the reference, never the value. */
  resolve(reference: SecretReference): Promise<string>;
}

/**
 * Turns a handler's contract config (which may hold secret references and `${ENV}`
 * placeholders) into the concrete config passed to `ProtocolHandler.initialize`.
 */
export interface ProtocolHandlerConfigResolver {
  resolve(handlerType: string, config: JsonObject): Promise<JsonObject>;
}
