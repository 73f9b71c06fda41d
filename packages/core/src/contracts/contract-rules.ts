/**
 * Contract rules that look across entries or depend on how the contract is loaded:
 * duplicates, dev-only handlers, empty lists, inline secrets, compute purity, routing.
 * They read the raw document defensively, so they still report when the schema has
 * already rejected some other part of it: one run shows every problem.
 */
import { OPERATION_RE } from '../envelope/envelope-schema.js';
import { formatPath, isRecord, type ContractPath, type DraftIssue, type Locate } from './draft-issue.js';
import { catalogEntries, type HandlerCatalog } from './handler-catalog.js';
import { normalizeNodeType } from './node-contract-schema.js';
import { inlineCredentialProblem } from './secret-ref.js';

export interface RuntimeHostRuleOptions {
  /** Loaded for development: dev-only handlers (`local`) may appear and literal credentials are warnings. */
  readonly allowDevHandlers: boolean;
  readonly catalog: HandlerCatalog;
}

const SECRET_REF_HINT = 'No secrets in contracts: use { secret_ref: "vault://<path>#<key>" } or { secret_ref: "env://<NAME>" } instead.';

/** Rules of the runtime host contract that the schema cannot express. */
export function runtimeHostRules(raw: unknown, options: RuntimeHostRuleOptions, locate: Locate): DraftIssue[] {
  const issues: DraftIssue[] = [];
  const runtime = isRecord(raw) ? raw.runtime : undefined;
  if (!isRecord(runtime)) return issues;

  const handlers = runtime.handlers;
  if (Array.isArray(handlers)) {
    const base: ContractPath = ['runtime', 'handlers'];
    if (handlers.length === 0) {
      issues.push({
        ruleId: 'CONTRACT_EMPTY_HANDLERS',
        severity: 'warning',
        message: 'The handler list is empty: the runtime will start but its nodes cannot perform any I/O',
        hint: 'Add the handlers your nodes use (e.g. - type: "http"), or ignore this warning for a runtime of pure nodes.',
        path: base,
        target: 'key',
      });
    }
    const byType = new Map<string, number>();
    const byName = new Map<string, number>();
    handlers.forEach((handler, index) => {
      if (!isRecord(handler) || typeof handler.type !== 'string') return;
      const type = handler.type;
      const here: ContractPath = [...base, index];
      const entry = Object.hasOwn(options.catalog, type) ? options.catalog[type as keyof HandlerCatalog] : undefined;
      if (entry?.devOnly === true && !options.allowDevHandlers) {
        issues.push({
          ruleId: 'CONTRACT_DEV_HANDLER_FORBIDDEN',
          severity: 'error',
          message: `Handler type "${type}" is for development and tests only and is not allowed here`,
          hint: `Remove the ${type} handler from this contract, or run the contract with the "dev" subcommand, which allows dev-only handlers.`,
          path: [...here, 'type'],
        });
      }
      const firstOfType = byType.get(type);
      if (firstOfType === undefined) byType.set(type, index);
      else {
        issues.push({
          ruleId: 'CONTRACT_DUPLICATE_HANDLER',
          severity: 'error',
          message: `Handler type "${type}" is declared more than once (first at ${describeAt([...base, firstOfType], locate)})`,
          hint: 'Keep one handler per type: merge the settings into the first entry and remove this one.',
          path: [...here, 'type'],
        });
      }
      const name = typeof handler.name === 'string' ? handler.name : type;
      const firstOfName = byName.get(name);
      if (firstOfName === undefined) byName.set(name, index);
      else if (firstOfType === undefined) {
        // Same type is already reported above; this catches two types sharing an explicit name.
        issues.push({
          ruleId: 'CONTRACT_DUPLICATE_HANDLER',
          severity: 'error',
          message: `Handler name "${name}" is used more than once (first at ${describeAt([...base, firstOfName], locate)})`,
          hint: 'Give each handler a distinct name, or drop "name" to use the handler type.',
          path: [...here, typeof handler.name === 'string' ? 'name' : 'type'],
        });
      }
      if (entry !== undefined) issues.push(...inlineSecretIssues(handler.config, entry.credentialFields, [...here, 'config'], options.allowDevHandlers));
    });
  }

  // The idempotency store's URL reaches a database too.
  issues.push(...inlineSecretIssues(runtime.idempotency, ['url'], ['runtime', 'idempotency'], options.allowDevHandlers));

  const nodes = runtime.nodes;
  if (Array.isArray(nodes)) {
    const bySlug = new Map<string, number>();
    nodes.forEach((node, index) => {
      if (!isRecord(node) || typeof node.slug !== 'string') return;
      const first = bySlug.get(node.slug);
      if (first === undefined) bySlug.set(node.slug, index);
      else {
        issues.push({
          ruleId: 'CONTRACT_DUPLICATE_NODE',
          severity: 'error',
          message: `Node slug "${node.slug}" is listed more than once (first at ${describeAt(['runtime', 'nodes', first], locate)})`,
          hint: 'List each node once; node slugs address envelopes, so they must be unique.',
          path: ['runtime', 'nodes', index, 'slug'],
        });
      }
    });
  }
  return issues;
}

/**
 * Credentials written in plain text: a literal token or password, or a URL carrying a
 * password. `${NAME}` placeholders and `{ secret_ref }` are fine. A contract loaded for
 * `run` must not hold secrets (it is committed, reviewed, printed), so there it is an
 * error; `dev` only warns, to keep local experiments quick.
 */
function inlineSecretIssues(config: unknown, fields: readonly string[], base: ContractPath, dev: boolean): DraftIssue[] {
  if (!isRecord(config)) return [];
  const issues: DraftIssue[] = [];
  const severity = dev ? 'warning' : 'error';
  for (const field of fields) {
    const value = config[field];
    if (typeof value !== 'string') continue;
    const problem = inlineCredentialProblem(value);
    if (problem === 'url_password') {
      issues.push({
        ruleId: 'CONTRACT_INLINE_SECRET',
        severity,
        message: `"${field}" contains a password`,
        hint: `Keep the whole URL in a secret store, e.g. ${field}: { secret_ref: "env://DB_URL" }. ${SECRET_REF_HINT}`,
        path: [...base, field],
      });
    } else if (problem === 'literal') {
      issues.push({ ruleId: 'CONTRACT_INLINE_SECRET', severity, message: `"${field}" holds a literal credential`, hint: SECRET_REF_HINT, path: [...base, field] });
    }
  }
  return issues;
}

/** What a node's io_operations are checked against, when known. */
export interface NodeHandlerContext {
  readonly catalog?: HandlerCatalog | undefined;
  readonly enabledHandlers?: readonly string[] | undefined;
}

/** Rules of a node contract that the schema cannot express. */
export function nodeContractRules(raw: unknown, locate: Locate, handlers: NodeHandlerContext = {}): DraftIssue[] {
  const issues: DraftIssue[] = [];
  if (!isRecord(raw)) return issues;
  const nodeType = typeof raw.node_type === 'string' ? normalizeNodeType(raw.node_type) : undefined;
  const io = raw.io_operations;

  if (nodeType === 'COMPUTE' && Array.isArray(io) && io.length > 0) {
    issues.push({
      ruleId: 'CONTRACT_COMPUTE_HAS_IO',
      severity: 'error',
      message: 'A COMPUTE node declares io_operations; compute nodes are pure and perform no I/O',
      hint: 'Set io_operations: [] and pass the data in through the input model, or make this an EFFECT node.',
      path: ['io_operations'],
      target: 'key',
    });
  }

  if (Array.isArray(io)) {
    io.forEach((entry, i) => {
      if (!isRecord(entry) || typeof entry.type !== 'string' || !Array.isArray(entry.operations)) return;
      const type = entry.type;
      issues.push(...handlerAvailabilityIssues(type, entry.operations, i, handlers));
      entry.operations.forEach((operation: unknown, j) => {
        // Malformed operations are already reported by the schema; a prefix verdict would only repeat it.
        if (typeof operation !== 'string' || !OPERATION_RE.test(operation) || operation.startsWith(`${type}.`)) return;
        const prefix = operation.split('.')[0] ?? operation;
        issues.push({
          ruleId: 'CONTRACT_IO_OPERATION_MISMATCH',
          severity: 'error',
          message: `Operation "${operation}" does not belong to handler type "${type}"`,
          hint:
            prefix !== operation
              ? `Operations listed under type "${type}" start with "${type}."; move "${operation}" to an io_operations entry of type "${prefix}".`
              : `Operations listed under type "${type}" start with "${type}.", e.g. "${type}.${operation}".`,
          path: ['io_operations', i, 'operations', j],
        });
      });
    });
  }

  if (raw.state_machine !== undefined && nodeType !== undefined && nodeType !== 'REDUCER') {
    issues.push({
      ruleId: 'CONTRACT_STATE_MACHINE_OUTSIDE_REDUCER',
      severity: 'error',
      message:
        nodeType === 'ORCHESTRATOR'
          ? 'An ORCHESTRATOR declares a state_machine: workflow FSM logic in an orchestrator duplicates reducer-governed transitions (architecture rule ARCH_ORCHESTRATOR_FSM)'
          : `A ${nodeType} node declares a state_machine; only REDUCER nodes hold state transitions`,
      hint: 'Move the state machine into a REDUCER node contract; the orchestrator emits the events that drive it.',
      path: ['state_machine'],
      target: 'key',
    });
  }

  if (nodeType === 'EFFECT' && raw.implementation !== undefined) {
    issues.push({
      ruleId: 'CONTRACT_INVALID_VALUE',
      severity: 'error',
      message: 'An EFFECT node names an implementation; effect nodes run no code of their own, their behaviour is their io_operations',
      hint: 'Remove implementation, or make this a COMPUTE, REDUCER or ORCHESTRATOR node and move the I/O into an EFFECT node.',
      path: ['implementation'],
      target: 'key',
    });
  }

  issues.push(...routingIssues(raw.handler_routing, locate, raw.implementation !== undefined));
  return issues;
}

/**
 * An io_operations entry must name a handler the host has, the runtime enables, and
 * operations that handler offers: otherwise the node validates but every call fails.
 */
function handlerAvailabilityIssues(type: string, operations: readonly unknown[], index: number, handlers: NodeHandlerContext): DraftIssue[] {
  const { catalog, enabledHandlers } = handlers;
  const here: ContractPath = ['io_operations', index];
  if (catalog === undefined) return [];
  const entry = Object.hasOwn(catalog, type) ? catalog[type as keyof HandlerCatalog] : undefined;
  if (entry === undefined) {
    const known = catalogEntries(catalog).map((e) => e.type);
    return [
      {
        ruleId: 'CONTRACT_UNKNOWN_HANDLER_TYPE',
        severity: 'error',
        message: `Handler type "${type}" has no implementation in this runtime`,
        hint: `Valid handler types are: ${known.join(', ')}. Remove this io_operations entry or use one of them.`,
        path: [...here, 'type'],
      },
    ];
  }
  const issues: DraftIssue[] = [];
  if (enabledHandlers !== undefined && !enabledHandlers.includes(type)) {
    issues.push({
      ruleId: 'CONTRACT_HANDLER_NOT_ENABLED',
      severity: 'error',
      message: `The node uses the ${type} handler, which the runtime contract does not enable`,
      hint: `Add - type: "${type}" to runtime.handlers (or set enabled: true on it), or remove this io_operations entry.`,
      path: [...here, 'type'],
    });
  }
  operations.forEach((operation, j) => {
    // Wrong prefixes and malformed names have their own rules.
    if (typeof operation !== 'string' || !OPERATION_RE.test(operation) || !operation.startsWith(`${type}.`)) return;
    if (entry.operations.includes(operation)) return;
    issues.push({
      ruleId: 'CONTRACT_UNKNOWN_OPERATION',
      severity: 'error',
      message: `The ${type} handler has no operation "${operation}"`,
      hint: `Operations of the ${type} handler: ${entry.operations.join(', ')}.`,
      path: ['io_operations', index, 'operations', j],
    });
  });
  return issues;
}

function routingIssues(routing: unknown, locate: Locate, nodeHasImplementation: boolean): DraftIssue[] {
  if (!isRecord(routing) || !Array.isArray(routing.handlers)) return [];
  const strategy = routing.routing_strategy;
  if (strategy !== 'operation_match' && strategy !== 'payload_type_match') return [];
  const issues: DraftIssue[] = [];
  const seen = new Map<string, number>();
  const own: readonly string[] = strategy === 'operation_match' ? ['operation'] : ['event_model', 'payload_type'];
  const foreign: readonly string[] = strategy === 'operation_match' ? ['event_model', 'payload_type'] : ['operation'];

  routing.handlers.forEach((entry: unknown, index) => {
    if (!isRecord(entry)) return;
    const here: ContractPath = ['handler_routing', 'handlers', index];
    if (!own.some((key) => entry[key] !== undefined)) {
      const wanted = own.map((key) => `"${key}"`).join(' or ');
      issues.push({
        ruleId: 'CONTRACT_MISSING_FIELD',
        severity: 'error',
        message: `Missing required field ${wanted} in handler_routing.handlers[${index}] (needed by ${strategy} routing)`,
        hint:
          strategy === 'operation_match'
            ? 'Add operation: "<operation>" naming the envelope operation this handler serves.'
            : 'Add event_model: { name: "<ModelName>", module: "<module>" } or payload_type: "<type>" naming the payload this handler serves.',
        path: [...here, own[0] ?? 'operation'],
        target: 'key',
      });
    }
    for (const key of foreign) {
      if (entry[key] === undefined) continue;
      issues.push({
        ruleId: 'CONTRACT_INVALID_VALUE',
        severity: 'error',
        message: `"${key}" is not used by ${strategy} routing`,
        hint: `Remove "${key}", or set routing_strategy to ${strategy === 'operation_match' ? 'payload_type_match' : 'operation_match'} if that is how this node routes.`,
        path: [...here, key],
        target: 'key',
      });
    }
    if (entry.handler !== undefined && entry.implementation !== undefined) {
      issues.push({
        ruleId: 'CONTRACT_INVALID_VALUE',
        severity: 'error',
        message: `handler_routing.handlers[${index}] names both a built-in handler and an implementation`,
        hint: 'Keep one: handler: { name } for a function built into the host, or implementation: { module, export } for your own code.',
        path: [...here, 'implementation'],
        target: 'key',
      });
    } else if (entry.handler === undefined && entry.implementation === undefined && !nodeHasImplementation) {
      issues.push({
        ruleId: 'CONTRACT_MISSING_FIELD',
        severity: 'error',
        message: `handler_routing.handlers[${index}] names no code: it has neither handler nor implementation, and the node has no implementation`,
        hint: 'Add implementation: { module: "./logic/<file>.js", export: "<name>" } to the route or to the node, or handler: { name } for a built-in function.',
        path: here,
        target: 'key',
      });
    }
    const route = routeKey(entry, strategy);
    if (route === undefined) return;
    const first = seen.get(route.key);
    if (first === undefined) seen.set(route.key, index);
    else {
      issues.push({
        ruleId: 'CONTRACT_DUPLICATE_ROUTE',
        severity: 'error',
        message: `${route.label} is routed more than once (first at ${describeAt(['handler_routing', 'handlers', first], locate)})`,
        hint: 'Route each operation or payload type to exactly one handler: remove or change this entry.',
        path: [...here, route.field],
      });
    }
  });
  return issues;
}

function routeKey(entry: Record<string, unknown>, strategy: string): { key: string; label: string; field: string } | undefined {
  if (strategy === 'operation_match') {
    return typeof entry.operation === 'string' ? { key: `op:${entry.operation}`, label: `Operation "${entry.operation}"`, field: 'operation' } : undefined;
  }
  // At run time both are matched against the payload's one type field, payload_type first
  // (node-factory's routeKeyOf): one key space, or a second route could never be reached.
  if (typeof entry.payload_type === 'string') return { key: `type:${entry.payload_type}`, label: `Payload type "${entry.payload_type}"`, field: 'payload_type' };
  const model = entry.event_model;
  const modelName = typeof model === 'string' ? model : isRecord(model) && typeof model.name === 'string' ? model.name : undefined;
  return modelName === undefined ? undefined : { key: `type:${modelName}`, label: `Event model "${modelName}"`, field: 'event_model' };
}

/** `runtime.handlers[0], line 7`: where the first of a duplicate pair is, for the message. */
function describeAt(path: ContractPath, locate: Locate): string {
  const text = formatPath(path) ?? 'the top level';
  const position = locate(path, 'value');
  return position ? `${text}, line ${position.line}` : text;
}
