import type { OnexEnvelope } from '../envelope/envelope.js';
import { resolveHandlerType } from '../envelope/envelope.js';
import { createErrorResponse, createSuccessResponse } from '../envelope/envelope-factory.js';
import { defaultProviders, type EnvelopeProviders } from '../envelope/providers.js';
import { HandlerConfigurationError, HandlerNotFoundError, NodeNotFoundError, RuntimeHostError } from '../errors/runtime-errors.js';
import { toOnexError } from '../errors/to-onex-error.js';
import type { JsonValue } from '../json.js';
import { InvalidOperationError } from '../errors/runtime-errors.js';
import { createInvocationContext, type CancellationSignal, type EnvelopeHandler, type HandlerCall } from './handler-port.js';
import type { NodeCallScope, NodeDescription, NodeExecutionPort, NodeInstance } from './node-instance.js';

export interface NodeRuntimeOptions {
  /** Ids and time for response envelopes. @default random UUIDs and the system clock */
  readonly providers?: EnvelopeProviders;
  /**
   * Whether an envelope that no hosted node allows may still go straight to its handler.
   * Off, every envelope passes a node's `io_operations` allow-list, with or without
   * `target_node`; on (tests, embedding, benchmarks of a bare handler) the runtime is an
   * open door to every registered handler. A contract cannot switch it on.
   * @default false
   */
  readonly directHandlerCalls?: boolean;
}

/** How one envelope is routed. */
export interface RouteOptions {
  /** Aborted when the caller gives up; reaches the handler as its invocation signal. */
  readonly signal?: CancellationSignal | undefined;
}

/**
 * Routes envelopes to nodes and handlers, in memory. It owns no event loop, bus,
 * timer or task; it never mutates an envelope and never creates a correlation id
 * (responses echo the request's). Routing never throws: every failure comes back as
 * an error response envelope with a typed code.
 */
const NO_SCOPE: NodeCallScope = Object.freeze({});

export class NodeRuntime implements NodeExecutionPort {
  readonly #handlers = new Map<string, EnvelopeHandler>();
  readonly #nodes = new Map<string, NodeInstance>();
  readonly #providers: EnvelopeProviders;
  readonly #directHandlerCalls: boolean;

  constructor(options: NodeRuntimeOptions = {}) {
    this.#providers = options.providers ?? defaultProviders;
    this.#directHandlerCalls = options.directHandlerCalls ?? false;
  }

  /** Registers a handler under its handler type. One handler per type. */
  registerHandler(handler: EnvelopeHandler): void {
    if (this.#handlers.has(handler.handlerType)) {
      throw new HandlerConfigurationError(`A handler of type "${handler.handlerType}" is already registered`, {
        handlerType: handler.handlerType,
        hint: 'A runtime has one handler per type: remove the duplicate from the contract.',
      });
    }
    this.#handlers.set(handler.handlerType, handler);
  }

  /** Registers a node under its slug. Slugs are unique. */
  registerNode(node: NodeInstance): void {
    if (this.#nodes.has(node.slug)) {
      throw new RuntimeHostError(`A node with slug "${node.slug}" is already registered`, {
        hint: 'Node slugs must be unique within a runtime host contract.',
      });
    }
    this.#nodes.set(node.slug, node);
  }

  /** Registered handler types, sorted. */
  get handlerTypes(): string[] {
    return [...this.#handlers.keys()].sort();
  }

  /** Registered nodes, in registration order. */
  describeNodes(): NodeDescription[] {
    return [...this.#nodes.values()].map((n) => n.describe());
  }

  /**
   * Routes one envelope and resolves to its response envelope (success or error).
   * With `targetNode` the envelope goes to that node. Without, it goes to the one hosted
   * node whose `io_operations` allow its operation, so no envelope escapes a node's
   * allow-list; only a runtime built with `directHandlerCalls` hands an envelope no node
   * claims straight to its handler.
   */
  async routeEnvelope(envelope: OnexEnvelope, options: RouteOptions = {}): Promise<OnexEnvelope> {
    try {
      let payload: JsonValue;
      const scope: NodeCallScope = options.signal === undefined ? NO_SCOPE : { signal: options.signal };
      if (envelope.targetNode !== undefined) {
        const node = this.#nodes.get(envelope.targetNode);
        if (node === undefined) throw this.#nodeNotFound(envelope);
        payload = await node.handle(envelope, this, scope);
      } else {
        const node = this.#nodeAllowing(envelope);
        payload = node === undefined ? await this.executeWithHandler(envelope, { signal: options.signal }) : await node.handle(envelope, this, scope);
      }
      return createSuccessResponse(envelope, payload, this.#providers);
    } catch (thrown) {
      const error = toOnexError(thrown, {
        correlationId: envelope.correlationId,
        operation: envelope.operation,
      });
      return createErrorResponse(envelope, error, this.#providers);
    }
  }

  /** Runs the envelope's operation on the handler of its type. Throws typed errors. */
  async executeWithHandler(envelope: OnexEnvelope, call: HandlerCall = {}): Promise<JsonValue> {
    const handlerType = resolveHandlerType(envelope);
    const handler = this.#handlers.get(handlerType);
    if (handler === undefined) {
      const available = this.handlerTypes;
      throw new HandlerNotFoundError(`No handler registered for type '${handlerType}'`, {
        handlerType,
        operation: envelope.operation,
        correlationId: envelope.correlationId,
        details: { available_handlers: available },
        hint: `Available handlers: ${available.join(', ') || '(none)'}. Enable a "${handlerType}" handler in the runtime host contract or fix the envelope's handler_type/operation.`,
      });
    }
    try {
      return await handler.execute(envelope, createInvocationContext(envelope, call));
    } catch (thrown) {
      throw toOnexError(thrown, { correlationId: envelope.correlationId, handlerType, operation: envelope.operation });
    }
  }

  /**
   * The node an envelope without `target_node` goes to: the only one that allows its
   * operation. Undefined only when direct handler calls are allowed and no node claims it.
   * @throws InvalidOperationError when no node, or more than one, allows the operation.
   */
  #nodeAllowing(envelope: OnexEnvelope): NodeInstance | undefined {
    const candidates: NodeInstance[] = [];
    for (const node of this.#nodes.values()) if (node.describe().allowedOperations.includes(envelope.operation)) candidates.push(node);
    if (candidates.length === 1) return candidates[0];
    if (candidates.length === 0 && this.#directHandlerCalls) return undefined;
    const slugs = candidates.map((n) => n.slug);
    throw new InvalidOperationError(
      candidates.length === 0
        ? `No node hosted here allows operation "${envelope.operation}"`
        : `Operation "${envelope.operation}" is allowed by several nodes (${slugs.join(', ')}); the envelope must say which`,
      {
        operation: envelope.operation,
        correlationId: envelope.correlationId,
        details: { allowing_nodes: slugs },
        hint:
          candidates.length === 0
            ? `Every envelope passes a node's io_operations allow-list: add "${envelope.operation}" to an EFFECT node's io_operations, or set target_node.`
            : `Set target_node to one of: ${slugs.join(', ')}.`,
      },
    );
  }

  #nodeNotFound(envelope: OnexEnvelope): NodeNotFoundError {
    const available = [...this.#nodes.keys()];
    return new NodeNotFoundError(`No node registered with slug '${envelope.targetNode ?? ''}'`, {
      operation: envelope.operation,
      correlationId: envelope.correlationId,
      details: { target_node: envelope.targetNode ?? null, available_nodes: available },
      hint: `Available nodes: ${available.join(', ') || '(none)'}. Add the node to the runtime host contract or fix target_node.`,
    });
  }
}
