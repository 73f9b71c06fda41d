/**
 * Builds the node a contract declares: finds the code each route names (a built-in
 * function or a module export), routes envelopes by operation or payload type at run
 * time, and enforces the contract's input and output models with checks compiled once.
 */
import type { ContractPath } from '../contracts/draft-issue.js';
import { modelJsonSchema } from '../contracts/model-schema.js';
import { compileModelSchema, type ModelCheck, type ModelViolation } from '../contracts/model-validator.js';
import type { HandlerRoute, ImplementationRef, ModelSpec, NodeContract } from '../contracts/node-contract-schema.js';
import type { OnexEnvelope } from '../envelope/envelope.js';
import { ContractValidationError, type ContractIssue } from '../errors/contract-validation-error.js';
import type { ContractRuleId } from '../contracts/contract-rule-ids.js';
import { InternalError, InvalidOperationError, PayloadValidationError } from '../errors/runtime-errors.js';
import type { JsonObject, JsonValue } from '../json.js';
import type { NodeContext } from './define-node.js';
import { computeStepOf, orchestrateStepOf, reduceStepOf, WrongKindError, type ComputeStep, type OrchestrateStep, type ReduceStep, type StepKind } from './node-code.js';
import { NodeInstance, type NodeCallScope, type NodeDescription, type NodeExecutionPort } from './node-instance.js';
import { ComputeNode, EffectNode, OrchestratorNode, ReducerNode, type ComputeContext, type OrchestratorNodeOptions, type ReducerNodeOptions } from './nodes.js';

/** A pure compute function a COMPUTE node contract can name in `handler_routing`. */
export type ComputeFunction = (input: JsonValue, context: ComputeContext) => JsonValue;

/**
 * Code built into the host, looked up by the `handler.name` a node contract's
 * `handler_routing` names. EFFECT nodes need none: their behaviour is their
 * `io_operations`.
 */
export interface NodeImplementations {
  readonly compute?: Readonly<Record<string, ComputeFunction>>;
  readonly reducers?: Readonly<Record<string, Omit<ReducerNodeOptions<JsonValue>, 'slug' | 'description'>>>;
  readonly orchestrators?: Readonly<Record<string, OrchestratorNodeOptions['orchestrate']>>;
}

/** Every piece of code a node may name: built-ins by name, and module exports the host's loader imported. */
export interface NodeCode extends NodeImplementations {
  /**
   * The export each `implementation` of the contract resolved to, keyed by the contract's
   * own (frozen) ImplementationRef objects. The loader fills it; core never imports.
   */
  readonly modules?: ReadonlyMap<ImplementationRef, unknown>;
}

/** Where the contract came from, so issues and model errors can name `file:line`. */
export interface NodeContractSource {
  readonly file?: string | undefined;
  /** The 1-based line of a path in the contract text. */
  readonly lineOf?: ((path: ContractPath) => number | undefined) | undefined;
}

function issueAt(ruleId: ContractRuleId, message: string, hint: string, where: NodeContractSource, path: ContractPath): ContractIssue {
  return { ruleId, severity: 'error', message, hint, file: where.file, line: where.lineOf?.(path), path: path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('') };
}

/** One route, its code resolved. `key` undefined: the node's catch-all. */
interface Route<Step> {
  readonly key: string | undefined;
  readonly step: Step;
}

function routeKeyOf(route: HandlerRoute): string | undefined {
  return route.operation ?? route.payloadType ?? route.eventModel?.name;
}

/**
 * Finds the code of every route (and of the node itself) for one node kind, collecting
 * every problem rather than stopping at the first.
 */
function resolveRoutes<Step>(
  slug: string,
  contract: NodeContract,
  code: NodeCode,
  where: NodeContractSource,
  kind: StepKind,
  builtin: (name: string) => Step | undefined,
  builtinNames: readonly string[],
  fromExport: (value: unknown, origin: { node: string; code: string }) => Step,
): { routes: Route<Step>[]; nodeStep: Step | undefined } {
  const issues: ContractIssue[] = [];
  const load = (ref: ImplementationRef, path: ContractPath): Step | undefined => {
    const label = `${ref.module}#${ref.export}`;
    if (!code.modules?.has(ref)) {
      issues.push(issueAt('CONTRACT_UNKNOWN_IMPLEMENTATION', `Node "${slug}" names ${label}, which the host did not load`, 'Run the contract through onex-runtime-host (it loads implementation modules), or pass the loaded exports in NodeCode.modules.', where, path));
      return undefined;
    }
    try {
      return fromExport(code.modules.get(ref), { node: slug, code: label });
    } catch (error) {
      if (!(error instanceof WrongKindError)) throw error;
      issues.push(
        issueAt(
          'HANDLER_LOADER_006',
          `Node "${slug}": export "${ref.export}" of ${ref.module} ${error.message}`,
          `A ${contract.nodeType} node needs ${kind === 'compute' ? 'a function (input, context) => output or defineCompute(...)' : `define${kind === 'reducer' ? 'Reducer' : 'Orchestrator'}(...)`} from @onex/core; export one, or point implementation.export at the right export.`,
          where,
          [...path, 'export'],
        ),
      );
      return undefined;
    }
  };
  const nodeStep = contract.implementation === undefined ? undefined : load(contract.implementation, ['implementation']);
  const routes: Route<Step>[] = [];
  const declared = contract.handlerRouting?.handlers ?? [];
  declared.forEach((route, index) => {
    const at: ContractPath = ['handler_routing', 'handlers', index];
    let step: Step | undefined;
    if (route.implementation !== undefined) step = load(route.implementation, [...at, 'implementation']);
    else if (route.handler !== undefined) {
      step = builtin(route.handler.name);
      if (step === undefined) {
        issues.push(
          issueAt(
            'CONTRACT_UNKNOWN_IMPLEMENTATION',
            `Node "${slug}" routes to ${kind === 'compute' ? 'compute function' : kind} "${route.handler.name}", which is not built into this host`,
            `Built-in ${kind === 'compute' ? 'compute functions' : `${kind}s`}: ${builtinNames.join(', ') || '(none)'}. Fix handler.name, or name your own code with implementation: { module, export }.`,
            where,
            [...at, 'handler', 'name'],
          ),
        );
      }
    } else step = nodeStep;
    if (step !== undefined) routes.push({ key: routeKeyOf(route), step });
  });
  if (declared.length === 0) {
    if (nodeStep !== undefined) routes.push({ key: undefined, step: nodeStep });
    else if (contract.implementation === undefined) {
      // The earlier form: a reducer or orchestrator built in under the node's own name.
      const step = kind === 'compute' ? undefined : builtin(contract.name);
      if (step !== undefined) routes.push({ key: undefined, step });
      else {
        issues.push(
          issueAt(
            'CONTRACT_UNKNOWN_IMPLEMENTATION',
            `Node "${slug}" names no code: a ${contract.nodeType} node needs implementation: { module, export } or handler_routing`,
            'Add implementation: { module: "./logic/<file>.js", export: "<name>" } pointing at your code (see docs/writing-a-node.md).',
            where,
            ['node_type'],
          ),
        );
      }
    }
  }
  if (issues.length > 0) throw new ContractValidationError(issues, where.file);
  return { routes, nodeStep };
}

/** A caller's value as echoed in a message: bounded, since the caller chooses its length. */
function shown(value: string): string {
  return value.length <= 64 ? value : `${value.slice(0, 64)}… (${value.length} characters)`;
}

/**
 * Picks the route of an envelope at run time: by operation (`operation_match`) or by the
 * payload's type (`payload_type_match`, read from `payload[payload_type_field]`). A node
 * with one catch-all route takes everything.
 */
function createRouter<Step>(slug: string, contract: NodeContract, routes: readonly Route<Step>[]): (operation: string, payload: JsonValue) => { step: Step; payloadType: string | undefined } {
  const routing = contract.handlerRouting;
  const [only] = routes;
  if (routing === undefined && only !== undefined && routes.length === 1) {
    const fixed = { step: only.step, payloadType: undefined };
    return () => fixed;
  }
  const table = new Map<string, Step>();
  for (const r of routes) if (r.key !== undefined) table.set(r.key, r.step);
  const keys = [...table.keys()];
  if (routing?.routingStrategy === 'payload_type_match') {
    const field = routing.payloadTypeField;
    return (operation, payload) => {
      const type = typeof payload === 'object' && payload !== null && !Array.isArray(payload) ? (payload as JsonObject)[field] : undefined;
      const step = typeof type === 'string' ? table.get(type) : undefined;
      if (step !== undefined) return { step, payloadType: type as string };
      throw new InvalidOperationError(
        typeof type === 'string'
          ? `Node "${slug}" has no route for payload type "${shown(type)}"`
          : `Node "${slug}" routes by payload type, and the payload has no string "${field}"`,
        {
          operation,
          details: { node: slug, payload_type_field: field, routed_payload_types: keys },
          hint: `Set payload.${field} to one of: ${keys.join(', ') || '(none)'}, or add a handler_routing entry for it.`,
        },
      );
    };
  }
  return (operation) => {
    const step = table.get(operation);
    if (step !== undefined) return { step, payloadType: undefined };
    throw new InvalidOperationError(`Node "${slug}" has no route for operation "${operation}"`, {
      operation,
      details: { node: slug, routed_operations: keys },
      hint: `Send one of: ${keys.join(', ') || '(none)'}, or add a handler_routing entry.`,
    });
  };
}

function contextOf(envelope: OnexEnvelope, payloadType: string | undefined): NodeContext {
  return { operation: envelope.operation, correlationId: envelope.correlationId, envelopeId: envelope.envelopeId, payloadType };
}

/** A compiled contract model and where it is written, for errors. */
interface CompiledModel {
  readonly name: string;
  readonly check: ModelCheck;
  readonly at: string;
}

function compileModel(model: ModelSpec, which: 'input_model' | 'output_model', where: NodeContractSource): CompiledModel | undefined {
  const schema = modelJsonSchema(model);
  if (schema === undefined) return undefined;
  const compiled = compileModelSchema(schema);
  // The contract parser compiled it already and refuses a broken one: this is only reached with hand-made contracts.
  if (!compiled.ok) throw new ContractValidationError([issueAt('CONTRACT_INVALID_MODEL', `${which} is not a usable JSON Schema: ${compiled.problem}`, 'Fix the model schema.', where, [which])], where.file);
  const line = where.lineOf?.([which]);
  return { name: model.name, check: compiled.check, at: `${where.file ?? '<contract>'}${line === undefined ? '' : `:${line}`}` };
}

/** Where a node's output model applies: the part of its answer its own code produced. */
function resultOf(kind: NodeDescription['kind'], payload: JsonValue): { value: unknown; what: string } | undefined {
  const object = payload as JsonObject;
  if (kind === 'compute') return { value: object.result, what: 'result' };
  // A reducer's state is checked inside its reduce step, before the node keeps it.
  if (kind === 'effect') return { value: payload, what: 'handler result' };
  // An orchestrator answers with events and intents only; it has no result to check.
  return undefined;
}

/** The node's own answer is wrong: a server-side bug, answered as INTERNAL and never as a success. */
function outputModelError(slug: string, output: CompiledModel, what: string, violation: ModelViolation, operation: string): InternalError {
  return new InternalError(`Node "${slug}" produced a ${what} that breaks output_model "${output.name}" at ${violation.path}: ${violation.message}`, {
    operation,
    details: { node: slug, model: output.name, field: violation.path, contract: output.at },
    hint: `Fix the node's code or its output_model (${output.at}).`,
  });
}

/**
 * A node whose payloads and results are checked against its contract's models. The
 * checks were compiled when the node was built; a node without models is not wrapped.
 */
class ModelCheckedNode extends NodeInstance {
  readonly slug: string;
  readonly kind: NodeDescription['kind'];
  readonly #inner: NodeInstance;
  readonly #input: CompiledModel | undefined;
  readonly #output: CompiledModel | undefined;

  constructor(inner: NodeInstance, input: CompiledModel | undefined, output: CompiledModel | undefined) {
    super();
    this.slug = inner.slug;
    this.kind = inner.kind;
    this.#inner = inner;
    this.#input = input;
    this.#output = output;
  }

  async handle(envelope: OnexEnvelope, port: NodeExecutionPort, scope?: NodeCallScope): Promise<JsonValue> {
    const input = this.#input;
    if (input !== undefined) {
      const violation = input.check(envelope.payload);
      if (violation !== undefined) {
        throw new PayloadValidationError(`Payload for node "${this.slug}" breaks input_model "${input.name}" at ${violation.path}: ${violation.message}`, {
          operation: envelope.operation,
          details: { node: this.slug, model: input.name, field: violation.path, contract: input.at },
          hint: `Send a payload matching input_model "${input.name}" (${input.at}); \`onex-runtime-host describe\` lists the nodes.`,
        });
      }
    }
    const payload = await this.#inner.handle(envelope, port, scope);
    const output = this.#output;
    const produced = output === undefined ? undefined : resultOf(this.kind, payload);
    if (output !== undefined && produced !== undefined) {
      const violation = output.check(produced.value);
      if (violation !== undefined) throw outputModelError(this.slug, output, produced.what, violation, envelope.operation);
    }
    return payload;
  }

  describe(): NodeDescription {
    return this.#inner.describe();
  }
}

function builtNode(slug: string, contract: NodeContract, code: NodeCode, where: NodeContractSource, output: CompiledModel | undefined): NodeInstance {
  switch (contract.nodeType) {
    case 'EFFECT':
      return new EffectNode({
        slug,
        description: contract.description,
        operations: contract.ioOperations.flatMap((io) => io.operations),
        access: Object.fromEntries(contract.ioOperations.flatMap((io) => io.operations.map((op) => [op, io.access]))),
      });
    case 'COMPUTE': {
      const registry = code.compute ?? {};
      const { routes } = resolveRoutes<ComputeStep>(slug, contract, code, where, 'compute', (name) => (Object.hasOwn(registry, name) ? registry[name] : undefined), Object.keys(registry), computeStepOf);
      const route = createRouter(slug, contract, routes);
      return new ComputeNode({
        slug,
        description: contract.description,
        // The context ComputeNode builds has no payload type: the router knows it.
        compute: (input, context) => {
          const { step, payloadType } = route(context.operation, input);
          return step(input, payloadType === undefined ? context : { ...context, payloadType });
        },
      });
    }
    case 'REDUCER': {
      const registry = code.reducers ?? {};
      const builtin = (name: string): ReduceStep | undefined => {
        const impl = Object.hasOwn(registry, name) ? registry[name] : undefined;
        return impl === undefined ? undefined : { initialState: impl.initialState, reduce: (state, envelope) => impl.reduce(state, envelope) };
      };
      const { routes, nodeStep } = resolveRoutes<ReduceStep>(slug, contract, code, where, 'reducer', builtin, Object.keys(registry), reduceStepOf);
      const route = createRouter(slug, contract, routes);
      // One state per node: the node's own implementation sets where it starts, else its first route.
      const initial = nodeStep ?? (routes[0] as Route<ReduceStep>).step;
      return new ReducerNode({
        slug,
        description: contract.description,
        initialState: initial.initialState,
        reduce: (state, envelope) => {
          const { step, payloadType } = route(envelope.operation, envelope.payload);
          const next = step.reduce(state, envelope, contextOf(envelope, payloadType));
          // Checked here, before ReducerNode keeps it: a refused state must not become the next event's state.
          const violation = output !== undefined && typeof next === 'object' && next !== null && 'state' in next ? output.check(next.state) : undefined;
          if (output !== undefined && violation !== undefined) throw outputModelError(slug, output, 'state', violation, envelope.operation);
          return next;
        },
      });
    }
    case 'ORCHESTRATOR': {
      const registry = code.orchestrators ?? {};
      const builtin = (name: string): OrchestrateStep | undefined => {
        const impl = Object.hasOwn(registry, name) ? registry[name] : undefined;
        return impl === undefined ? undefined : (envelope) => impl(envelope);
      };
      const { routes } = resolveRoutes<OrchestrateStep>(slug, contract, code, where, 'orchestrator', builtin, Object.keys(registry), orchestrateStepOf);
      const route = createRouter(slug, contract, routes);
      return new OrchestratorNode({
        slug,
        description: contract.description,
        orchestrate: (envelope) => {
          const { step, payloadType } = route(envelope.operation, envelope.payload);
          return step(envelope, contextOf(envelope, payloadType));
        },
      });
    }
  }
}

/**
 * Builds the node a contract declares. EFFECT → operations from `io_operations`; COMPUTE,
 * REDUCER, ORCHESTRATOR → the code each `handler_routing` entry (or the node's
 * `implementation`) names, chosen per envelope by operation or payload type. Models with
 * `fields` or `schema` are enforced on every envelope.
 *
 * @param where the contract's file (a string) or file and line lookup, for messages
 * @throws ContractValidationError when the contract names code that is missing or of the wrong kind
 */
export function createNodeFromContract(slug: string, contract: NodeContract, code: NodeCode = {}, where: string | NodeContractSource = {}): NodeInstance {
  const source: NodeContractSource = typeof where === 'string' ? { file: where } : where;
  const input = compileModel(contract.inputModel, 'input_model', source);
  const output = compileModel(contract.outputModel, 'output_model', source);
  const node = builtNode(slug, contract, code, source, output);
  return input === undefined && output === undefined ? node : new ModelCheckedNode(node, input, output);
}
