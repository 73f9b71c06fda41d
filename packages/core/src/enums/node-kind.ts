/**
 * The kinds of node the runtime knows. The four node kinds of the ONEX pattern
 * (EFFECT → COMPUTE → REDUCER → ORCHESTRATOR) plus `runtime_host`, the kind of the
 * runtime host contract itself.
 */
export const NODE_KINDS = ['effect', 'compute', 'reducer', 'orchestrator', 'runtime_host'] as const;
export type NodeKind = (typeof NODE_KINDS)[number];

/** The `node_type` values a node contract may declare (upper-case on the wire). */
export const NODE_TYPES = ['EFFECT', 'COMPUTE', 'REDUCER', 'ORCHESTRATOR'] as const;
export type NodeType = (typeof NODE_TYPES)[number];

/** Maps a contract `node_type` to its node kind. */
export function nodeKindOf(nodeType: NodeType): NodeKind {
  return nodeType.toLowerCase() as NodeKind;
}
