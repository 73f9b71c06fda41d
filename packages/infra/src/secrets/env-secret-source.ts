/**
 * Secrets from environment variables, read from an injected record (the composition
 * root passes `process.env`), so nothing else in the host reads the environment for a
 * secret and tests pass a plain object.
 */
import type { SecretLookup, SecretReferenceLookup, SecretSource } from '@onex/spi';

export interface EnvSecretSourceOptions {
  /** The environment to read, e.g. `process.env`. Read at each lookup, not copied. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /**
   * Explicit logical name → variable name entries, for variables whose names do not
   * follow the derived rule (e.g. `{ "db/password": "PGPASSWORD" }`). Checked first.
   * @default {}
   */
  readonly names?: Readonly<Record<string, string>>;
  /**
   * Prepended to derived variable names, e.g. `ONEX_SECRET_` turns `db/password` into
   * `ONEX_SECRET_DB_PASSWORD`, so a host's secrets cannot collide with unrelated variables.
   * @default ''
   */
  readonly prefix?: string;
  /** @default 'env' */
  readonly name?: string;
}

/**
 * The variable a logical name maps to: upper-cased, with `/`, `.` and `-` turned into
 * `_` (`db/password` → `DB_PASSWORD`, `kafka/sasl.user-name` → `KAFKA_SASL_USER_NAME`).
 * `env://NAME` references bypass this mapping (and the prefix): they name the variable.
 */
export function envVarNameOf(logicalName: string, prefix = ''): string {
  return `${prefix}${logicalName.toUpperCase().replace(/[/.-]/g, '_')}`;
}

/**
 * Environment variables as a secret source. An empty variable counts as unset: a blank
 * `DB_PASSWORD=` left in a shell profile should not hide the mounted file behind it.
 */
export class EnvSecretSource implements SecretSource {
  readonly name: string;
  /** `env://NAME` reads variable NAME exactly. */
  readonly references: SecretReferenceLookup;
  readonly #env: Readonly<Record<string, string | undefined>>;
  readonly #names: Readonly<Record<string, string>>;
  readonly #prefix: string;

  constructor(options: EnvSecretSourceOptions) {
    this.name = options.name ?? 'env';
    this.#env = options.env;
    this.#names = options.names ?? {};
    this.#prefix = options.prefix ?? '';
    this.references = { scheme: 'env', lookup: (variable) => Promise.resolve(this.#read(variable)) };
  }

  lookup(logicalName: string): Promise<SecretLookup | undefined> {
    return Promise.resolve(this.#read(this.#varName(logicalName)));
  }

  locate(logicalName: string): string {
    return `environment variable ${this.#varName(logicalName)}`;
  }

  #read(variable: string): SecretLookup | undefined {
    const value = Object.hasOwn(this.#env, variable) ? this.#env[variable] : undefined;
    return value === undefined || value === '' ? undefined : { value };
  }

  #varName(logicalName: string): string {
    return Object.hasOwn(this.#names, logicalName) ? (this.#names[logicalName] ?? '') : envVarNameOf(logicalName, this.#prefix);
  }
}

/** One `createX(config)` entry per adapter. */
export function createEnvSecretSource(options: EnvSecretSourceOptions): EnvSecretSource {
  return new EnvSecretSource(options);
}
