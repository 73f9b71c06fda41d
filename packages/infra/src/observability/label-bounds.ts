/**
 * Metric labels come from envelopes, and envelopes come from callers: an operation,
 * handler_type or target_node a caller makes up must not become a new time series, or one
 * caller could grow the host's memory and every Prometheus server scraping it without
 * bound. Only values the host itself registered (its nodes, handler types and their
 * operations) become labels; anything else is counted under `other`.
 */
/** The label for a value the host did not register. */
export const OTHER_LABEL = 'other';
/** The node label of an envelope no hosted node takes (a direct handler call, or refused). */
export const NO_NODE_LABEL = 'none';

export interface LabelBoundsInput {
  /** Hosted nodes: slug and the operations their `io_operations` allow. */
  readonly nodes: readonly { readonly slug: string; readonly allowedOperations: readonly string[] }[];
  /** Registered handlers: type and the operations it supports. */
  readonly handlers: readonly { readonly handlerType: string; readonly supportedOperations: readonly string[] }[];
}

export class LabelBounds {
  readonly #nodes: ReadonlySet<string>;
  readonly #handlerTypes: ReadonlySet<string>;
  readonly #operations: ReadonlySet<string>;
  /** The node an envelope without target_node goes to: the only node allowing its operation. */
  readonly #nodeByOperation: ReadonlyMap<string, string>;

  constructor(input: LabelBoundsInput = { nodes: [], handlers: [] }) {
    this.#nodes = new Set(input.nodes.map((n) => n.slug));
    this.#handlerTypes = new Set(input.handlers.map((h) => h.handlerType));
    const operations = new Set<string>();
    for (const h of input.handlers) for (const op of h.supportedOperations) operations.add(op);
    const byOperation = new Map<string, string>();
    const ambiguous = new Set<string>();
    for (const n of input.nodes) {
      for (const op of n.allowedOperations) {
        operations.add(op);
        if (byOperation.has(op)) ambiguous.add(op);
        byOperation.set(op, n.slug);
      }
    }
    // Several nodes allow it: routing refuses an envelope that does not say which.
    for (const op of ambiguous) byOperation.set(op, NO_NODE_LABEL);
    this.#operations = operations;
    this.#nodeByOperation = byOperation;
  }

  handlerType(value: string): string {
    return this.#handlerTypes.has(value) ? value : OTHER_LABEL;
  }

  operation(value: string): string {
    return this.#operations.has(value) ? value : OTHER_LABEL;
  }

  /** Mirrors NodeRuntime's routing: target_node when hosted, else the one node allowing the operation. */
  node(targetNode: string | undefined, operation: string): string {
    if (targetNode !== undefined) return this.#nodes.has(targetNode) ? targetNode : OTHER_LABEL;
    return this.#nodeByOperation.get(operation) ?? NO_NODE_LABEL;
  }
}
