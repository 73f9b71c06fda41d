/**
 * Registration-time security (handler protocol ticket 12, registration half): the secret
 * references a runtime binding hands its handler must fall inside the secret scopes the
 * handler's contract declares, and an adapter gets none unless its contract overrides
 * that explicitly. A reference only names where a secret lives, so messages may name it;
 * the secret itself is never read here.
 */
import { HandlerValidationError, isSecretRef, type HandlerBinding, type HandlerSourceType, type HandlerValidationIssue, type SecretValue } from '@onex/core';
import { placeholdersIn } from '@onex/core/contract-kit';
import type { HandlerDescriptor } from '@onex/spi';
import { matchesSecretScope } from '../secrets/secret-scope.js';
import type { HandlerUnit } from '../handlers/handler-unit.js';
import { findHandlerUnit, HANDLER_UNITS } from '../handlers/registry.js';

/** A credential field's references: its secret_ref, or `env://NAME` for each `${NAME}` in it. */
function refsOf(value: SecretValue | undefined): string[] {
  if (value === undefined) return [];
  if (isSecretRef(value)) return [value.secretRef];
  // A placeholder in a credential field reads the environment just like env://NAME does,
  // so it is held to the same scopes.
  return placeholdersIn(value).map((p) => `env://${p.name}`);
}

/**
 * The secret references a binding uses (its unit's credential fields, in declaration
 * order), without repeats.
 */
export function bindingSecretRefs(binding: HandlerBinding, units: readonly HandlerUnit[] = HANDLER_UNITS): string[] {
  const fields = findHandlerUnit(binding.type, units)?.credentialFields ?? [];
  return [...new Set(fields.flatMap((field) => refsOf(asSecretValue(binding.settings[field]))))];
}

function asSecretValue(value: unknown): SecretValue | undefined {
  return typeof value === 'string' || isSecretRef(value) ? value : undefined;
}

export { matchesSecretScope } from '../secrets/secret-scope.js';

export interface SecretScopeCheckOptions {
  readonly sourceType: HandlerSourceType;
  /** The runtime contract the binding is in, for `file` in failures. */
  readonly file?: string | undefined;
}

/**
 * Every reference outside the descriptor's scopes, as a failure. Descriptors without
 * `security` (bootstrap ones) declare nothing and are not checked.
 */
export function secretScopeFailures(descriptor: HandlerDescriptor, refs: readonly string[], options: SecretScopeCheckOptions): HandlerValidationIssue[] {
  const security = descriptor.security;
  if (!security) return [];
  const where = descriptor.source ? ` (${descriptor.source})` : '';
  return refs.flatMap((ref): HandlerValidationIssue[] => {
    const base = { severity: 'error' as const, handlerIdentity: descriptor.handlerName, sourceType: options.sourceType, ...(options.file !== undefined ? { file: options.file } : {}) };
    if (descriptor.isAdapter && security.allowSecretScopes !== true) {
      return [
        {
          ...base,
          ruleId: 'HANDLER_ADAPTER_SECRETS',
          message: `Adapter ${descriptor.handlerName} may not use secret reference ${ref}: adapters get no secrets`,
          hint: `Remove ${ref} from the ${descriptor.handlerType} handler's config, or set security.allow_secret_scopes: true and a matching secret_scopes entry in its handler contract${where}.`,
        },
      ];
    }
    if (security.secretScopes.some((scope) => matchesSecretScope(ref, scope))) return [];
    const scopes = security.secretScopes.length > 0 ? security.secretScopes.join(', ') : 'none';
    return [
      {
        ...base,
        ruleId: 'HANDLER_SECRET_SCOPE_VIOLATION',
        message: `Handler ${descriptor.handlerName} may not use secret reference ${ref}: outside its secret_scopes (${scopes})`,
        hint: `Add a scope that covers ${ref} (e.g. "${ref.replace(/[^/#]*$/, '*')}") to security.secret_scopes in its handler contract${where}, or point the binding at a secret inside the declared scopes.`,
      },
    ];
  });
}

/**
 * Checks every enabled binding against the descriptor registered for its type. Bindings
 * without a descriptor are someone else's error (a missing handler contract).
 */
export function bindingSecretFailures(bindings: readonly HandlerBinding[], descriptors: readonly HandlerDescriptor[], options: SecretScopeCheckOptions): HandlerValidationIssue[] {
  return bindings
    .filter((b) => b.enabled)
    .flatMap((binding) => {
      const descriptor = descriptors.find((d) => d.handlerType === binding.type);
      return descriptor ? secretScopeFailures(descriptor, bindingSecretRefs(binding), options) : [];
    });
}

/** @throws HandlerValidationError when any binding uses a reference outside its handler's scopes. */
export function assertBindingSecrets(bindings: readonly HandlerBinding[], descriptors: readonly HandlerDescriptor[], options: SecretScopeCheckOptions): void {
  const failures = bindingSecretFailures(bindings, descriptors, options);
  if (failures.length > 0) throw new HandlerValidationError(failures, options.file ?? 'handler bindings');
}
