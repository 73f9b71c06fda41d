import type { HandlerBinding } from '@onex/core';

/**
 * A reference to a secret instead of its value, e.g. `vault://secret/data/db#password`
 * or `env://DB_PASSWORD`. Contracts hold references; resolvers turn them into values
 * at startup, and the values never appear in logs, errors or envelopes.
 */
export interface SecretReference {
  readonly secretRef: string;
}

/** What a secret source found for one name. */
export interface SecretLookup {
  /** The secret itself. Never logged, never put in an error or an envelope. */
  readonly value: string;
  /**
   * How long the value stays valid, in milliseconds from the lookup (a Vault lease, a
   * short-lived token). A resolver serves it no longer than this and looks it up again
   * before it runs out. Absent when the source grants no lease (env, mounted files): the
   * resolver's own cache TTL applies.
   */
  readonly leaseMs?: number | undefined;
}

/** How a source answers references of its own scheme, e.g. `env://DB_PASSWORD`. */
export interface SecretReferenceLookup {
  /** The scheme, without `://`: `env`, `vault`. */
  readonly scheme: string;
  /**
   * The secret at a reference's address (`DB_PASSWORD` for `env://DB_PASSWORD`,
   * `secret/data/db#password` for Vault), or `undefined` when it is not there. The
   * address names the secret exactly: no logical-name mapping applies.
   */
  lookup(address: string): Promise<SecretLookup | undefined>;
}

/**
 * One place secrets live: the environment, a mounted secrets directory, Vault. A
 * resolver asks its sources in priority order and takes the first answer.
 */
export interface SecretSource {
  /** Names the source in errors and logs, e.g. `env` or `file`. */
  readonly name: string;
  /**
   * References this source answers directly, if any: the env source answers `env://NAME`,
   * Vault will answer `vault://path#key`. Absent for sources with no reference syntax.
   */
  readonly references?: SecretReferenceLookup | undefined;
  /**
   * The secret for a logical name (`db/password`), or `undefined` when this source does
   * not hold it, so the next source is asked. Throws (a typed error, never quoting a
   * value) only when the source cannot answer: unreachable, refused, malformed.
   */
  lookup(logicalName: string): Promise<SecretLookup | undefined>;
  /**
   * Where this source would look for a name (`env DB_PASSWORD`, `file /run/secrets/db/password`),
   * so a "not found" error can say how to fix it. Never a value.
   */
  locate?(logicalName: string): string;
}

/**
 * Centralised secret resolution: handlers and the host ask for secrets by logical name
 * or by reference and never read the environment or secret files themselves.
 */
export interface ProtocolSecretResolver {
  /** Schemes this resolver understands in `resolve`, e.g. `["vault", "env"]`. */
  readonly schemes: readonly string[];
  /** Resolves one reference. Fails with `SecretResolutionError` naming the reference, never the value. */
  resolve(reference: SecretReference): Promise<string>;
  /**
   * The secret for a logical name such as `db/password`, from the first source that has
   * it. Fails with `SecretResolutionError` naming the name and the sources tried.
   */
  getSecret(logicalName: string): Promise<string>;
  /**
   * Several secrets at once, keyed by logical name. All or nothing: one error naming
   * every name that could not be resolved.
   */
  getSecrets(logicalNames: readonly string[]): Promise<Readonly<Record<string, string>>>;
}

/**
 * Turns a handler binding as written (its `config`, a `config_ref` file, environment
 * overrides, `${ENV}` placeholders and secret references) into the binding the host
 * initialises its handler from.
 */
export interface ProtocolHandlerConfigResolver {
  /**
   * The binding with its settings and policies resolved and validated again by the
   * handler's own schema, frozen. Credential fields hold `SecretString`s, never plain
   * text. Fails with a typed error naming the handler, the field and where it was written.
   */
  resolve(binding: HandlerBinding): Promise<HandlerBinding>;
}
