/**
 * Secret references. Contracts carry no secrets: a credential field names where the
 * secret lives (`vault://path#key` or `env://NAME`) and the host's secret resolver fetches
 * it at start-up. Core only parses and recognises references; it never resolves them.
 */
import { z } from 'zod';
import { addRuleIssue } from './schema-helpers.js';

/** A pointer to a secret held outside the contract. */
export interface SecretRef {
  /** The reference as written, e.g. `vault://secret/data/db#password` or `env://DB_PASSWORD`. */
  readonly secretRef: string;
  readonly scheme: 'vault' | 'env';
  /** The Vault secret path, or the environment variable name for `env://`. */
  readonly path: string;
  /** The key inside the Vault secret; absent for `env://`. */
  readonly key?: string | undefined;
}

/** A credential field: a plain string (discouraged, warned about) or a secret reference. */
export type SecretValue = string | SecretRef;

const VAULT_REF_RE = /^vault:\/\/([A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.-]+)*)#([A-Za-z0-9_.-]+)$/;
const ENV_REF_RE = /^env:\/\/([A-Za-z_][A-Za-z0-9_]*)$/;

/** Parses `vault://path#key` or `env://NAME`; undefined when the text is neither. */
export function parseSecretRef(ref: string): SecretRef | undefined {
  const vault = VAULT_REF_RE.exec(ref);
  if (vault?.[1] !== undefined && vault[2] !== undefined) {
    return { secretRef: ref, scheme: 'vault', path: vault[1], key: vault[2] };
  }
  const env = ENV_REF_RE.exec(ref);
  if (env?.[1] !== undefined) return { secretRef: ref, scheme: 'env', path: env[1] };
  return undefined;
}

export function isSecretRef(value: unknown): value is SecretRef {
  return (
    typeof value === 'object' &&
    value !== null &&
    'secretRef' in value &&
    typeof value.secretRef === 'string' &&
    'scheme' in value &&
    (value.scheme === 'vault' || value.scheme === 'env')
  );
}

/** Wire form `{ secret_ref: "vault://path#key" | "env://NAME" }`. */
export const secretRefSchema = z
  .strictObject({
    secret_ref: z.string().transform((value, ctx): SecretRef => {
      const parsed = parseSecretRef(value);
      if (parsed) return parsed;
      // The value is not echoed: a malformed reference is sometimes the secret itself.
      addRuleIssue(ctx, 'must be "vault://<path>#<key>" or "env://<NAME>"', {
        hint: 'Point at the secret, e.g. { secret_ref: "vault://secret/data/db#password" } or { secret_ref: "env://DB_PASSWORD" }.',
      });
      return z.NEVER;
    }),
  })
  .transform((wire) => wire.secret_ref);

/** A credential field: a non-empty string or `{ secret_ref }`. */
export const secretValueSchema = z.union([z.string().min(1), secretRefSchema], {
  error: 'must be a string or a mapping { secret_ref: "vault://<path>#<key>" | "env://<NAME>" }',
});

/** `${NAME}`: a placeholder the composition root fills from its environment. */
const PLACEHOLDER_RE = /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/;

export function isPlaceholder(value: string): boolean {
  return PLACEHOLDER_RE.test(value);
}

/**
 * A value that starts with `${NAME}` gets its scheme from the environment, which the
 * composition root reads; its shape can only be checked after that.
 */
export function isTemplated(value: string): boolean {
  return value.startsWith('${');
}

/** `scheme://user:password@host`: captures the password part of a URL's user info. */
const URL_PASSWORD_RE = /^[a-z][a-z0-9+.-]*:\/\/[^/?#@\s:]*:([^/?#@\s]*)@/i;

/** True when a URL carries a literal password (a `${NAME}` placeholder does not count). */
export function urlHasInlinePassword(url: string): boolean {
  const password = URL_PASSWORD_RE.exec(url)?.[1];
  return password !== undefined && password.length > 0 && !isPlaceholder(password);
}
