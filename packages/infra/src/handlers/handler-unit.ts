/**
 * A handler unit: every fact about one protocol handler in one object, next to its code.
 * The registry of units is the one source for contract validation (the handler catalog
 * core validates against), `describe`, wiring (the bootstrap source), the docs page and
 * the contract's JSON Schema, so these cannot drift apart.
 */
import { z } from 'zod';
import type { HandlerCatalogEntry, HandlerCategory, HandlerPolicies, HandlerType, JsonValue, SecretRef, SecretString } from '@onex/core';
import type { ProtocolHandler } from '@onex/spi';
import type { Logger } from '../logging/logger.js';

/** A value of a handler's initialize config: JSON, or a secret kept wrapped until the driver needs it. */
export type HandlerConfigValue = JsonValue | SecretString | readonly HandlerConfigValue[] | { readonly [key: string]: HandlerConfigValue };

/**
 * The config a unit builds for its handler's `initialize`. Credentials stay
 * `SecretString`s here, so the config the host keeps never prints a secret; the handler
 * reveals one only where it hands it to its driver.
 */
export type HandlerInitConfig = { readonly [key: string]: HandlerConfigValue };

/** One operation a handler accepts. */
export interface HandlerOperation {
  /** The envelope `operation`, e.g. `db.query`. */
  readonly name: string;
  /** One line for people (`describe`, docs). */
  readonly summary: string;
  /** The payload as callers write it; its input side is what `describe` and docs show. */
  readonly payloadSchema: z.ZodType;
  /** Shape of a successful response payload, for people. */
  readonly responseShape: string;
}

/** What a handler asks of the host's security policy (defaults; contracts may narrow them). */
export interface HandlerSecurityNeeds {
  /** Outbound domains the handler may reach when a contract names none. @default [] (none declared) */
  readonly defaultAllowedDomains: readonly string[];
  /** Secret scopes (e.g. Vault paths) the handler's credentials come from. @default [] */
  readonly secretScopes: readonly string[];
}

/** What `create` gets from the host. */
/** What a handler contract declares about a handler's reach (see HandlerDescriptor.security). */
export interface ContractSecurity {
  /** Hosts the handler may call; `[]` means none. Absent when the contract names none. */
  readonly allowedDomains: readonly string[] | undefined;
  /** Adapters must name their destinations. */
  readonly isAdapter: boolean;
}

/** What a handler's initialize config may take from the host that runs it. */
export interface HandlerHostFacts {
  /** This host instance's id (the http handler marks its outbound requests with it). */
  readonly hostId: string;
  /** Production start (`run` with ENVIRONMENT=prod): stricter handler policies apply. */
  readonly production: boolean;
}

export interface HandlerUnitDeps {
  readonly logger: Logger;
}

/**
 * Settings with secret references resolved to plain strings. A unit lists every field
 * that may hold a secret value in `credentialFields`, so after the host resolved those,
 * no SecretRef is left anywhere.
 */
export type ResolvedSettings<S> = { readonly [K in keyof S]: Exclude<S[K], SecretRef> };

/** One protocol handler, self-described. `S` is the output of its contract-config schema. */
export interface HandlerUnit<S extends Readonly<Record<string, unknown>> = Readonly<Record<string, unknown>>> {
  readonly type: HandlerType;
  /** Stable descriptor name, e.g. `handler_db`. */
  readonly name: string;
  readonly version: string;
  /** Every I/O handler is `effect`. */
  readonly category: HandlerCategory;
  /** Platform plumbing tag (ingress/egress bridges); never DB or outbound HTTP. */
  readonly isAdapter: boolean;
  /** Only `dev` and tests may enable it; `run` refuses it. */
  readonly devOnly: boolean;
  /** One line for people. */
  readonly summary: string;
  readonly capabilities: readonly string[];
  readonly operations: readonly HandlerOperation[];
  /**
   * The binding's own `config` keys (wire snake_case) → settings. Strict, so a misspelt
   * key is an error with the allowed keys listed. Credential keys keep their name.
   */
  readonly configSchema: z.ZodType<S>;
  /** Keys of the config holding secrets: `{ secret_ref }` or `${NAME}` in contracts. */
  readonly credentialFields: readonly string[];
  /**
   * Keys of the config that are not secret but may be `${NAME}` placeholders the host
   * expands from its environment before `initializeConfig` (e.g. consul `address`:
   * `${CONSUL_HTTP_ADDR}`). @default [] (none)
   */
  readonly placeholderFields?: readonly string[];
  readonly security: HandlerSecurityNeeds;
  /**
   * The `initialize` config of the handler, from the settings (credentials resolved by
   * the host) and the binding's policies. Method syntax on purpose: the registry holds
   * units of different `S`.
   */
  initializeConfig(settings: ResolvedSettings<S>, policies: HandlerPolicies, host: HandlerHostFacts): HandlerInitConfig;
  /**
   * Folds a handler contract's security declarations into the initialize config (the
   * http unit: `allowed_domains` as the allow-list, required for adapters). Units whose
   * handlers make no outbound calls leave it out.
   */
  applyContractSecurity?(config: HandlerInitConfig, security: ContractSecurity): HandlerInitConfig;
  /**
   * Builds the handler. Its module (and driver: undici, pg, PGlite) is loaded here with a
   * dynamic import of a fixed path, so a host without this handler never loads it.
   */
  create(deps: HandlerUnitDeps): Promise<ProtocolHandler>;
}

/** Types a unit from its parts (infers `S` from the config schema); returns it frozen. */
export function defineHandlerUnit<S extends Readonly<Record<string, unknown>>>(unit: HandlerUnit<S>): HandlerUnit<S> {
  return Object.freeze(unit);
}

/** The part of a unit contract validation needs (core's generic catalog entry). */
export function catalogEntryOf(unit: HandlerUnit): HandlerCatalogEntry {
  return {
    type: unit.type,
    devOnly: unit.devOnly,
    operations: unit.operations.map((op) => op.name),
    configSchema: unit.configSchema,
    credentialFields: unit.credentialFields,
  };
}

/** A top-level payload or config field, for `describe` and docs. */
export interface FieldSummary {
  readonly name: string;
  readonly required: boolean;
  /** JSON Schema type(s), e.g. `string`, `integer`, `object | string`; `any` when open. */
  readonly type: string;
  readonly description?: string | undefined;
}

function typeOf(schema: Record<string, unknown>): string {
  if (typeof schema.type === 'string') return schema.type;
  if (Array.isArray(schema.type)) return schema.type.join(' | ');
  const options = (schema.anyOf ?? schema.oneOf) as unknown;
  if (Array.isArray(options)) return [...new Set(options.map((o) => typeOf(o as Record<string, unknown>)))].join(' | ');
  return 'any';
}

/** The top-level fields of an object schema as users write it (defaulted fields are optional). */
export function fieldsOf(schema: z.ZodType): FieldSummary[] {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  const properties = (json.properties ?? {}) as Record<string, Record<string, unknown>>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => ({
    name,
    required: required.has(name),
    type: typeOf(property),
    description: typeof property.description === 'string' ? property.description : undefined,
  }));
}
