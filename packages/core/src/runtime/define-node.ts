/**
 * The node authoring API: what a user module exports so the host can run it. Each
 * `define*` returns a frozen, typed definition; a node contract names it with
 * `implementation: { module, export }`. The module runs inside the host process, so
 * definitions stay pure: no I/O (that is what EFFECT nodes and intents are for).
 *
 * A definition is recognised by a brand, not by `instanceof`: the user's project has its
 * own copy of `@onex/core`, so its classes are not the host's. `Symbol.for` gives both
 * copies the same symbol, and `version` lets a later host refuse a shape it cannot run.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { JsonObject, JsonValue } from '../json.js';
import type { Intent } from './intent.js';

/** Marks an object as a node definition, across copies of `@onex/core`. */
export const NODE_DEFINITION = Symbol.for('onex.node-definition');

/** The definition shape this core writes; the host refuses versions it does not know. */
export const NODE_DEFINITION_VERSION = 1;

/** What user code learns about the envelope it serves. Read-only; no handler, bus or clock. */
export interface NodeContext {
  readonly operation: string;
  readonly correlationId: string | undefined;
  readonly envelopeId: string;
  /** With `payload_type_match` routing: the payload's type; otherwise undefined. */
  readonly payloadType: string | undefined;
}

/** An event as a reducer or orchestrator sees it: the payload (typed by `input`) and its context. */
export interface NodeEvent<P = JsonValue> extends NodeContext {
  readonly payload: P;
  readonly metadata: Readonly<JsonObject>;
}

/** What a reducer returns: its next state and the intents it wants carried out. */
export interface ReduceResult<S> {
  readonly state: S;
  /** @default [] */
  readonly intents?: readonly Intent[];
}

/** An event an orchestrator emits. */
export interface EmittedEventInit {
  readonly eventType: string;
  readonly payload: JsonValue;
}

/** What an orchestrator returns: events and intents, never a result. */
export interface OrchestrateResult {
  /** @default [] */
  readonly events?: readonly EmittedEventInit[];
  /** @default [] */
  readonly intents?: readonly Intent[];
}

/**
 * Any validator implementing Standard Schema v1 (zod, valibot, arktype, ...). Only
 * synchronous validation is supported: nodes are synchronous.
 */
export type NodeSchema<T> = StandardSchemaV1<unknown, T>;

interface Branded<K extends string> {
  readonly [NODE_DEFINITION]: typeof NODE_DEFINITION_VERSION;
  readonly kind: K;
  readonly description?: string | undefined;
}

export interface ComputeDefinition<I = JsonValue, O = JsonValue> extends Branded<'compute'> {
  /** Checked before `compute` runs; a failure answers PAYLOAD_VALIDATION_ERROR. */
  readonly input?: NodeSchema<I> | undefined;
  /** Checked on every result; a failure answers INTERNAL_ERROR and nothing succeeds. */
  readonly output?: NodeSchema<O> | undefined;
  /** Pure and synchronous: same input, same output, no I/O. */
  readonly compute: (input: I, context: NodeContext) => O;
}

export interface ReducerDefinition<S = JsonValue, E = JsonValue> extends Branded<'reducer'> {
  readonly input?: NodeSchema<E> | undefined;
  /** Checked on every next state. */
  readonly state?: NodeSchema<S> | undefined;
  readonly initialState: S;
  /** Pure `(state, event) => { state, intents }`; must not mutate `state`. */
  readonly reduce: (state: S, event: NodeEvent<E>) => ReduceResult<S>;
}

export interface OrchestratorDefinition<E = JsonValue> extends Branded<'orchestrator'> {
  readonly input?: NodeSchema<E> | undefined;
  /** Decides what happens next: emits events and intents, never returns a result. */
  readonly orchestrate: (event: NodeEvent<E>) => OrchestrateResult;
}

/** Any node definition a module may export. */
export type NodeDefinition = ComputeDefinition<never, unknown> | ReducerDefinition<never, never> | OrchestratorDefinition<never>;

type Init<D> = Omit<D, typeof NODE_DEFINITION | 'kind'>;

function brand<K extends string, D extends object>(kind: K, init: D): D & Branded<K> {
  return Object.freeze({ ...init, kind, [NODE_DEFINITION]: NODE_DEFINITION_VERSION }) as D & Branded<K>;
}

/** A COMPUTE node: a pure transformation of its input. */
export function defineCompute<I = JsonValue, O = JsonValue>(init: Init<ComputeDefinition<I, O>>): ComputeDefinition<I, O> {
  return brand('compute', init);
}

/** A REDUCER node: folds events into state and emits intents. */
export function defineReducer<S, E = JsonValue>(init: Init<ReducerDefinition<S, E>>): ReducerDefinition<S, E> {
  return brand('reducer', init);
}

/** An ORCHESTRATOR node: coordinates a workflow by emitting events and intents. */
export function defineOrchestrator<E = JsonValue>(init: Init<OrchestratorDefinition<E>>): OrchestratorDefinition<E> {
  return brand('orchestrator', init);
}

/** The definition kind of a value, if it is a definition this core can run. */
export function nodeDefinitionKind(value: unknown): { kind: string; version: unknown } | undefined {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return undefined;
  const version = (value as Record<symbol, unknown>)[NODE_DEFINITION];
  if (version === undefined) return undefined;
  const kind = (value as { kind?: unknown }).kind;
  return { kind: typeof kind === 'string' ? kind : '(none)', version };
}
