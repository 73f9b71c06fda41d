/**
 * Handler contracts (`handler_contract.yaml`): a declaration of one handler — its
 * identity, classification, surface and security needs — that the host turns into a
 * HandlerDescriptor. Contract → Descriptor is one-way: a handler contract declares what a
 * handler is, never what it runs, where it dispatches or what it publishes, and never
 * names code to load (the implementation is looked up by `handler_type`).
 */
import { z } from 'zod';
import { HANDLER_CATEGORIES, type HandlerCategory } from '../enums/handler-category.js';
import { HANDLER_TYPES, type HandlerType } from '../enums/handler-type.js';
import { OPERATION_RE } from '../envelope/envelope-schema.js';
import { CURRENT_CONTRACT_SCHEMA_VERSION } from './schema-version.js';
import { addRuleIssue, handlerTypeSchema, matching, semverString, versionTriple } from './schema-helpers.js';

/** The file name discovery looks for. */
export const HANDLER_CONTRACT_FILE_NAME = 'handler_contract.yaml';

export const OBSERVABILITY_LEVELS = ['standard', 'enhanced'] as const;
export type ObservabilityLevel = (typeof OBSERVABILITY_LEVELS)[number];

export const DATA_CLASSIFICATIONS = ['public', 'internal', 'confidential', 'restricted'] as const;
export type DataClassification = (typeof DATA_CLASSIFICATIONS)[number];

/** Handler names are identities in logs and errors: lower-case snake_case, e.g. `handler_db`. */
export const HANDLER_NAME_RE = /^[a-z][a-z0-9_]*$/;

/**
 * A secret scope: a glob over secret references. `*` matches within one path segment
 * (no `/`), `**` matches across segments; e.g. `env://PG_*`, `vault://secret/data/db/**`.
 */
export const SECRET_SCOPE_RE = /^(?:env:\/\/[A-Za-z0-9_*]+|vault:\/\/[A-Za-z0-9_.*-]+(?:\/[A-Za-z0-9_.*-]+)*(?:#[A-Za-z0-9_.*-]+)?)$/;

/** An outbound domain: a host name, optionally a leading `*.` wildcard and a port. */
export const ALLOWED_DOMAIN_RE = /^(?:\*\.)?[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::\d{1,5})?$/;

/**
 * Fields a handler contract must never carry, with the rule they break. Handlers are
 * called by the runtime and return results; routing, orchestration and publishing belong
 * to nodes and the runtime, and code to load is chosen by the host, not by a file.
 */
export const HANDLER_CONTRACT_FORBIDDEN_FIELDS: Readonly<Record<string, 'HANDLER_CONTRACT_FORBIDDEN_DECLARATION' | 'HANDLER_CONTRACT_CODE_REFERENCE'>> = {
  execution_graph: 'HANDLER_CONTRACT_FORBIDDEN_DECLARATION',
  execution_graphs: 'HANDLER_CONTRACT_FORBIDDEN_DECLARATION',
  workflow: 'HANDLER_CONTRACT_FORBIDDEN_DECLARATION',
  dispatch_rules: 'HANDLER_CONTRACT_FORBIDDEN_DECLARATION',
  dispatch: 'HANDLER_CONTRACT_FORBIDDEN_DECLARATION',
  handler_routing: 'HANDLER_CONTRACT_FORBIDDEN_DECLARATION',
  publishes: 'HANDLER_CONTRACT_FORBIDDEN_DECLARATION',
  publish: 'HANDLER_CONTRACT_FORBIDDEN_DECLARATION',
  publish_topics: 'HANDLER_CONTRACT_FORBIDDEN_DECLARATION',
  emits: 'HANDLER_CONTRACT_FORBIDDEN_DECLARATION',
  output_topics: 'HANDLER_CONTRACT_FORBIDDEN_DECLARATION',
  topics: 'HANDLER_CONTRACT_FORBIDDEN_DECLARATION',
  import_path: 'HANDLER_CONTRACT_CODE_REFERENCE',
  artifact_ref: 'HANDLER_CONTRACT_CODE_REFERENCE',
  factory: 'HANDLER_CONTRACT_CODE_REFERENCE',
  module: 'HANDLER_CONTRACT_CODE_REFERENCE',
  entry_point: 'HANDLER_CONTRACT_CODE_REFERENCE',
};

/** What a handler may reach and read, checked when the handler is registered. */
export interface HandlerSecurity {
  /** Hosts the handler may call; absent means not declared, `[]` means no outbound traffic. */
  readonly allowedDomains?: readonly string[] | undefined;
  /** Globs over the secret references its runtime binding may use. @default [] */
  readonly secretScopes: readonly string[];
  /** Explicit override that lets an adapter hold secret scopes. @default false */
  readonly allowSecretScopes: boolean;
  readonly dataClassification?: DataClassification | undefined;
}

/** A parsed handler contract: frozen, every default filled in. */
export interface HandlerContract {
  /** @default '1.0.0' */
  readonly schemaVersion: string;
  /** Identity, e.g. `handler_db`. */
  readonly handlerName: string;
  readonly handlerVersion: string;
  readonly handlerType: HandlerType;
  /** Wire `handler_type_category`: behaviour, orthogonal to the type. */
  readonly category: HandlerCategory;
  /** Policy tag for platform plumbing; stricter rules apply. @default false */
  readonly isAdapter: boolean;
  readonly capabilities: readonly string[];
  readonly commandsAccepted: readonly string[];
  readonly security: HandlerSecurity;
  /** @default 'standard' */
  readonly observabilityLevel: ObservabilityLevel;
}

function uniqueList<T extends z.ZodType<string>>(item: T, what: string) {
  return z.array(item).superRefine((items, ctx) => {
    const seen = new Set<string>();
    items.forEach((value, index) => {
      if (seen.has(value)) addRuleIssue(ctx, `lists "${value}" twice`, { hint: `Remove the repeated ${what}.` }, [index]);
      seen.add(value);
    });
  });
}

const securitySchema = z
  .strictObject({
    allowed_domains: uniqueList(
      matching(ALLOWED_DOMAIN_RE, (v) => `must be a host name like "api.example.com" or "*.example.com" (got "${v}")`, 'Write host names only: no scheme, path or credentials.'),
      'domain',
    ).optional(),
    secret_scopes: uniqueList(
      matching(
        SECRET_SCOPE_RE,
        (v) => `must be a secret reference glob like "env://PG_*" or "vault://secret/data/db/**" (got "${v}")`,
        'Scopes match the secret_ref values of the runtime binding: "env://NAME" or "vault://path#key", with * inside a segment and ** across segments.',
      ),
      'scope',
    ).default([]),
    allow_secret_scopes: z.boolean().default(false),
    data_classification: z.enum(DATA_CLASSIFICATIONS).optional(),
  })
  .prefault({});

const commandSchema = matching(OPERATION_RE, (v) => `must be a dotted operation like "db.query" (got "${v}")`, 'Write lower-case snake_case segments joined by dots, e.g. "http.get".');
const capabilitySchema = matching(OPERATION_RE, (v) => `must be a dotted identifier like "sql.pooled" (got "${v}")`, 'Write lower-case snake_case segments joined by dots, e.g. "http.timeout".');

/** Wire handler contract → {@link HandlerContract}; adapter rules (ticket 10) are checked here. */
export const handlerContractSchema = z
  .strictObject({
    schema_version: versionTriple.default(CURRENT_CONTRACT_SCHEMA_VERSION),
    handler_name: matching(HANDLER_NAME_RE, (v) => `must be lower-case snake_case like "handler_db" (got "${v}")`, 'Name the handler e.g. "handler_db"; the name is its identity in hybrid mode and in logs.'),
    handler_version: semverString,
    // Any known type parses; whether this host ships an implementation is checked at discovery.
    handler_type: handlerTypeSchema(HANDLER_TYPES),
    handler_type_category: z.enum(HANDLER_CATEGORIES),
    is_adapter: z.boolean().default(false),
    capabilities: uniqueList(capabilitySchema, 'capability'),
    commands_accepted: uniqueList(commandSchema, 'command').min(1),
    security: securitySchema,
    observability_level: z.enum(OBSERVABILITY_LEVELS).default('standard'),
  })
  .superRefine((w, ctx) => {
    if (!w.is_adapter) return;
    // Adapters are platform plumbing at the edge: they do I/O, so they are EFFECT, and they
    // get the narrowest defaults because they face the outside world.
    if (w.handler_type_category !== 'effect') {
      addRuleIssue(
        ctx,
        `An adapter must have handler_type_category: effect, got "${w.handler_type_category}"`,
        { ruleId: 'HANDLER_ADAPTER_CATEGORY', hint: 'Set handler_type_category: effect (adapters do I/O), or set is_adapter: false if this is not platform plumbing.' },
        ['handler_type_category'],
      );
    }
    if (w.security.secret_scopes.length > 0 && !w.security.allow_secret_scopes) {
      addRuleIssue(
        ctx,
        'An adapter gets no secrets by default, but secret_scopes is not empty',
        {
          ruleId: 'HANDLER_ADAPTER_SECRETS',
          hint: 'Remove the secret scopes (secret_scopes: []), or set security.allow_secret_scopes: true as an explicit, reviewed override.',
        },
        ['security', 'secret_scopes'],
      );
    }
    if (w.security.allowed_domains === undefined) {
      addRuleIssue(
        ctx,
        'An adapter must declare security.allowed_domains',
        {
          ruleId: 'HANDLER_ADAPTER_DOMAINS',
          hint: 'Add security.allowed_domains listing the hosts it may reach, e.g. ["api.example.com"]; an empty list [] means no outbound traffic.',
          target: 'key',
        },
        ['security'],
      );
    }
    if (w.observability_level !== 'enhanced') {
      addRuleIssue(
        ctx,
        `An adapter must have observability_level: enhanced, got "${w.observability_level}"`,
        { ruleId: 'HANDLER_ADAPTER_OBSERVABILITY', hint: 'Set observability_level: enhanced; adapters face the outside world and must be fully traced.' },
        ['observability_level'],
      );
    }
  })
  .transform(
    (w): HandlerContract => ({
      schemaVersion: w.schema_version,
      handlerName: w.handler_name,
      handlerVersion: w.handler_version,
      handlerType: w.handler_type,
      category: w.handler_type_category,
      isAdapter: w.is_adapter,
      capabilities: w.capabilities,
      commandsAccepted: w.commands_accepted,
      security: {
        allowedDomains: w.security.allowed_domains,
        secretScopes: w.security.secret_scopes,
        allowSecretScopes: w.security.allow_secret_scopes,
        dataClassification: w.security.data_classification,
      },
      observabilityLevel: w.observability_level,
    }),
  );

/** The YAML shape a handler contract is written in. */
export type HandlerContractInput = z.input<typeof handlerContractSchema>;
