import type { OnexEnvelope } from '../envelope/envelope.js';
import { resolveHandlerType } from '../envelope/envelope.js';
import { createErrorResponse, createSuccessResponse } from '../envelope/envelope-factory.js';
import { defaultProviders, type EnvelopeProviders } from '../envelope/providers.js';
import { HandlerConfigurationError, HandlerNotFoundError, NodeNotFoundError, RuntimeHostError } from '../errors/runtime-errors.js';
import { toOnexError } from '../errors/to-onex-error.js';
import type { JsonValue } from '../json.js';
import { createInvocationContext, type EnvelopeHandler } from './handler-port.js';
import type { NodeDescription, NodeExecutionPort, NodeInstance } from './node-instance.js';

export interface NodeRuntimeOptions {
  /** Ids and time for response envelopes. @default random UUIDs and the system clock */
  readonly providers?: EnvelopeProviders;
}

/**
 * Routes envelopes to nodes and handlers, in memory. It owns no event loop, bus,
 * timer or task; it never mutates an envelope and never creates a correlation id
 * (responses echo the request's). Routing never throws: every failure comes back as
 * an error response envelope with a typed code.
 */
export class NodeRuntime implements NodeExecutionPort {
  readonly #handlers = new Map<string, EnvelopeHandler>();
  readonly #nodes = new Map<string, NodeInstance>();
  readonly #providers: EnvelopeProviders;

  constructor(options: NodeRuntimeOptions = {}) {
    this.#providers = options.providers ?? defaultProviders;
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
   * With `targetNode` the envelope goes to that node; without, straight to the handler
   * its `handlerType` (or operation prefix) names.
   */
  async routeEnvelope(envelope: OnexEnvelope): Promise<OnexEnvelope> {
    try {
      let payload: JsonValue;
      if (envelope.targetNode !== undefined) {
        const node = this.#nodes.get(envelope.targetNode);
        if (node === undefined) throw this.#nodeNotFound(envelope);
        payload = await node.handle(envelope, this);
      } else {
        payload = await this.executeWithHandler(envelope);
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
  async executeWithHandler(envelope: OnexEnvelope, nodeSlug?: string): Promise<JsonValue> {
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
      return await handler.execute(envelope, createInvocationContext(envelope, nodeSlug));
    } catch (thrown) {
      throw toOnexError(thrown, { correlationId: envelope.correlationId, handlerType, operation: envelope.operation });
    }
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
