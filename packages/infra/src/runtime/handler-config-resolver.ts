/**
 * Handler config resolution (spec 3.13): a binding's config as written becomes the
 * validated, frozen binding the host initialises its handler from.
 *
 * Sources, lowest precedence first, merged key by key (a key's whole value is replaced,
 * objects such as `retry_policy` are not merged deeper):
 *   1. the `config_ref` file (YAML or JSON, relative to the contract's directory, inside it);
 *   2. the binding's inline `config` in the contract;
 *   3. environment overrides `ONEX_HANDLER_<NAME>_<FIELD>` (see `envOverrideName`).
 * Then `${NAME}` / `${NAME:-default}` placeholders in string values are filled, credential
 * fields' secret references resolved through the binding's scoped SecretResolver, and
 * the result is validated again by the handler's own schema. Credentials end up as
 * SecretStrings. Every problem of every binding is collected into one error naming the
 * handler, the field and where it was written (file:line or the variable).
 */
import {
  HandlerConfigurationError,
  SecretResolutionError,
  isOnexError,
  isSecretRef,
  SecretString,
  type HandlerBinding,
  type RuntimeHostContract,
} from '@onex/core';
import { contractLocator, handlerBindingSchema, inlineCredentialProblem, interpolatePlaceholders, readYamlSource } from '@onex/core/contract-kit';
import type { ProtocolHandlerConfigResolver, ProtocolSecretResolver } from '@onex/spi';
import { silentLogger, type Logger } from '../logging/logger.js';
import { fieldsOf, type HandlerUnit } from '../handlers/handler-unit.js';
import { findHandlerUnit, handlerCatalog, HANDLER_UNITS } from '../handlers/registry.js';
import { resolveSecretValue } from '../secrets/secret-value.js';
import { readConfinedFile } from './confined-file.js';

/** Largest `config_ref` file read: a handler's settings, not a data set. */
export const DEFAULT_MAX_CONFIG_REF_BYTES = 256 * 1024;

/** A secret resolver that can hand one handler a view limited to its scopes (SecretResolver). */
export type ScopableSecretResolver = ProtocolSecretResolver & { forScope(scopes: readonly string[]): ProtocolSecretResolver };

export interface HandlerConfigResolverOptions {
  /** Resolves credential fields' references and placeholders. */
  readonly secrets: ScopableSecretResolver;
  /** The environment for placeholders in non-credential fields and for overrides. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** @default HANDLER_UNITS */
  readonly units?: readonly HandlerUnit[];
  /** The contract the bindings come from: their positions for file:line in errors. */
  readonly contract?: RuntimeHostContract | undefined;
  /** Where `config_ref` paths resolve from and must stay inside. @default the working directory */
  readonly contractDir?: string | undefined;
  /** The contract's path as shown in messages. @default 'runtime contract' */
  readonly contractFile?: string | undefined;
  /** The contract's text, for line numbers. */
  readonly contractText?: string | undefined;
  /**
   * The secret scopes a binding's credentials must fall inside (from its handler
   * contract); `undefined` for a handler that declares none (bootstrap handlers).
   * @default () => undefined
   */
  readonly scopesFor?: ((binding: HandlerBinding) => readonly string[] | undefined) | undefined;
  /** @default DEFAULT_MAX_CONFIG_REF_BYTES (256 KiB) */
  readonly maxConfigRefBytes?: number | undefined;
  /** Warns about override variables that name no field. @default silentLogger */
  readonly logger?: Logger | undefined;
}

/** One thing that stopped a binding from resolving. */
export interface HandlerConfigProblem {
  readonly handler: string;
  /** The config key (`url`, `config_ref`). */
  readonly field: string;
  /** `runtime.yaml:12`, `handlers/db.yaml:3`, or `environment variable ONEX_HANDLER_DB_POOL_SIZE`. */
  readonly where: string;
  /** What went wrong; never a value. */
  readonly message: string;
  readonly cause?: unknown;
}

/**
 * The override variable of one field: `ONEX_HANDLER_` + the binding's name + the wire
 * field, upper-cased with every other character turned into `_`
 * (`db` / `pool_size` → `ONEX_HANDLER_DB_POOL_SIZE`).
 */
export function envOverrideName(bindingName: string, field: string): string {
  const part = (s: string) => s.toUpperCase().replace(/[^A-Z0-9]/g, '_');
  return `ONEX_HANDLER_${part(bindingName)}_${part(field)}`;
}

type Origin = { readonly kind: 'contract' } | { readonly kind: 'file'; readonly file: string; readonly text: string } | { readonly kind: 'env'; readonly variable: string };

/** What the resolver knows about one field while resolving it. */
interface Field {
  value: unknown;
  readonly origin: Origin;
}

/** Scalar kinds an override may set; arrays and objects are not overridable. */
type OverrideKind = 'string' | 'integer' | 'number' | 'boolean' | 'credential';

export class HandlerConfigResolver implements ProtocolHandlerConfigResolver {
  readonly #options: HandlerConfigResolverOptions;
  readonly #units: readonly HandlerUnit[];
  readonly #logger: Logger;
  #locate: ReturnType<typeof contractLocator> | null = null;

  constructor(options: HandlerConfigResolverOptions) {
    this.#options = options;
    this.#units = options.units ?? HANDLER_UNITS;
    this.#logger = options.logger ?? silentLogger;
  }

  /** One binding; see the module comment. @throws HandlerConfigurationError listing every problem */
  async resolve(binding: HandlerBinding): Promise<HandlerBinding> {
    const [resolved] = await this.resolveAll([binding]);
    if (resolved === undefined) throw new HandlerConfigurationError('Handler binding resolved to nothing', { handlerType: binding.type });
    return resolved;
  }

  /**
   * Every binding, in order; all problems of all bindings in one error, so a deployment
   * learns everything it is missing from one failed start.
   * @throws HandlerConfigurationError listing every problem (details.problems)
   */
  async resolveAll(bindings: readonly HandlerBinding[]): Promise<HandlerBinding[]> {
    const problems: HandlerConfigProblem[] = [];
    const resolved: HandlerBinding[] = [];
    for (const binding of bindings) {
      const result = await this.#resolveOne(binding, problems);
      if (result !== undefined) resolved.push(result);
    }
    if (problems.length > 0) throw configError(problems, bindings);
    return resolved;
  }

  async #resolveOne(binding: HandlerBinding, problems: HandlerConfigProblem[]): Promise<HandlerBinding | undefined> {
    const unit = findHandlerUnit(binding.type, this.#units);
    if (unit === undefined) {
      problems.push({ handler: binding.name, field: 'type', where: this.#contractAt(binding, []), message: `no handler unit for type "${binding.type}"` });
      return undefined;
    }
    const before = problems.length;
    const fields = new Map<string, Field>();
    if (binding.configRef !== undefined) await this.#readConfigRef(binding, unit, fields, problems);
    for (const [key, value] of Object.entries(binding.wireConfig)) fields.set(key, { value, origin: { kind: 'contract' } });
    this.#applyOverrides(binding, unit, fields, problems);

    const scopes = this.#options.scopesFor?.(binding);
    const secrets = scopes === undefined ? this.#options.secrets : this.#options.secrets.forScope(scopes);
    const config: Record<string, unknown> = {};
    for (const [key, field] of fields) {
      const where = this.#where(binding, key, field.origin);
      try {
        config[key] = unit.credentialFields.includes(key) ? await this.#credential(field.value, `handler "${binding.name}" ${key}`, secrets) : this.#interpolate(field, key, binding, problems);
      } catch (error) {
        problems.push({ handler: binding.name, field: key, where, message: messageOf(error), cause: error });
      }
    }
    if (problems.length > before) return undefined;

    const parsed = handlerBindingSchema(handlerCatalog(this.#units)).safeParse({ type: binding.type, name: binding.name, enabled: binding.enabled, priority: binding.priority, config });
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        // Issues sit at ['config', key, ...]; the key's origin says where to fix it.
        const key = typeof issue.path[1] === 'string' ? issue.path[1] : 'config';
        const path = issue.path.slice(1).filter((s) => typeof s !== 'symbol').join('.');
        const origin = fields.get(key)?.origin ?? { kind: 'contract' };
        problems.push({ handler: binding.name, field: path || key, where: this.#where(binding, key, origin), message: issue.message });
      }
      return undefined;
    }
    const settings: Record<string, unknown> = { ...parsed.data.settings };
    for (const field of unit.credentialFields) {
      const value = settings[field];
      // Resolved above to text; the handler sees a SecretString until its driver needs the value.
      if (typeof value === 'string') settings[field] = SecretString.of(value);
    }
    return deepFreeze({ ...parsed.data, configRef: binding.configRef, settings, wireConfig: binding.wireConfig });
  }

  async #credential(value: unknown, where: string, secrets: ProtocolSecretResolver): Promise<unknown> {
    if (typeof value === 'string' || isSecretRef(value)) return (await resolveSecretValue(value, where, secrets)).reveal();
    const ref = wireSecretRef(value);
    if (ref !== undefined) return secrets.resolve({ secretRef: ref });
    // Anything else is for the handler's schema to refuse, at the right line.
    return value;
  }

  /** Fills placeholders in every string of a non-credential value; env overrides are taken as written. */
  #interpolate(field: Field, key: string, binding: HandlerBinding, problems: HandlerConfigProblem[]): unknown {
    if (field.origin.kind === 'env') return field.value;
    const env = this.#options.env;
    const walk = (value: unknown): unknown => {
      if (typeof value === 'string') {
        const { value: text, missing } = interpolatePlaceholders(value, (name) => env[name]);
        for (const name of new Set(missing)) {
          problems.push({
            handler: binding.name,
            field: key,
            where: this.#where(binding, key, field.origin),
            message: `environment variable ${name} is not set (and the placeholder has no default)`,
          });
        }
        return text;
      }
      if (Array.isArray(value)) return value.map(walk);
      if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
      return value;
    };
    return walk(field.value);
  }

  async #readConfigRef(binding: HandlerBinding, unit: HandlerUnit, fields: Map<string, Field>, problems: HandlerConfigProblem[]): Promise<void> {
    const ref = binding.configRef ?? '';
    const where = this.#contractAt(binding, ['config_ref']);
    const fail = (message: string) => problems.push({ handler: binding.name, field: 'config_ref', where, message });
    const maxBytes = this.#options.maxConfigRefBytes ?? DEFAULT_MAX_CONFIG_REF_BYTES;
    const read = await readConfinedFile(this.#options.contractDir ?? process.cwd(), ref, maxBytes);
    if (!read.ok) {
      const why = {
        not_found: `config_ref file "${ref}" does not exist`,
        outside: `config_ref "${ref}" leads outside the contract's directory; refused`,
        not_a_file: `config_ref "${ref}" is not a regular file`,
        too_large: `config_ref file "${ref}" is larger than ${maxBytes} bytes`,
        io_error: `config_ref file "${ref}" cannot be read (${('errno' in read ? read.errno : undefined) ?? 'unknown error'})`,
      }[read.reason];
      fail(why);
      return;
    }
    const yaml = readYamlSource(read.text);
    if (!yaml.ok) {
      for (const issue of yaml.issues) problems.push({ handler: binding.name, field: 'config_ref', where: `${ref}:${issue.position?.line ?? 1}`, message: issue.message });
      return;
    }
    const value = yaml.source.value;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      fail(`config_ref file "${ref}" must hold a mapping of the ${binding.type} handler's config keys`);
      return;
    }
    const origin: Origin = { kind: 'file', file: ref, text: read.text };
    for (const [key, field] of Object.entries(value)) {
      // The file is committed next to the contract: the contract's no-secrets rule holds.
      const problem = unit.credentialFields.includes(key) && typeof field === 'string' ? inlineCredentialProblem(field) : undefined;
      if (problem !== undefined) {
        problems.push({
          handler: binding.name,
          field: key,
          where: this.#where(binding, key, origin),
          message: problem === 'url_password' ? `"${key}" contains a password; use { secret_ref: "env://…" } or "vault://…"` : `"${key}" holds a literal credential; use { secret_ref: "env://…" } or "vault://…"`,
        });
        continue;
      }
      fields.set(key, { value: field, origin });
    }
  }

  /**
   * `ONEX_HANDLER_<NAME>_<FIELD>` for each scalar field of the handler's schema and
   * `timeout_ms`. Credential fields take only a reference (`env://…`, `vault://…`), never
   * the secret itself: an override is as visible as any other variable.
   */
  #applyOverrides(binding: HandlerBinding, unit: HandlerUnit, fields: Map<string, Field>, problems: HandlerConfigProblem[]): void {
    const env = this.#options.env;
    const kinds = overridableFields(unit);
    const known = new Set<string>();
    for (const [field, kind] of kinds) {
      const variable = envOverrideName(binding.name, field);
      known.add(variable);
      const raw = Object.hasOwn(env, variable) ? env[variable] : undefined;
      // Empty counts as unset, as for secrets: a blank variable must not erase a setting.
      if (raw === undefined || raw === '') continue;
      const where = `environment variable ${variable}`;
      const parsed = parseOverride(raw, kind);
      if (parsed === undefined) {
        problems.push({
          handler: binding.name,
          field,
          where,
          message: kind === 'credential' ? `overrides a credential and must be a reference (env://NAME or vault://path#key), not the secret itself` : `must be ${kind === 'boolean' ? 'true or false' : `a${kind === 'integer' ? 'n integer' : ' number'}`}`,
        });
        continue;
      }
      fields.set(field, { value: parsed, origin: { kind: 'env', variable } });
    }
    const prefix = envOverrideName(binding.name, '');
    for (const name of Object.keys(env)) {
      if (name.startsWith(prefix) && !known.has(name)) {
        this.#logger.warn({ handler: binding.name, variable: name, overridable: [...known] }, 'environment override names no overridable field; ignored');
      }
    }
  }

  #where(binding: HandlerBinding, key: string, origin: Origin): string {
    if (origin.kind === 'env') return `environment variable ${origin.variable}`;
    if (origin.kind === 'file') {
      const line = contractLocator(origin.text)?.([key], 'value')?.line;
      return line === undefined ? origin.file : `${origin.file}:${line}`;
    }
    return this.#contractAt(binding, ['config', key]);
  }

  #contractAt(binding: HandlerBinding, path: readonly (string | number)[]): string {
    const file = this.#options.contractFile ?? 'runtime contract';
    const index = this.#options.contract?.runtime.handlers.indexOf(binding) ?? -1;
    if (index < 0 || this.#options.contractText === undefined) return file;
    if (this.#locate === null) this.#locate = contractLocator(this.#options.contractText);
    const line = this.#locate?.(['runtime', 'handlers', index, ...path], 'value')?.line;
    return line === undefined ? file : `${file}:${line}`;
  }
}

/** The reference of `{ secret_ref: "…" }` as written in a file or contract (not yet parsed by core). */
function wireSecretRef(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const entries = Object.entries(value);
  const [first] = entries;
  // An unparsable reference is refused by the resolver without being echoed.
  return entries.length === 1 && first !== undefined && first[0] === 'secret_ref' && typeof first[1] === 'string' ? first[1] : undefined;
}

function overridableFields(unit: HandlerUnit): Map<string, OverrideKind> {
  const kinds = new Map<string, OverrideKind>([['timeout_ms', 'integer']]);
  for (const field of fieldsOf(unit.configSchema)) {
    if (unit.credentialFields.includes(field.name)) kinds.set(field.name, 'credential');
    else if (field.type === 'string' || field.type === 'integer' || field.type === 'number' || field.type === 'boolean') kinds.set(field.name, field.type);
  }
  return kinds;
}

function parseOverride(raw: string, kind: OverrideKind): unknown {
  switch (kind) {
    case 'string':
      return raw;
    case 'integer':
      return /^-?\d+$/.test(raw) ? Number(raw) : undefined;
    case 'number':
      return raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : undefined;
    case 'boolean':
      return raw === 'true' ? true : raw === 'false' ? false : undefined;
    case 'credential':
      return /^(?:env|vault):\/\//.test(raw) ? { secret_ref: raw } : undefined;
  }
}

function messageOf(error: unknown): string {
  // Typed errors are written not to carry values; anything else is not quoted.
  return isOnexError(error) ? error.message : 'could not be resolved';
}

function configError(problems: readonly HandlerConfigProblem[], bindings: readonly HandlerBinding[]): HandlerConfigurationError {
  const causes = problems.flatMap((p) => (p.cause === undefined ? [] : [p.cause]));
  const handlers = [...new Set(problems.map((p) => p.handler))];
  const type = bindings.find((b) => b.name === handlers[0])?.type;
  const lines = problems.map((p) => `  - handler "${p.handler}" ${p.field} (${p.where}): ${p.message}`);
  const secretHint = causes.find((c): c is SecretResolutionError => c instanceof SecretResolutionError && c.hint !== undefined)?.hint;
  return new HandlerConfigurationError(`Handler config could not be resolved (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines.join('\n')}`, {
    ...(handlers.length === 1 && type !== undefined ? { handlerType: type } : {}),
    ...(causes.length > 0 ? { cause: new AggregateError(causes) } : {}),
    retryable: causes.some((c) => isOnexError(c) && c.retryable),
    hint: secretHint ?? 'Fix each listed field where it is written: set the variable, provide the secret, or correct the value.',
    details: { problems: problems.map((p) => ({ handler: p.handler, field: p.field, where: p.where, message: p.message })) },
  });
}

function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || value instanceof SecretString || Object.isFrozen(value)) return value;
  for (const child of Object.values(value)) deepFreeze(child);
  return Object.freeze(value);
}
