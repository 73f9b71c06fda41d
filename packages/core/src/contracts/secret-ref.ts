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

/**
 * `${NAME}` or `${NAME:-default}`: a placeholder the composition root fills from its
 * environment. As in a shell, the default applies when NAME is unset or empty. The
 * default may hold anything but `}`. Source text of a non-anchored pattern, shared by
 * every check that recognises placeholders (one spelling, one place).
 */
export const PLACEHOLDER_SOURCE = String.raw`\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}`;
const PLACEHOLDER_RE = new RegExp(`^${PLACEHOLDER_SOURCE}$`);

/** The whole value is one placeholder, with or without a default. */
export function isPlaceholder(value: string): boolean {
  return PLACEHOLDER_RE.test(value);
}

/** One `${NAME}` / `${NAME:-default}` occurrence in a text. */
export interface Placeholder {
  /** The placeholder as written, e.g. `${DB_HOST:-localhost}`. */
  readonly text: string;
  readonly name: string;
  /** The text after `:-`; absent when the placeholder has none (then NAME is required). */
  readonly defaultValue?: string | undefined;
}

/** Every placeholder in a text, in order. */
export function placeholdersIn(text: string): Placeholder[] {
  return [...text.matchAll(new RegExp(PLACEHOLDER_SOURCE, 'g'))].map((m) => ({ text: m[0], name: m[1] ?? '', defaultValue: m[2] }));
}

/**
 * Fills every placeholder of `text` with `lookup(name)`; an unset or empty value takes the
 * placeholder's default. Names with neither are returned in `missing` (the text then
 * keeps those placeholders as written). Pure: the caller decides where values come from.
 */
export function interpolatePlaceholders(text: string, lookup: (name: string) => string | undefined): { readonly value: string; readonly missing: readonly string[] } {
  const missing: string[] = [];
  const value = text.replace(new RegExp(PLACEHOLDER_SOURCE, 'g'), (whole, name: string, defaultValue: string | undefined) => {
    const found = lookup(name);
    if (found !== undefined && found !== '') return found;
    if (defaultValue !== undefined) return defaultValue;
    missing.push(name);
    return whole;
  });
  return { value, missing };
}

/**
 * A placeholder default written into a credential field is a literal secret in the
 * contract (`${TOKEN:-letmein}`): the inline-secret rules look at it as if written bare.
 * Empty when the value has no placeholder default.
 */
export function placeholderDefaults(value: string): string[] {
  return placeholdersIn(value).flatMap((p) => (p.defaultValue !== undefined && p.defaultValue !== '' ? [p.defaultValue] : []));
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
  if (password === undefined || password.length === 0) return false;
  // `${PW}` reads the environment; `${PW:-hunter2}` writes a password into the contract.
  return !isPlaceholder(password) || placeholderDefaults(password).length > 0;
}

const URL_RE = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * What is wrong with a credential field's string value written in a config file, if
 * anything: a URL carrying a password, or a literal credential. A `${NAME}` placeholder
 * is fine; one with a default is judged by its default, which is written in the file.
 * A URL without a password (`pglite://memory`) is not a secret.
 */
export function inlineCredentialProblem(value: string): 'url_password' | 'literal' | undefined {
  if (value.length === 0) return undefined;
  if (isPlaceholder(value)) {
    const [fallback] = placeholderDefaults(value);
    return fallback === undefined ? undefined : inlineCredentialProblem(fallback);
  }
  if (URL_RE.test(value)) return urlHasInlinePassword(value) ? 'url_password' : undefined;
  return 'literal';
}
