/**
 * A credential as a contract writes it (`{ secret_ref }`, a `${NAME}` placeholder, or a
 * URL with placeholders in it) turned into a SecretString through a secret resolver. The
 * one rule for every credential the host reads: bindings, ingress tokens, the
 * idempotency store's URL. Placeholders read `env://NAME` through the resolver, so the
 * environment source's rules (an empty variable is unset) and a handler's secret scopes
 * apply to them too.
 */
import { SecretResolutionError, SecretString, isSecretRef, type SecretValue } from '@onex/core';
import { interpolatePlaceholders, placeholdersIn } from '@onex/core/contract-kit';
import type { ProtocolSecretResolver } from '@onex/spi';

/** True for the resolver's "this secret is not there" (as opposed to refused or unreachable). */
export function isSecretNotFound(error: unknown): boolean {
  return error instanceof SecretResolutionError && error.details.reason === 'not_found';
}

/**
 * Resolves one credential value. `where` names the field in errors (`handler "db" url`).
 * @throws SecretResolutionError naming the reference or variable, never a value.
 */
export async function resolveSecretValue(value: SecretValue, where: string, secrets: ProtocolSecretResolver): Promise<SecretString> {
  if (isSecretRef(value)) return SecretString.of(await secrets.resolve({ secretRef: value.secretRef }));
  const found = new Map<string, string | undefined>();
  for (const { name } of placeholdersIn(value)) {
    if (found.has(name)) continue;
    try {
      found.set(name, await secrets.resolve({ secretRef: `env://${name}` }));
    } catch (error) {
      // Unset is not yet an error: the placeholder may have a default.
      if (!isSecretNotFound(error)) throw error;
      found.set(name, undefined);
    }
  }
  const { value: text, missing } = interpolatePlaceholders(value, (name) => found.get(name));
  const [first] = missing;
  if (first !== undefined) {
    throw new SecretResolutionError(`Environment variable ${[...new Set(missing)].join(', ')} is not set (used by ${where})`, {
      hint: `Export ${first} before starting the host, or give the placeholder a default: \${${first}:-…} (not for secrets).`,
      details: { variables: [...new Set(missing)], reason: 'not_found' },
    });
  }
  return SecretString.of(text);
}
