/**
 * Contracts: the runtime host contract and node contracts, parsed from YAML text into
 * frozen, fully-defaulted objects, with every problem reported as a structured issue.
 */
export {
  parseRuntimeHostContract,
  validateRuntimeHostContract,
  parseNodeContract,
  validateNodeContract,
  type ParseResult,
  type ValidationResult,
  type ParseRuntimeHostContractOptions,
  type ParseNodeContractOptions,
  type ValidateNodeContractOptions,
} from './parse-contract.js';
export { catalogEntries, type HandlerCatalog, type HandlerCatalogEntry } from './handler-catalog.js';
export { addRuleIssue, type RuleParams } from './schema-helpers.js';
export { CONTRACT_RULES, isContractRuleId, type ContractRuleId } from './contract-rule-ids.js';
export { SUPPORTED_CONTRACT_SCHEMA_MAJOR, CURRENT_CONTRACT_SCHEMA_VERSION } from './schema-version.js';
export { MAX_YAML_ALIAS_COUNT } from './yaml-source.js';
export { parseSecretRef, isSecretRef, isPlaceholder, isTemplated, urlHasInlinePassword, secretRefSchema, secretValueSchema, type SecretRef, type SecretValue } from './secret-ref.js';
export {
  DEFAULT_INPUT_TOPIC,
  DEFAULT_OUTPUT_TOPIC,
  RUNTIME_HOST_DEFAULTS,
  EVENT_BUS_KINDS,
  BACKOFF_STRATEGIES,
  KAFKA_DELIVERY_MODES,
  IDEMPOTENCY_STORES,
  INTERRUPTED_POLICIES,
  HANDLER_POLICY_FIELDS,
  runtimeHostContractSchema,
  runtimeHostContractJsonSchema,
  handlerBindingSchema,
  retryPolicySchema,
  nodeRefSchema,
  type RuntimeHostContract,
  type RuntimeHostContractInput,
  type RuntimeSettings,
  type EventBusKind,
  type EventBusConfig,
  type EventBusTopics,
  type HandlerBinding,
  type HandlerPolicies,
  type HandlerSettings,
  type RetryPolicy,
  type BackoffStrategy,
  type RateLimit,
  type NodeRef,
  type IngressConfig,
  type IngressAuthToken,
  type KafkaBusTuning,
  type KafkaDeliveryMode,
  type IdempotencyConfig,
  type IdempotencyStoreKind,
  type InterruptedPolicy,
} from './runtime-host-contract-schema.js';
export {
  NODE_NAME_RE,
  ROUTING_STRATEGIES,
  normalizeNodeType,
  nodeContractSchema,
  type NodeContract,
  type NodeContractInput,
  type ModelSpec,
  type ModelField,
  type IoOperation,
  type ClassRef,
  type HandlerRoute,
  type HandlerRouting,
  type RoutingStrategy,
  type NodeDependency,
  type StateMachineSpec,
} from './node-contract-schema.js';
export { parseHandlerContract, validateHandlerContract, contractLocator, type ParseHandlerContractOptions, type ContractPosition } from './parse-handler-contract.js';
export {
  HANDLER_CONTRACT_FILE_NAME,
  HANDLER_CONTRACT_FORBIDDEN_FIELDS,
  OBSERVABILITY_LEVELS,
  DATA_CLASSIFICATIONS,
  type HandlerContract,
  type HandlerContractInput,
  type HandlerSecurity,
  type ObservabilityLevel,
  type DataClassification,
} from './handler-contract-schema.js';
export { HANDLER_SOURCE_DEFAULTS, type HandlerSourceSettings } from './handler-source-schema.js';
