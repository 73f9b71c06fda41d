/**
 * @onex/core: the pure heart of the ONEX runtime host. Envelopes, contracts, the
 * NodeRuntime router, node kinds, reducers and intents, and the typed errors. It does
 * no I/O: files, sockets, timers, environment and ids/time come in from the caller.
 *
 * The public surface is this named list, pinned by test/public-api.test.ts so that a
 * change to it is deliberate. The zod schemas and the contract-building helpers that
 * handler units need live on `@onex/core/contract-kit`; deterministic providers on
 * `@onex/core/testing`.
 */
export {
  isJsonValue,
  MAX_JSON_DEPTH,
  type JsonValue,
  type JsonObject,
} from './json.js';
export {
  NODE_KINDS,
  type NodeKind,
  NODE_TYPES,
  type NodeType,
  nodeKindOf,
} from './enums/node-kind.js';
export {
  HANDLER_TYPES,
  type HandlerType,
  isHandlerType,
} from './enums/handler-type.js';
export {
  HANDLER_CATEGORIES,
  type HandlerCategory,
} from './enums/handler-category.js';
export {
  MESSAGE_CATEGORIES,
  type MessageCategory,
} from './enums/message-category.js';
export {
  TRANSPORT_TYPES,
  type TransportType,
} from './enums/transport-type.js';
export {
  HANDLER_SOURCE_TYPES,
  type HandlerSourceType,
} from './enums/handler-source-type.js';
export {
  ONEX_ERROR_CODES,
  type OnexErrorCode,
  isOnexErrorCode,
} from './errors/codes.js';
export {
  ARCHITECTURE_RULES,
  type ArchitectureRuleId,
  isArchitectureRuleId,
} from './errors/architecture-rules.js';
export {
  type SanitizeOptions,
  sanitizeMessage,
} from './errors/sanitize.js';
export {
  type ErrorContext,
  type OnexErrorOptions,
  type EnvelopeErrorBody,
  OnexError,
  isOnexError,
} from './errors/onex-error.js';
export {
  RuntimeHostError,
  InternalError,
  ShuttingDownError,
  HandlerExecutionError,
  EventBusError,
  InvalidOperationError,
  HandlerNotFoundError,
  NodeNotFoundError,
  EnvelopeValidationError,
  PayloadValidationError,
  HandlerConfigurationError,
  SecretResolutionError,
  type ArchitectureViolationOptions,
  ArchitectureViolationError,
  VersionCompatibilityError,
  ExecutionInterruptedError,
  EnvelopeExpiredError,
  IdempotencyKeyConflictError,
  IngressUnauthenticatedError,
  IngressForbiddenError,
  IngressRouteNotFoundError,
  IngressMethodNotAllowedError,
  IngressUnsupportedMediaTypeError,
  IngressLoopDetectedError,
  IngressInsecureConfigurationError,
  IngressBodyTooLargeError,
  IngressListenFailedError,
} from './errors/runtime-errors.js';
export {
  type InfraErrorOptions,
  InfraError,
  InfraConnectionError,
  InfraTimeoutError,
  InfraAuthenticationError,
  InfraRateLimitedError,
  InfraUnavailableError,
  InfraResponseTooLargeError,
} from './errors/infra-errors.js';
export {
  type ContractIssue,
  formatIssueLocation,
  formatIssue,
  ContractValidationError,
} from './errors/contract-validation-error.js';
export {
  toOnexError,
} from './errors/to-onex-error.js';
export {
  type OnexErrorClass,
  ONEX_ERROR_CLASSES,
} from './errors/error-classes.js';
export {
  type HandlerValidationIssue,
  HandlerValidationError,
} from './errors/handler-validation-error.js';
export {
  type IdProvider,
  type Clock,
  isoNow,
  type EnvelopeProviders,
  randomIdProvider,
  systemClock,
  defaultProviders,
} from './envelope/providers.js';
export {
  isUuid,
  SUPPORTED_ENVELOPE_MAJOR,
  CURRENT_ENVELOPE_VERSION,
  OPERATION_RE,
  type WireEnvelopeInput,
} from './envelope/envelope-schema.js';
export {
  type OnexEnvelope,
  type WireEnvelope,
  type EnvelopeIssue,
  parseEnvelope,
  toWireEnvelope,
  serializeEnvelope,
  resolveHandlerType,
  withCorrelationId,
  salvageIdentity,
} from './envelope/envelope.js';
export {
  type RequestEnvelopeInit,
  createRequestEnvelope,
  createSuccessResponse,
  createErrorResponse,
  INVALID_ENVELOPE_OPERATION,
  createInvalidEnvelopeResponse,
} from './envelope/envelope-factory.js';
export {
  TOPIC_DIRECTIONS,
  type TopicDirection,
  RESERVED_TOPIC_NAMESPACES,
  TOPIC_PATTERN,
  type TopicRejection,
  type TopicValidation,
  validateTopic,
  withTopicDirection,
} from './topics/validate-topic.js';
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
} from './contracts/parse-contract.js';
export {
  type HandlerCatalog,
  type HandlerCatalogEntry,
} from './contracts/handler-catalog.js';
export {
  CONTRACT_RULES,
  isContractRuleId,
  type ContractRuleId,
} from './contracts/contract-rule-ids.js';
export {
  SUPPORTED_CONTRACT_SCHEMA_MAJOR,
  CURRENT_CONTRACT_SCHEMA_VERSION,
} from './contracts/schema-version.js';
export {
  MAX_YAML_ALIAS_COUNT,
} from './contracts/yaml-source.js';
export {
  parseSecretRef,
  isSecretRef,
  type SecretRef,
  type SecretValue,
} from './contracts/secret-ref.js';
export {
  SECRET_MASK,
  SecretString,
  isSecretString,
} from './secrets/secret-string.js';
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
  LOG_LEVELS,
  runtimeHostContractJsonSchema,
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
  type CircuitBreakerPolicy,
  type BulkheadPolicy,
  type NodeRef,
  type IngressConfig,
  type IngressAuthToken,
  type KafkaBusTuning,
  type KafkaDeliveryMode,
  type IdempotencyConfig,
  type IdempotencyStoreKind,
  type InterruptedPolicy,
  type SecretsConfig,
  type VaultSecretsConfig,
  type VaultAuthConfig,
  type ObservabilityConfig,
  type ModulesConfig,
  type MetricsConfig,
  type LoggingConfig,
  type LogLevel,
} from './contracts/runtime-host-contract-schema.js';
export { type WorstCase, worstCaseMs, backoffCapMs } from './contracts/timing-budget.js';
export { DEADLINE_METADATA_KEY, envelopeDeadlineMs, expiredError } from './envelope/envelope-deadline.js';
export {
  NODE_NAME_RE,
  ROUTING_STRATEGIES,
  normalizeNodeType,
  type NodeContract,
  type NodeContractInput,
  type ModelSpec,
  type ModelField,
  type ImplementationRef,
  type IoOperation,
  type ClassRef,
  type HandlerRoute,
  type HandlerRouting,
  type RoutingStrategy,
  type NodeDependency,
  type StateMachineSpec,
} from './contracts/node-contract-schema.js';
export { MODEL_FIELD_TYPES, modelJsonSchema } from './contracts/model-schema.js';
export {
  parseHandlerContract,
  validateHandlerContract,
  type ParseHandlerContractOptions,
} from './contracts/parse-handler-contract.js';
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
} from './contracts/handler-contract-schema.js';
export {
  HANDLER_SOURCE_DEFAULTS,
  type HandlerSourceSettings,
} from './contracts/handler-source-schema.js';
export { SERVICE_REGISTRATION_DEFAULTS, type ServiceRegistrationConfig, type ServiceRegistrationCheck } from './contracts/service-registration-schema.js';
export {
  type CancellationSignal,
  type HandlerInvocationContext,
  IO_ACCESS_LEVELS,
  type IoAccess,
  type HandlerCall,
  type EnvelopeHandler,
  createInvocationContext,
} from './runtime/handler-port.js';
export {
  type Intent,
  type IntentPayload,
  type WireIntent,
  createIntent,
  intentToWire,
} from './runtime/intent.js';
export {
  type NodeExecutionPort,
  type NodeCallScope,
  type NodeDescription,
  NodeInstance,
} from './runtime/node-instance.js';
export {
  NODE_SLUG_RE,
  type EffectNodeOptions,
  EffectNode,
  type ComputeContext,
  type ComputeNodeOptions,
  ComputeNode,
  type ReducerOutput,
  type ReducerNodeOptions,
  ReducerNode,
  type EmittedEvent,
  type OrchestratorOutput,
  type OrchestratorNodeOptions,
  OrchestratorNode,
} from './runtime/nodes.js';
export {
  type NodeRuntimeOptions,
  type RouteOptions,
  NodeRuntime,
} from './runtime/node-runtime.js';
export {
  type ComputeFunction,
  type NodeImplementations,
  type NodeCode,
  type NodeContractSource,
  createNodeFromContract,
} from './runtime/node-factory.js';
export {
  NODE_DEFINITION,
  NODE_DEFINITION_VERSION,
  type NodeContext,
  type NodeEvent,
  type NodeSchema,
  type ReduceResult,
  type EmittedEventInit,
  type OrchestrateResult,
  type ComputeDefinition,
  type ReducerDefinition,
  type OrchestratorDefinition,
  type NodeDefinition,
  defineCompute,
  defineReducer,
  defineOrchestrator,
  nodeDefinitionKind,
} from './runtime/define-node.js';
