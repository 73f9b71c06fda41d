import type { OnexEnvelope } from '../envelope/envelope.js';
import { resolveHandlerType } from '../envelope/envelope.js';
import { ArchitectureViolationError, InvalidOperationError } from '../errors/runtime-errors.js';
import type { JsonObject, JsonValue } from '../json.js';
import { intentToWire, type Intent } from './intent.js';
import type { IoAccess } from './handler-port.js';
import type { NodeContext } from './define-node.js';
import { NodeInstance, type NodeCallScope, type NodeDescription, type NodeExecutionPort } from './node-instance.js';

/**
 * Node slugs address envelopes (`target_node`) and appear in logs, so they stay plain:
 * lower-case letters, digits, `_` and `-`, starting with a letter or digit. The one rule,
 * used by the contract schema and by every node constructor.
 */
export const NODE_SLUG_RE = /^[a-z0-9][a-z0-9_-]*$/;

function checkSlug(slug: string): string {
  if (!NODE_SLUG_RE.test(slug)) {
    throw new InvalidOperationError(`Node slug "${slug}" is invalid`, {
      hint: 'Use lower-case letters, digits, "_" and "-", starting with a letter or digit.',
    });
  }
  return slug;
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

export interface EffectNodeOptions {
  readonly slug: string;
  /** The node's `io_operations`: the only handler operations it may call. */
  readonly operations: readonly string[];
  /**
   * The grant of each operation (from its `io_operations` entry); an operation not listed
   * here is read-only.
   * @default every operation read_only
   */
  readonly access?: Readonly<Record<string, IoAccess>>;
  readonly description?: string;
}

/**
 * EFFECT node: performs external I/O through the runtime's handlers, limited to the
 * operations its contract lists in `io_operations`.
 */
export class EffectNode extends NodeInstance {
  readonly kind = 'effect' as const;
  readonly slug: string;
  readonly #allowed: ReadonlySet<string>;
  readonly #access: ReadonlyMap<string, IoAccess>;
  readonly #description: string | undefined;

  constructor(options: EffectNodeOptions) {
    super();
    this.slug = checkSlug(options.slug);
    this.#allowed = new Set(options.operations);
    this.#access = new Map(Object.entries(options.access ?? {}));
    this.#description = options.description;
  }

  async handle(envelope: OnexEnvelope, port: NodeExecutionPort, scope?: NodeCallScope): Promise<JsonValue> {
    if (!this.#allowed.has(envelope.operation)) {
      const allowed = [...this.#allowed];
      throw new InvalidOperationError(
        `Node "${this.slug}" may not call operation "${envelope.operation}"; its io_operations allow: ${allowed.join(', ') || '(none)'}`,
        {
          handlerType: resolveHandlerType(envelope),
          operation: envelope.operation,
          details: { node: this.slug, allowed_operations: allowed },
          hint: `Add "${envelope.operation}" to io_operations in the contract of node "${this.slug}", or target another node.`,
        },
      );
    }
    return port.executeWithHandler(envelope, { nodeSlug: this.slug, access: this.#access.get(envelope.operation) ?? 'read_only', signal: scope?.signal });
  }

  describe(): NodeDescription {
    return { slug: this.slug, kind: this.kind, description: this.#description, allowedOperations: [...this.#allowed] };
  }
}

/** Context a pure compute function may read. No handler, no bus, no clock. */
export type ComputeContext = NodeContext;

export interface ComputeNodeOptions {
  readonly slug: string;
  readonly description?: string;
  /** Pure and synchronous: same input, same output, no I/O. */
  readonly compute: (input: JsonValue, context: ComputeContext) => JsonValue;
}

/** COMPUTE node: a pure transformation; its response payload is `{ result }`. */
export class ComputeNode extends NodeInstance {
  readonly kind = 'compute' as const;
  readonly slug: string;
  readonly #options: ComputeNodeOptions;

  constructor(options: ComputeNodeOptions) {
    super();
    this.slug = checkSlug(options.slug);
    this.#options = options;
  }

  async handle(envelope: OnexEnvelope): Promise<JsonValue> {
    const result: unknown = this.#options.compute(envelope.payload, {
      operation: envelope.operation,
      correlationId: envelope.correlationId,
      envelopeId: envelope.envelopeId,
      payloadType: undefined,
    });
    if (isPromiseLike(result)) {
      throw new ArchitectureViolationError(`Compute node "${this.slug}" returned a Promise; compute functions must be pure and synchronous`, {
        ruleId: 'ARCH_IMPURE_COMPUTE',
        operation: envelope.operation,
        hint: 'Move I/O into an EFFECT node and keep compute() synchronous.',
      });
    }
    return { result: result as JsonValue };
  }

  describe(): NodeDescription {
    return { slug: this.slug, kind: this.kind, description: this.#options.description, allowedOperations: [] };
  }
}

/** What a reducer returns: the next state and the intents it wants carried out. */
export interface ReducerOutput<S extends JsonValue> {
  readonly state: S;
  readonly intents: readonly Intent[];
}

export interface ReducerNodeOptions<S extends JsonValue> {
  readonly slug: string;
  readonly description?: string;
  readonly initialState: S;
  /** Pure `(state, event) => { state, intents }`. It must not mutate `state`. */
  readonly reduce: (state: S, event: OnexEnvelope) => ReducerOutput<S>;
}

/**
 * REDUCER node: folds events into state with a pure function and emits intents. The
 * node keeps the latest state (its projection); the response payload is
 * `{ state, intents }`.
 */
export class ReducerNode<S extends JsonValue = JsonValue> extends NodeInstance {
  readonly kind = 'reducer' as const;
  readonly slug: string;
  readonly #options: ReducerNodeOptions<S>;
  #state: S;

  constructor(options: ReducerNodeOptions<S>) {
    super();
    this.slug = checkSlug(options.slug);
    this.#options = options;
    this.#state = options.initialState;
  }

  /** The current state (the reducer's projection). */
  get state(): S {
    return this.#state;
  }

  async handle(envelope: OnexEnvelope): Promise<JsonValue> {
    const output: unknown = this.#options.reduce(this.#state, envelope);
    if (isPromiseLike(output)) {
      throw new ArchitectureViolationError(`Reducer "${this.slug}" returned a Promise; reducers must be pure and synchronous`, {
        ruleId: 'ARCH_IMPURE_REDUCER',
        operation: envelope.operation,
        hint: 'Return { state, intents } synchronously and express side effects as intents.',
      });
    }
    const { state, intents } = output as ReducerOutput<S>;
    this.#state = state;
    return { state, intents: intents.map((i) => intentToWire(i)) } as JsonObject;
  }

  describe(): NodeDescription {
    return { slug: this.slug, kind: this.kind, description: this.#options.description, allowedOperations: [] };
  }
}

/** Output keys that mean an orchestrator is running its own workflow state machine. */
const WORKFLOW_STATE_KEYS: ReadonlySet<string> = new Set(['state', 'next_state', 'current_state', 'transition', 'transitions', 'state_machine', 'fsm']);

/** An event an orchestrator emits. */
export interface EmittedEvent {
  readonly eventType: string;
  readonly payload: JsonValue;
}

export interface OrchestratorOutput {
  readonly events: readonly EmittedEvent[];
  readonly intents: readonly Intent[];
}

export interface OrchestratorNodeOptions {
  readonly slug: string;
  readonly description?: string;
  /** Decides what happens next. Emits events and intents; never returns a result. */
  readonly orchestrate: (event: OnexEnvelope) => OrchestratorOutput;
}

/**
 * ORCHESTRATOR node: coordinates a workflow by emitting events and intents. Its
 * response payload is `{ events, intents }` and never carries a `result`.
 */
export class OrchestratorNode extends NodeInstance {
  readonly kind = 'orchestrator' as const;
  readonly slug: string;
  readonly #options: OrchestratorNodeOptions;

  constructor(options: OrchestratorNodeOptions) {
    super();
    this.slug = checkSlug(options.slug);
    this.#options = options;
  }

  async handle(envelope: OnexEnvelope): Promise<JsonValue> {
    const output: unknown = this.#options.orchestrate(envelope);
    if (isPromiseLike(output) || typeof output !== 'object' || output === null || 'result' in output) {
      throw new ArchitectureViolationError(
        `Orchestrator "${this.slug}" must return { events, intents } synchronously and never a result`,
        { ruleId: 'ARCH_ORCHESTRATOR_RESULT', operation: envelope.operation, hint: 'Return events and intents; let a COMPUTE node produce results.' },
      );
    }
    const fsmKeys = Object.keys(output).filter((key) => WORKFLOW_STATE_KEYS.has(key));
    if (fsmKeys.length > 0) {
      // Reducer-driven aggregate state machines are the sanctioned place for transitions;
      // an orchestrator that tracks workflow state would duplicate (and drift from) them.
      throw new ArchitectureViolationError(`Orchestrator "${this.slug}" returned workflow state (${fsmKeys.join(', ')}); orchestrators hold no state machine`, {
        ruleId: 'ARCH_ORCHESTRATOR_FSM',
        operation: envelope.operation,
        details: { node: this.slug, state_keys: fsmKeys },
        hint: 'Move the states and transitions into a REDUCER node and have the orchestrator emit the events that drive it.',
      });
    }
    const { events, intents } = output as OrchestratorOutput;
    return {
      events: events.map((e) => ({ event_type: e.eventType, payload: e.payload })),
      intents: intents.map((i) => intentToWire(i)),
    };
  }

  describe(): NodeDescription {
    return { slug: this.slug, kind: this.kind, description: this.#options.description, allowedOperations: [] };
  }
}
