/**
 * Turns the code a contract names (a built-in function, or a module export the host's
 * loader imported) into what the node classes run, and says when an export is not code of
 * the node's kind (HANDLER_LOADER_006). User schemas (Standard Schema) are applied here:
 * the input before the code runs, the output or next state after it.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { OnexEnvelope } from '../envelope/envelope.js';
import { InternalError, PayloadValidationError } from '../errors/runtime-errors.js';
import type { JsonValue } from '../json.js';
import {
  NODE_DEFINITION_VERSION,
  nodeDefinitionKind,
  type ComputeDefinition,
  type NodeContext,
  type NodeEvent,
  type NodeSchema,
  type OrchestratorDefinition,
  type ReducerDefinition,
} from './define-node.js';
import type { OrchestratorOutput, ReducerOutput } from './nodes.js';

/** A compute step as the node runs it. */
export type ComputeStep = (input: JsonValue, context: NodeContext) => JsonValue;
/** A reduce step; `initialState` is the node's state before its first event. */
export interface ReduceStep {
  readonly initialState: JsonValue;
  readonly reduce: (state: JsonValue, envelope: OnexEnvelope, context: NodeContext) => ReducerOutput<JsonValue>;
}
export type OrchestrateStep = (envelope: OnexEnvelope, context: NodeContext) => OrchestratorOutput;

export type StepKind = 'compute' | 'reducer' | 'orchestrator';

/** Why an export cannot serve a node of some kind; the caller turns it into a contract issue. */
export class WrongKindError extends Error {}

function isPromiseLike(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

function schemaPath(issue: StandardSchemaV1.Issue): string {
  let out = '';
  for (const segment of issue.path ?? []) {
    const key = typeof segment === 'object' ? segment.key : segment;
    out += typeof key === 'number' ? `[${key}]` : out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '<root>' : out;
}

/**
 * Validates with a Standard Schema. Returns the (possibly transformed) value, or the
 * first issue; an async schema is refused because nodes are synchronous.
 */
function validateWith<T>(schema: NodeSchema<T>, value: unknown): { ok: true; value: T } | { ok: false; path: string; message: string; async?: true } {
  const result = schema['~standard'].validate(value);
  if (isPromiseLike(result)) {
    // Nobody awaits it: a rejection must not become an unhandled rejection in the host process.
    Promise.resolve(result).catch(() => undefined);
    return { ok: false, path: '<root>', message: 'the schema validates asynchronously; node schemas must be synchronous', async: true };
  }
  const settled = result as StandardSchemaV1.Result<T>;
  if (settled.issues === undefined) return { ok: true, value: settled.value };
  const first = settled.issues[0];
  return { ok: false, path: first === undefined ? '<root>' : schemaPath(first), message: first?.message ?? 'is invalid' };
}

/** Where a definition runs, for messages. */
export interface StepOrigin {
  readonly node: string;
  /** `./logic/pricing.js#orderTotal`, or the built-in name. */
  readonly code: string;
}

function checkInput<T>(schema: NodeSchema<T> | undefined, payload: JsonValue, origin: StepOrigin, operation: string): T {
  if (schema === undefined) return payload as T;
  const checked = validateWith(schema, payload);
  if (checked.ok) return checked.value;
  // An asynchronous schema is the node author's mistake, not the caller's: whatever the payload, it cannot be checked.
  if (checked.async === true) {
    throw new InternalError(`Node "${origin.node}" cannot check its payload: the input schema of ${origin.code} validates asynchronously; node schemas must be synchronous`, {
      operation,
      details: { node: origin.node, implementation: origin.code },
      hint: `Make the input schema of ${origin.code} synchronous (no async refinements or transforms).`,
    });
  }
  throw new PayloadValidationError(`Payload for node "${origin.node}" breaks the input schema of ${origin.code} at ${checked.path}: ${checked.message}`, {
    operation,
    details: { node: origin.node, implementation: origin.code, field: checked.path },
    hint: `Send a payload matching the node's input schema (field ${checked.path}).`,
  });
}

function checkOutput<T>(schema: NodeSchema<T> | undefined, value: T, what: string, origin: StepOrigin, operation: string): T {
  if (schema === undefined) return value;
  const checked = validateWith(schema, value);
  if (checked.ok) return checked.value;
  // The node's own code broke its promise: a bug on the server side, never the caller's.
  throw new InternalError(`Node "${origin.node}" produced ${what} that breaks the schema of ${origin.code} at ${checked.path}: ${checked.message}`, {
    operation,
    details: { node: origin.node, implementation: origin.code, field: checked.path },
    hint: `Fix ${origin.code} so its ${what} matches its schema, or correct the schema.`,
  });
}

function definitionOf(value: unknown, wanted: StepKind): { kind: string } | undefined {
  const found = nodeDefinitionKind(value);
  if (found === undefined) return undefined;
  if (found.version !== NODE_DEFINITION_VERSION) {
    throw new WrongKindError(`is a node definition of version ${String(found.version)}; this host runs version ${NODE_DEFINITION_VERSION}`);
  }
  if (found.kind !== wanted) throw new WrongKindError(`is a ${found.kind} definition, but the node is a ${wanted.toUpperCase()}`);
  return found;
}

function eventOf(envelope: OnexEnvelope, context: NodeContext, payload: unknown): NodeEvent<never> {
  return { ...context, payload: payload as never, metadata: envelope.metadata };
}

/**
 * The compute step of a loaded export: a `defineCompute` definition, or a plain
 * function `(input, context) => output`.
 * @throws WrongKindError when the export is neither
 */
export function computeStepOf(value: unknown, origin: StepOrigin): ComputeStep {
  if (definitionOf(value, 'compute') === undefined) {
    if (typeof value === 'function') return value as ComputeStep;
    throw new WrongKindError(`is ${describeValue(value)}, not a compute function or a defineCompute(...) definition`);
  }
  const def = value as ComputeDefinition<unknown, unknown>;
  if (typeof def.compute !== 'function') throw new WrongKindError('is a compute definition without a compute function');
  if (def.input === undefined && def.output === undefined) return def.compute as ComputeStep;
  return (input, context) => {
    const output = def.compute(checkInput(def.input, input, origin, context.operation), context);
    if (isPromiseLike(output)) return output as JsonValue; // ComputeNode refuses it with its own rule
    return checkOutput(def.output, output, 'an output', origin, context.operation) as JsonValue;
  };
}

/** The reduce step of a `defineReducer` definition. @throws WrongKindError */
export function reduceStepOf(value: unknown, origin: StepOrigin): ReduceStep {
  if (definitionOf(value, 'reducer') === undefined) throw new WrongKindError(`is ${describeValue(value)}, not a defineReducer(...) definition`);
  const def = value as ReducerDefinition<unknown, unknown>;
  if (typeof def.reduce !== 'function') throw new WrongKindError('is a reducer definition without a reduce function');
  return {
    initialState: def.initialState as JsonValue,
    reduce: (state, envelope, context) => {
      const payload = checkInput(def.input, envelope.payload, origin, context.operation);
      const result = def.reduce(state, eventOf(envelope, context, payload));
      if (isPromiseLike(result) || typeof result !== 'object' || result === null) return result as ReducerOutput<JsonValue>;
      const next = checkOutput(def.state, result.state, 'a next state', origin, context.operation) as JsonValue;
      return { state: next, intents: result.intents ?? [] };
    },
  };
}

/** The orchestrate step of a `defineOrchestrator` definition. @throws WrongKindError */
export function orchestrateStepOf(value: unknown, origin: StepOrigin): OrchestrateStep {
  if (definitionOf(value, 'orchestrator') === undefined) throw new WrongKindError(`is ${describeValue(value)}, not a defineOrchestrator(...) definition`);
  const def = value as OrchestratorDefinition<unknown>;
  if (typeof def.orchestrate !== 'function') throw new WrongKindError('is an orchestrator definition without an orchestrate function');
  return (envelope, context) => {
    const payload = checkInput(def.input, envelope.payload, origin, context.operation);
    const result: unknown = def.orchestrate(eventOf(envelope, context, payload));
    // Anything else is left whole for OrchestratorNode, which refuses results and workflow state by rule.
    if (isPromiseLike(result) || typeof result !== 'object' || result === null) return result as OrchestratorOutput;
    const r = result as { events?: OrchestratorOutput['events']; intents?: OrchestratorOutput['intents'] };
    return { ...r, events: r.events ?? [], intents: r.intents ?? [] } as OrchestratorOutput;
  };
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'function') return 'a function';
  const kind = nodeDefinitionKind(value);
  if (kind !== undefined) return `a ${kind.kind} definition`;
  return typeof value === 'object' ? (Array.isArray(value) ? 'an array' : 'an object') : `a ${typeof value}`;
}
