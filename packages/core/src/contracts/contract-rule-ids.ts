/**
 * The stable rule ids a contract check can report. Tools (the CLI, CI annotations, docs)
 * key on these strings, so an id is never renamed once released; the text says what each
 * rule guards.
 */
export const CONTRACT_RULES = {
  CONTRACT_YAML_SYNTAX: 'The text is not valid YAML (or uses YAML the loader refuses).',
  CONTRACT_NOT_A_MAPPING: 'The contract is empty or its top level is not a mapping.',
  CONTRACT_UNKNOWN_FIELD: 'A field the schema does not know (contracts are strict).',
  CONTRACT_MISSING_FIELD: 'A required field is absent.',
  CONTRACT_INVALID_VALUE: 'A field has the wrong type or a value outside its allowed range or format.',
  CONTRACT_UNKNOWN_HANDLER_TYPE: 'A handler type that does not exist or has no implementation yet.',
  CONTRACT_DUPLICATE_HANDLER: 'Two handlers share a type (one handler per type) or a name.',
  CONTRACT_DUPLICATE_NODE: 'Two node references share a slug.',
  CONTRACT_SCHEMA_VERSION_MISMATCH: 'The contract was written for a schema major version this runtime cannot read.',
  CONTRACT_SCHEMA_VERSION_NEWER: 'The contract declares a newer minor schema version than this runtime knows (warning).',
  CONTRACT_DEV_HANDLER_FORBIDDEN: 'A development-only handler (local) in a contract loaded for production.',
  CONTRACT_EMPTY_HANDLERS: 'The handler list is empty; the runtime starts but can serve no I/O (warning).',
  CONTRACT_INVALID_TOPIC: 'A topic name breaks the onex.<tenant>.<domain>.<signal>.v<N> schema, points the wrong way, or repeats another topic.',
  CONTRACT_REGISTRATION_NEEDS_INGRESS: 'runtime.service_registration is set but the HTTP ingress is disabled; Consul checks the host through /health/ready.',
  CONTRACT_TIMING_BUDGET: "A handler's worst case per envelope (timeout_ms × attempts + backoffs) exceeds drain_timeout_ms, or on Kafka rebalance_timeout_ms.",
  CONTRACT_INLINE_SECRET: 'A credential is written into the contract instead of a secret_ref (an error for run, a warning for dev).',
  CONTRACT_COMPUTE_HAS_IO: 'A COMPUTE node declares io_operations; compute nodes are pure.',
  CONTRACT_IO_OPERATION_MISMATCH: 'An io operation does not start with the prefix of its handler type.',
  CONTRACT_DUPLICATE_ROUTE: 'Two handler_routing entries claim the same operation or payload type.',
  CONTRACT_STATE_MACHINE_OUTSIDE_REDUCER: 'A state_machine on a node that is not a REDUCER (an orchestrator FSM duplicates reducer-governed transitions).',
  CONTRACT_UNKNOWN_IMPLEMENTATION: 'A node routes to a compute function, reducer or orchestrator the host has not registered, or names no code at all.',
  CONTRACT_INVALID_MODEL: 'An input_model or output_model the host cannot enforce: an unknown field type, fields and schema together, or a schema that is not valid JSON Schema (draft 2020-12).',
  CONTRACT_UNKNOWN_OPERATION: 'A node lists an io operation its handler does not offer.',
  CONTRACT_HANDLER_NOT_ENABLED: 'A node uses a handler type the runtime contract does not enable.',
  CONTRACT_FILE_NOT_FOUND: 'A contract file (runtime or node) does not exist.',
  CONTRACT_FILE_UNREADABLE: 'A contract file exists but cannot be read.',
  CONTRACT_FILE_TOO_LARGE: 'A contract file is larger than MAX_CONTRACT_FILE_BYTES and is not parsed.',
  // Node code loaded from modules (`implementation: { module, export }`); the numbers are the spec's plugin loader codes.
  HANDLER_LOADER_006: 'PROTOCOL_NOT_IMPLEMENTED: the export is not code of the node\'s kind (a reducer named by a COMPUTE node, a value that is no definition).',
  HANDLER_LOADER_010: 'MODULE_NOT_FOUND: the module file or package does not exist.',
  HANDLER_LOADER_011: 'CLASS_NOT_FOUND: the module has no export of that name.',
  HANDLER_LOADER_012: 'IMPORT_ERROR: the module threw (or failed to link) while it was imported.',
  HANDLER_LOADER_013: 'NAMESPACE_NOT_ALLOWED: the module is outside the allowed roots and packages (.. traversal, an absolute path or symlink elsewhere, a URL, an unlisted package).',
  HANDLER_LOADER_014: 'INTEGRITY_MISMATCH: the module file\'s SHA-256 is not the one the contract pins.',
  HANDLER_LOADER_015: 'INTEGRITY_REQUIRED: runtime.modules.require_integrity is on, the host runs in production, and the module has no sha256.',
  // Handler contracts (handler_contract.yaml), handler sources and registration-time security.
  HANDLER_CONTRACT_FORBIDDEN_DECLARATION: 'A handler contract declares an execution graph, dispatch rules or publish topics; Contract → Descriptor is one-way and handlers never publish.',
  HANDLER_CONTRACT_CODE_REFERENCE: 'A handler contract names code to load (import_path, factory, ...); the implementation is looked up by handler_type among the handlers the host ships.',
  HANDLER_ADAPTER_CATEGORY: 'An adapter (is_adapter: true) is not handler_type_category: effect; adapters do I/O.',
  HANDLER_ADAPTER_SECRETS: 'An adapter requests secret scopes without allow_secret_scopes: true.',
  HANDLER_ADAPTER_DOMAINS: 'An adapter does not declare security.allowed_domains (an empty list means no outbound traffic).',
  HANDLER_ADAPTER_OBSERVABILITY: 'An adapter does not set observability_level: enhanced.',
  HANDLER_CONTRACT_NO_IMPLEMENTATION: 'A handler contract names a handler_type this host ships no implementation for.',
  HANDLER_CONTRACT_UNKNOWN_COMMAND: 'A handler contract accepts a command its implementation does not support.',
  HANDLER_CONTRACT_VERSION_MISMATCH: 'A handler contract asks for a handler_version the shipped implementation does not satisfy.',
  HANDLER_CONTRACT_DUPLICATE: 'Two handler contracts share a handler_name or a handler_type.',
  HANDLER_CONTRACT_TOO_LARGE: 'A handler_contract.yaml is larger than the discovery size cap.',
  HANDLER_CONTRACT_UNREADABLE: 'A handler_contract.yaml or a contract path cannot be read.',
  HANDLER_CONTRACT_MISSING: 'A runtime handler binding has no handler contract in contract mode.',
  HANDLER_BOOTSTRAP_OVERRIDE_REQUIRED: 'handler_source mode bootstrap without allow_bootstrap_override: true.',
  HANDLER_BOOTSTRAP_OVERRIDE_EXPIRED: 'handler_source mode bootstrap after bootstrap_expires_at has passed.',
  HANDLER_SECRET_SCOPE_VIOLATION: "A handler binding uses a secret reference outside the handler contract's secret_scopes.",
} as const satisfies Record<string, string>;

export type ContractRuleId = keyof typeof CONTRACT_RULES;

export function isContractRuleId(value: unknown): value is ContractRuleId {
  return typeof value === 'string' && Object.hasOwn(CONTRACT_RULES, value);
}
