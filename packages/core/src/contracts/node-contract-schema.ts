/**
 * Node contracts: what one node is (its kind, models and the I/O it performs) and how
 * envelopes are routed to its handlers. Declarative nodes carry no logic of their own, so
 * everything the runtime needs to host one is in this contract.
 */
import { z } from 'zod';
import { HANDLER_TYPES, type HandlerType } from '../enums/handler-type.js';
import { NODE_TYPES, type NodeType } from '../enums/node-kind.js';
import { OPERATION_RE } from '../envelope/envelope-schema.js';
import { IO_ACCESS_LEVELS, type IoAccess } from '../runtime/handler-port.js';
import { CURRENT_CONTRACT_SCHEMA_VERSION } from './schema-version.js';
import type { JsonObject } from '../json.js';
import { fieldTypeSchema, MODEL_FIELD_TYPES } from './model-schema.js';
import { compileModelSchema } from './model-validator.js';
import { addRuleIssue, handlerTypeSchema, matching, nonEmptyString, versionSchema, versionTriple } from './schema-helpers.js';

/** Node names become module and log identifiers, so they are lower-case snake_case. */
export const NODE_NAME_RE = /^[a-z][a-z0-9_]*$/;

export const ROUTING_STRATEGIES = ['operation_match', 'payload_type_match'] as const;
export type RoutingStrategy = (typeof ROUTING_STRATEGIES)[number];

/**
 * Maps a wire `node_type` to a {@link NodeType}. The earlier infrastructure wrote the
 * contract types with a `_GENERIC` suffix (`EFFECT_GENERIC`); both spellings mean the same.
 */
export function normalizeNodeType(value: string): NodeType | undefined {
  const bare = value.endsWith('_GENERIC') ? value.slice(0, -'_GENERIC'.length) : value;
  return NODE_TYPES.find((t) => t === bare);
}

/** One field of an input or output model. */
export interface ModelField {
  readonly name: string;
  readonly type: string;
  /** @default true */
  readonly required: boolean;
  readonly description?: string | undefined;
}

/**
 * A named model a node reads or writes. With `fields` or `schema` the host checks every
 * payload (input) or result (output) against it; with neither it only documents.
 */
export interface ModelSpec {
  readonly name: string;
  readonly module?: string | undefined;
  readonly description?: string | undefined;
  /** @default [] */
  readonly fields: readonly ModelField[];
  /** A JSON Schema (draft 2020-12); excludes `fields`. */
  readonly schema?: JsonObject | undefined;
}

/**
 * The code behind a node or a route: an export of an ES module. The module path resolves
 * from the node contract's directory (`./logic/pricing.js`), or names a package the
 * runtime contract allows (`runtime.modules.allowed_packages`).
 */
export interface ImplementationRef {
  readonly module: string;
  /** @default 'default' */
  readonly export: string;
  /** Hex SHA-256 of the module file, checked before it is imported. */
  readonly sha256?: string | undefined;
}

/** I/O a node performs through one handler type. */
export interface IoOperation {
  readonly type: HandlerType;
  /** Dotted operations, each starting with the handler type (`http.get`). */
  readonly operations: readonly string[];
  readonly target?: string | undefined;
  /**
   * What these operations may do: `read_only` (the db handler runs only statements that
   * read) or `read_write`.
   * @default 'read_only'
   */
  readonly access: IoAccess;
}

/** A class (handler or event model) named by the contract and loaded by the host. */
export interface ClassRef {
  readonly name: string;
  readonly module?: string | undefined;
}

/**
 * One entry of `handler_routing.handlers`: what it matches and the code it runs, either a
 * function built into the host (`handler.name`) or a module export (`implementation`).
 * With neither, the node's own `implementation` serves the route.
 */
export interface HandlerRoute {
  /** Set for `operation_match` routing. */
  readonly operation?: string | undefined;
  /** Set (or `payloadType`) for `payload_type_match` routing. */
  readonly eventModel?: ClassRef | undefined;
  readonly payloadType?: string | undefined;
  readonly handler?: ClassRef | undefined;
  readonly implementation?: ImplementationRef | undefined;
}

export interface HandlerRouting {
  readonly routingStrategy: RoutingStrategy;
  /**
   * `payload_type_match`: the payload key whose string value is the payload's type.
   * @default 'payload_type'
   */
  readonly payloadTypeField: string;
  readonly handlers: readonly HandlerRoute[];
}

export interface NodeDependency {
  readonly name: string;
  readonly type?: string | undefined;
  readonly module?: string | undefined;
  readonly version?: string | undefined;
  readonly description?: string | undefined;
}

/**
 * A reducer's aggregate state machine: the sanctioned home of state transitions. Only
 * REDUCER contracts may declare one (an orchestrator with its own workflow FSM would
 * duplicate the reducer-governed transitions).
 */
export interface StateMachineSpec {
  readonly initialState: string;
  readonly states: readonly string[];
  readonly transitions: ReadonlyArray<{ readonly from: string; readonly to: string; readonly on: string }>;
}

/** A parsed node contract: frozen, every default filled in. */
export interface NodeContract {
  /** @default '1.0.0' */
  readonly schemaVersion: string;
  readonly nodeVersion: string;
  readonly contractVersion?: string | undefined;
  readonly name: string;
  readonly nodeType: NodeType;
  readonly description: string;
  readonly inputModel: ModelSpec;
  readonly outputModel: ModelSpec;
  /** @default [] */
  readonly ioOperations: readonly IoOperation[];
  readonly handlerRouting?: HandlerRouting | undefined;
  /** The node's code (COMPUTE, REDUCER, ORCHESTRATOR); routes may name their own instead. */
  readonly implementation?: ImplementationRef | undefined;
  /** @default [] */
  readonly dependencies: readonly NodeDependency[];
  /** REDUCER only. */
  readonly stateMachine?: StateMachineSpec | undefined;
}

const nodeTypeSchema = z.string().transform((value, ctx): NodeType => {
  const nodeType = normalizeNodeType(value);
  if (nodeType !== undefined) return nodeType;
  addRuleIssue(ctx, `must be one of ${NODE_TYPES.join(', ')} (got "${value}")`, {
    hint: `Use one of ${NODE_TYPES.join(', ')}; the _GENERIC forms (e.g. EFFECT_GENERIC) are accepted too. Node types are upper-case.`,
  });
  return z.NEVER;
});

const operationString = matching(
  OPERATION_RE,
  (v) => `must be lower-case dotted words like "http.get" (got "${v}")`,
  'Write operations as lower-case words joined by dots, e.g. "db.query".',
);

const classRefSchema = z.strictObject({ name: nonEmptyString, module: nonEmptyString.optional() }).transform((w): ClassRef => ({ name: w.name, module: w.module }));

/** `event_model` may name just the class, as the handler plugin loader's short form does. */
const eventModelSchema = z.union([nonEmptyString.transform((name): ClassRef => ({ name })), classRefSchema], {
  error: 'must be a model name or a mapping { name, module }',
});

const modelFieldSchema = z
  .strictObject({ name: nonEmptyString, type: nonEmptyString, required: z.boolean().default(true), description: z.string().optional() })
  .transform((w): ModelField => ({ name: w.name, type: w.type, required: w.required, description: w.description }));

const FIELD_TYPE_HINT = `Use one of ${Object.keys(MODEL_FIELD_TYPES).join(', ')}, list[<type>], or a capitalised model name (an object); for anything finer write the model as schema: (JSON Schema).`;

const jsonSchemaObject = z.record(z.string(), z.unknown()).transform((v) => v as JsonObject);

const modelSpecSchema = z
  .strictObject({
    name: nonEmptyString,
    module: nonEmptyString.optional(),
    description: z.string().optional(),
    fields: z.array(modelFieldSchema).optional(),
    schema: jsonSchemaObject.optional(),
  })
  .superRefine((w, ctx) => {
    if (w.fields !== undefined && w.schema !== undefined) {
      addRuleIssue(ctx, 'cannot be combined with fields: a model is written one way or the other', {
        ruleId: 'CONTRACT_INVALID_MODEL',
        hint: 'Keep schema: (JSON Schema) and move the field list into its properties, or drop schema:.',
        target: 'key',
      }, ['schema']);
    }
    w.fields?.forEach((field, index) => {
      if (fieldTypeSchema(field.type) !== undefined) return;
      addRuleIssue(ctx, `is "${field.type}" (field "${field.name}"), a type the host cannot check`, { ruleId: 'CONTRACT_INVALID_MODEL', hint: FIELD_TYPE_HINT }, ['fields', index, 'type']);
    });
    if (w.schema !== undefined) {
      // Compiled now, so a broken schema fails validate, not the first envelope.
      const compiled = compileModelSchema(w.schema);
      if (!compiled.ok) {
        addRuleIssue(ctx, `is not a usable JSON Schema (draft 2020-12): ${compiled.problem}`, {
          ruleId: 'CONTRACT_INVALID_MODEL',
          hint: 'Fix the schema; remote $refs are not fetched, so keep every definition under $defs in the schema itself.',
        }, ['schema']);
      }
    }
  })
  .transform((w): ModelSpec => ({ name: w.name, module: w.module, description: w.description, fields: w.fields ?? [], schema: w.schema }));

const SHA256_RE = /^[a-f0-9]{64}$/;

const implementationSchema = z
  .strictObject({
    module: nonEmptyString,
    export: nonEmptyString.default('default'),
    sha256: matching(SHA256_RE, () => 'must be 64 lower-case hex digits', 'Write the hex SHA-256 of the module file, e.g. the first field of `sha256sum dist/pricing.js`.').optional(),
  })
  .transform((w): ImplementationRef => ({ module: w.module, export: w.export, sha256: w.sha256 }));

const ioOperationSchema = z
  .strictObject({
    type: handlerTypeSchema(HANDLER_TYPES),
    operations: z.array(operationString).min(1),
    target: nonEmptyString.optional(),
    access: z.enum(IO_ACCESS_LEVELS).default('read_only'),
  })
  .transform((w): IoOperation => ({ type: w.type, operations: w.operations, target: w.target, access: w.access }));

const handlerRouteSchema = z
  .strictObject({
    operation: operationString.optional(),
    event_model: eventModelSchema.optional(),
    payload_type: nonEmptyString.optional(),
    handler: classRefSchema.optional(),
    implementation: implementationSchema.optional(),
  })
  .transform((w): HandlerRoute => ({ operation: w.operation, eventModel: w.event_model, payloadType: w.payload_type, handler: w.handler, implementation: w.implementation }));

const handlerRoutingSchema = z
  .strictObject({
    routing_strategy: z.enum(ROUTING_STRATEGIES),
    payload_type_field: nonEmptyString.default('payload_type'),
    handlers: z.array(handlerRouteSchema).min(1),
  })
  .transform((w): HandlerRouting => ({ routingStrategy: w.routing_strategy, payloadTypeField: w.payload_type_field, handlers: w.handlers }));

const dependencySchema = z.union(
  [
    nonEmptyString.transform((name): NodeDependency => ({ name })),
    z
      .strictObject({
        name: nonEmptyString,
        type: nonEmptyString.optional(),
        module: nonEmptyString.optional(),
        version: nonEmptyString.optional(),
        description: z.string().optional(),
      })
      .transform((w): NodeDependency => ({ name: w.name, type: w.type, module: w.module, version: w.version, description: w.description })),
  ],
  { error: 'must be a name or a mapping { name, type?, module?, version?, description? }' },
);

const stateMachineSchema = z
  .strictObject({
    initial_state: nonEmptyString,
    states: z.array(nonEmptyString).min(1),
    transitions: z.array(z.strictObject({ from: nonEmptyString, to: nonEmptyString, on: nonEmptyString })).default([]),
  })
  .transform((w): StateMachineSpec => ({ initialState: w.initial_state, states: w.states, transitions: w.transitions }));

/**
 * The node contract, wire form in, {@link NodeContract} out. It checks structure and single
 * fields; `parseNodeContract` adds the rules that span fields (compute purity, operation
 * prefixes, routing entries) and the schema version gate.
 */
export const nodeContractSchema = z
  .strictObject({
    schema_version: versionTriple.default(CURRENT_CONTRACT_SCHEMA_VERSION),
    node_version: versionSchema,
    contract_version: versionSchema.optional(),
    name: matching(NODE_NAME_RE, (v) => `must be lower-case snake_case like "user_service_effect" (got "${v}")`, 'Rename the node using lower-case letters, digits and "_", starting with a letter.'),
    node_type: nodeTypeSchema,
    description: nonEmptyString,
    input_model: modelSpecSchema,
    output_model: modelSpecSchema,
    io_operations: z.array(ioOperationSchema).default([]),
    handler_routing: handlerRoutingSchema.optional(),
    implementation: implementationSchema.optional(),
    dependencies: z.array(dependencySchema).default([]),
    state_machine: stateMachineSchema.optional(),
  })
  .transform(
    (w): NodeContract => ({
      schemaVersion: w.schema_version,
      nodeVersion: w.node_version,
      contractVersion: w.contract_version,
      name: w.name,
      nodeType: w.node_type,
      description: w.description,
      inputModel: w.input_model,
      outputModel: w.output_model,
      ioOperations: w.io_operations,
      handlerRouting: w.handler_routing,
      implementation: w.implementation,
      dependencies: w.dependencies,
      stateMachine: w.state_machine,
    }),
  );

/** The YAML/JSON shape a node contract is written in. */
export type NodeContractInput = z.input<typeof nodeContractSchema>;
