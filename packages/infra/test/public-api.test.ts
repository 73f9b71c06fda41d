/**
 * The public surface of every package entry point, pinned. Each entry exports a named,
 * documented list (no `export *`), and this test fails on any addition or removal, so a
 * change to a package's API is a decision made in review, not an accident of a barrel.
 * Values are checked on the built module; types by reading the entry's export list.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** The names an entry file exports, split into values and types. */
function exportedNames(source: string): { values: string[]; types: string[] } {
  const values: string[] = [];
  const types: string[] = [];
  for (const match of source.matchAll(/export\s+(type\s+)?\{([^}]*)\}\s*from/g)) {
    for (const raw of (match[2] ?? '').split(',')) {
      const item = raw.trim();
      if (item === '') continue;
      const name = item.replace(/^type\s+/, '').split(/\s+as\s+/).pop() ?? item;
      (match[1] !== undefined || item.startsWith('type ') ? types : values).push(name);
    }
  }
  return { values: values.sort(), types: types.sort() };
}

const ENTRIES = [
  {
    entry: '@onex/core/testing',
    source: '../../core/src/testing/index.ts',
    module: () => import('@onex/core/testing'),
    values: ['DeterministicClock', 'DeterministicIdGenerator', 'deterministicProviders'],
    types: [],
  },
  {
    entry: '@onex/core',
    source: '../../core/src/index.ts',
    module: () => import('@onex/core'),
    values: [
      'ARCHITECTURE_RULES', 'ArchitectureViolationError', 'BACKOFF_STRATEGIES', 'backoffCapMs', 'CONTRACT_RULES', 'CURRENT_CONTRACT_SCHEMA_VERSION',
      'CURRENT_ENVELOPE_VERSION', 'ComputeNode', 'ContractValidationError', 'DATA_CLASSIFICATIONS', 'DEFAULT_INPUT_TOPIC', 'DEFAULT_OUTPUT_TOPIC',
      'EVENT_BUS_KINDS', 'EffectNode', 'EnvelopeValidationError', 'EventBusError', 'ExecutionInterruptedError', 'EnvelopeExpiredError', 'IdempotencyKeyConflictError', 'DEADLINE_METADATA_KEY', 'envelopeDeadlineMs', 'expiredError', 'worstCaseMs', 'HANDLER_CATEGORIES',
      'HANDLER_CONTRACT_FILE_NAME', 'HANDLER_CONTRACT_FORBIDDEN_FIELDS', 'HANDLER_POLICY_FIELDS', 'LOG_LEVELS', 'HANDLER_SOURCE_DEFAULTS', 'HANDLER_SOURCE_TYPES',
      'HANDLER_TYPES', 'HandlerConfigurationError', 'HandlerExecutionError', 'HandlerNotFoundError', 'HandlerValidationError', 'IDEMPOTENCY_STORES',
      'INTERRUPTED_POLICIES', 'INVALID_ENVELOPE_OPERATION', 'IO_ACCESS_LEVELS', 'InfraAuthenticationError', 'InfraConnectionError', 'InfraError',
      'InfraRateLimitedError', 'InfraResponseTooLargeError', 'InfraTimeoutError', 'InfraUnavailableError', 'IngressBodyTooLargeError', 'IngressForbiddenError',
      'IngressInsecureConfigurationError', 'IngressListenFailedError', 'IngressLoopDetectedError', 'IngressMethodNotAllowedError', 'IngressRouteNotFoundError',
      'IngressUnauthenticatedError', 'IngressUnsupportedMediaTypeError', 'InternalError', 'InvalidOperationError', 'KAFKA_DELIVERY_MODES',
      'MAX_JSON_DEPTH', 'MAX_YAML_ALIAS_COUNT', 'MESSAGE_CATEGORIES', 'NODE_KINDS', 'NODE_NAME_RE', 'NODE_SLUG_RE', 'NODE_TYPES', 'NodeInstance',
      'NodeNotFoundError', 'NodeRuntime', 'OBSERVABILITY_LEVELS', 'ONEX_ERROR_CLASSES', 'ONEX_ERROR_CODES', 'OPERATION_RE', 'OnexError',
      'OrchestratorNode', 'RESERVED_TOPIC_NAMESPACES', 'ROUTING_STRATEGIES', 'RUNTIME_HOST_DEFAULTS', 'SERVICE_REGISTRATION_DEFAULTS', 'ReducerNode', 'RuntimeHostError',
      'SECRET_MASK', 'SUPPORTED_CONTRACT_SCHEMA_MAJOR', 'SUPPORTED_ENVELOPE_MAJOR', 'SecretResolutionError', 'SecretString', 'ShuttingDownError', 'TOPIC_DIRECTIONS',
      'TOPIC_PATTERN', 'TRANSPORT_TYPES', 'VersionCompatibilityError', 'createErrorResponse', 'createIntent', 'createInvalidEnvelopeResponse',
      'createInvocationContext', 'createNodeFromContract', 'createRequestEnvelope', 'createSuccessResponse', 'defaultProviders', 'formatIssue',
      'formatIssueLocation', 'intentToWire', 'isArchitectureRuleId', 'isContractRuleId', 'isHandlerType', 'isJsonValue', 'isOnexError',
      'isOnexErrorCode', 'isSecretRef', 'isSecretString', 'isUuid', 'isoNow', 'nodeKindOf', 'normalizeNodeType', 'parseEnvelope', 'parseHandlerContract',
      'parseNodeContract', 'parseRuntimeHostContract', 'parseSecretRef', 'randomIdProvider', 'resolveHandlerType', 'runtimeHostContractJsonSchema',
      'salvageIdentity', 'sanitizeMessage', 'serializeEnvelope', 'systemClock', 'toOnexError', 'toWireEnvelope', 'validateHandlerContract',
      'validateNodeContract', 'validateRuntimeHostContract', 'validateTopic', 'withCorrelationId', 'withTopicDirection',
      'PayloadValidationError', 'MODEL_FIELD_TYPES', 'modelJsonSchema', 'NODE_DEFINITION', 'NODE_DEFINITION_VERSION', 'defineCompute', 'defineReducer',
      'defineOrchestrator', 'nodeDefinitionKind',
    ],
    types: [
      'ArchitectureRuleId', 'ArchitectureViolationOptions', 'BackoffStrategy', 'CancellationSignal', 'ClassRef', 'Clock', 'ComputeContext',
      'ComputeFunction', 'ComputeNodeOptions', 'ContractIssue', 'ContractRuleId', 'DataClassification', 'EffectNodeOptions', 'EmittedEvent',
      'EnvelopeErrorBody', 'EnvelopeHandler', 'EnvelopeIssue', 'EnvelopeProviders', 'ErrorContext', 'EventBusConfig', 'EventBusKind',
      'EventBusTopics', 'HandlerBinding', 'HandlerCall', 'HandlerCatalog', 'HandlerCatalogEntry', 'HandlerCategory', 'HandlerContract',
      'HandlerContractInput', 'HandlerInvocationContext', 'HandlerPolicies', 'HandlerRoute', 'HandlerRouting', 'HandlerSecurity', 'HandlerSettings',
      'HandlerSourceSettings', 'ServiceRegistrationConfig', 'ServiceRegistrationCheck', 'HandlerSourceType', 'HandlerType', 'HandlerValidationIssue', 'IdProvider', 'IdempotencyConfig',
      'IdempotencyStoreKind', 'InfraErrorOptions', 'IngressAuthToken', 'IngressConfig', 'Intent', 'IntentPayload', 'InterruptedPolicy', 'IoAccess',
      'IoOperation', 'JsonObject', 'JsonValue', 'KafkaBusTuning', 'KafkaDeliveryMode', 'MessageCategory', 'ModelField', 'ModelSpec', 'NodeCallScope',
      'NodeContract', 'NodeContractInput', 'NodeDependency', 'NodeDescription', 'NodeExecutionPort', 'NodeImplementations', 'NodeKind', 'NodeRef',
      'NodeRuntimeOptions', 'NodeType', 'ObservabilityLevel', 'OnexEnvelope', 'OnexErrorClass', 'OnexErrorCode', 'OnexErrorOptions',
      'OrchestratorNodeOptions', 'OrchestratorOutput', 'ParseHandlerContractOptions', 'ParseNodeContractOptions', 'ParseResult',
      'ParseRuntimeHostContractOptions', 'RateLimit', 'CircuitBreakerPolicy', 'BulkheadPolicy', 'WorstCase', 'ReducerNodeOptions', 'ReducerOutput', 'RequestEnvelopeInit', 'RetryPolicy', 'RouteOptions',
      'RoutingStrategy', 'RuntimeHostContract', 'RuntimeHostContractInput', 'RuntimeSettings', 'SanitizeOptions', 'SecretRef', 'SecretValue',
      'SecretsConfig', 'VaultSecretsConfig', 'VaultAuthConfig', 'ObservabilityConfig', 'MetricsConfig', 'LoggingConfig', 'LogLevel',
      'StateMachineSpec', 'TopicDirection', 'TopicRejection', 'TopicValidation', 'TransportType', 'ValidateNodeContractOptions', 'ValidationResult',
      'WireEnvelope', 'WireEnvelopeInput', 'WireIntent',
      'ImplementationRef', 'ModulesConfig', 'NodeCode', 'NodeContractSource', 'NodeContext', 'NodeEvent', 'NodeSchema', 'ReduceResult',
      'EmittedEventInit', 'OrchestrateResult', 'ComputeDefinition', 'ReducerDefinition', 'OrchestratorDefinition', 'NodeDefinition',
    ],
  },
  {
    entry: '@onex/core/contract-kit',
    source: '../../core/src/contract-kit.ts',
    module: () => import('@onex/core/contract-kit'),
    values: [
      'addRuleIssue', 'catalogEntries', 'contractLocator', 'isPlaceholder', 'isTemplated', 'secretRefSchema', 'secretValueSchema',
      'urlHasInlinePassword', 'placeholdersIn', 'interpolatePlaceholders', 'inlineCredentialProblem', 'readYamlSource', 'handlerBindingSchema',
    ],
    types: [
      'ContractPosition', 'RuleParams', 'Placeholder', 'YamlSource', 'YamlReadResult',
    ],
  },
  {
    entry: '@onex/spi',
    source: '../../spi/src/index.ts',
    module: () => import('@onex/spi'),
    values: [

    ],
    types: [
      'Awaitable', 'BusMessage', 'BusSubscriber', 'BusSubscription', 'DeadLetterReason', 'EnvelopeHandler', 'EventBusHealth', 'EventBusReadiness',
      'HandlerDescription', 'HandlerDescriptor', 'HandlerDescriptorSecurity', 'HandlerHealth', 'HandlerInvocationContext', 'IdempotencyClaim',
      'InboundMessage', 'MessageSettlement', 'OutboundEnvelope', 'ProtocolEventBus', 'ProtocolHandler', 'ProtocolHandlerConfigResolver',
      'ProtocolHandlerSource', 'ProtocolIdempotencyStore', 'ProtocolSecretResolver', 'SecretLookup', 'SecretReference', 'SecretReferenceLookup',
      'SecretSource',
    ],
  },
  {
    entry: '@onex/infra',
    source: '../src/index.ts',
    module: () => import('@onex/infra'),
    values: [
      'DEFAULT_MAX_HANDLER_CONTRACT_BYTES', 'FileRegistry', 'HANDLER_CATALOG', 'HANDLER_UNITS', 'HandlerBootstrapSource', 'HandlerContractSource',
      'InMemoryEventBus', 'InMemoryIdempotencyStore', 'KafkaEventBus', 'MAX_CONTRACT_FILE_BYTES', 'ONEX_ORIGIN_HOST_HEADER', 'REDACTED_LOG_PATHS',
      'ResolvedHandlerSource', 'RuntimeHostProcess', 'assertCompatibleVersions', 'createEventBus', 'createIdempotencyStore', 'createLogger',
      'createRuntimeHostFromContract', 'createRuntimeHostProcess', 'defineHandlerUnit', 'fieldsOf', 'findHandlerUnit', 'handlerCatalog',
      'handlerSourceFromContract', 'loadVersionFacts', 'nodeProviders', 'resolveHandlerSource', 'resolveIngressTokens', 'settingsFromContract',
      'silentLogger', 'startIngressServer', 'systemScheduler', 'serviceRegistrationPlan', 'registerServiceInConsul',
      'DEFAULT_LEASE_REFRESH_RATIO', 'DEFAULT_MAX_SECRET_FILE_BYTES', 'DEFAULT_SECRET_TTL_MS', 'EnvSecretSource', 'FileSecretSource',
      'SecretResolver', 'createEnvSecretSource', 'createFileSecretSource', 'createSecretResolver', 'envVarNameOf',
      'VaultSecretSource', 'createVaultSecretSource',
      'HandlerConfigResolver', 'createSecretsFromContract', 'envOverrideName',
      'createHostMetrics', 'NOOP_RESILIENCE_OBSERVER',
    ],
    types: [
      'ContractSecurity',
      'HostMetrics', 'HostMetricsOptions',
      'ClosableSecretSource', 'HandlerConfigResolverOptions', 'HostSecrets', 'ScopableSecretResolver', 'SecretsFromContractOptions',
      'BootstrapSourceOptions', 'CreateLoggerOptions', 'DeadLetterRecordBody', 'FieldSummary', 'HandlerContractDiscovery',
      'HandlerConfigValue', 'HandlerContractSourceOptions', 'HandlerGuardMode', 'HandlerHostFacts', 'HandlerImplementation', 'HandlerImplementationLookup', 'HandlerInitConfig',
      'HandlerOperation', 'HandlerRequest', 'HandlerSecurityNeeds', 'HandlerSourceCounts', 'HandlerSourceResolution', 'HandlerUnit',
      'HandlerUnitDeps', 'HostFromContractOptions', 'InMemoryEventBusOptions', 'InMemoryIdempotencyStoreOptions', 'IngressClientToken',
      'IngressConnectionStats', 'IngressOptions', 'IngressServer', 'KafkaEventBusOptions', 'KafkaEventBusSettings', 'LoadedContract', 'Logger',
      'ResolveHandlerSourceOptions', 'ResolvedSettings', 'ResolvedVersions', 'RuntimeHostHealth', 'RuntimeHostProcessOptions', 'RuntimeHostSettings',
      'RuntimeHostState', 'Scheduler', 'SettingsFromContractOptions', 'SubmitOptions', 'SubmitResult', 'TimerHandle', 'VersionRequirement',
      'EnvSecretSourceOptions', 'FileSecretSourceOptions', 'SecretResolverOptions', 'ServiceRegistrationPlan', 'ServiceRegistration',
      'VaultAuthOptions', 'VaultSecretSourceOptions', 'VaultSessionHealth',
      'CircuitState', 'ResilienceObserver',
      'HandlerCircuitView', 'HandlerCircuitState', 'HandlerLifecycleState', 'HandlerStatus', 'StopOptions',
    ],
  },
  {
    entry: '@onex/infra/handlers/http',
    source: '../src/handlers/http/index.ts',
    module: () => import('@onex/infra/handlers/http'),
    values: [
      'DEFAULT_HTTP_CONNECTIONS', 'DEFAULT_HTTP_MAX_RESPONSE_BYTES', 'DEFAULT_HTTP_TIMEOUT_MS', 'HTTP_HANDLER_VERSION', 'HTTP_OPERATIONS',
      'HttpHandler', 'MAX_HTTP_TIMEOUT_MS', 'ORIGIN_HOST_HEADER', 'createHttpHandler', 'httpHandlerConfigSchema', 'httpMethodOf',
      'httpPayloadSchema', 'isHttpOperation', 'parseHttpHandlerConfig', 'parseHttpPayload',
    ],
    types: [
      'HttpHandlerConfig', 'HttpHandlerOptions', 'HttpHandlerState', 'HttpMethod', 'HttpOperation', 'HttpRequestPayload', 'HttpRequestSpec',
      'HttpResponsePayload', 'ParseHttpPayloadOptions', 'ResolvedHttpHandlerConfig',
    ],
  },
  {
    entry: '@onex/infra/handlers/db',
    source: '../src/handlers/db/index.ts',
    module: () => import('@onex/infra/handlers/db'),
    values: [
      'DB_HANDLER_VERSION', 'DB_HEALTH_CHECK_TIMEOUT_MS', 'DB_OPERATIONS', 'DEFAULT_DB_APPLICATION_NAME', 'DEFAULT_DB_CONNECTION_TIMEOUT_MS',
      'DEFAULT_DB_MAX_RESULT_BYTES', 'DEFAULT_DB_MAX_ROWS', 'DEFAULT_DB_POOL_SIZE', 'DEFAULT_DB_PRIVILEGED_ROLE', 'DEFAULT_DB_TIMEOUT_MS',
      'DbHandler', 'PRIVILEGED_ROLE_POLICIES', 'analyzeSql', 'createDbHandler', 'dbHandlerConfigSchema', 'dbStatementSchema',
      'dbTransactionPayloadSchema', 'parseDbHandlerConfig',
    ],
    types: [
      'DbExecuteResponse', 'DbHandlerConfig', 'DbHandlerOptions', 'DbHandlerState', 'DbOperation', 'DbQueryResponse', 'DbStatement',
      'DbTransactionPayload', 'DbTransactionResponse', 'PrivilegedRolePolicy', 'ResolvedDbHandlerConfig', 'SqlAnalysis', 'SqlStatementClass',
      'SuspiciousPattern',
    ],
  },
  {
    entry: '@onex/infra/handlers/vault',
    source: '../src/handlers/vault/index.ts',
    module: () => import('@onex/infra/handlers/vault'),
    values: [
      'DEFAULT_VAULT_MOUNT', 'DEFAULT_VAULT_TIMEOUT_MS', 'VAULT_HANDLER_VERSION', 'VAULT_OPERATIONS', 'VaultHandler', 'createVaultHandler',
      'parseVaultHandlerConfig',
    ],
    types: [
      'ResolvedVaultHandlerConfig', 'VaultDeleteSecretResponse', 'VaultGetSecretResponse', 'VaultHandlerConfig', 'VaultHandlerOptions',
      'VaultHandlerState', 'VaultListSecretsResponse', 'VaultOperation', 'VaultRenewTokenResponse', 'VaultSetSecretResponse',
    ],
  },
  {
    entry: '@onex/infra/handlers/consul',
    source: '../src/handlers/consul/index.ts',
    module: () => import('@onex/infra/handlers/consul'),
    values: [
      'CONSUL_HANDLER_VERSION', 'CONSUL_HEALTH_CHECK_TIMEOUT_MS', 'CONSUL_OPERATIONS', 'ConsulHandler', 'DEFAULT_CONSUL_TIMEOUT_MS',
      'createConsulHandler', 'parseConsulHandlerConfig', 'sanitizeConsulKey',
    ],
    types: [
      'CheckSummary', 'ConsulHandlerConfig', 'ConsulHandlerOptions', 'ConsulHandlerState', 'ConsulHealthStatus', 'ConsulOperation',
      'DeregisterServiceResponse', 'GetServiceResponse', 'HealthCheckServiceResponse', 'KvDeleteResponse', 'KvGetResponse', 'KvPutResponse',
      'ListServicesResponse', 'RegisterServiceResponse', 'ResolvedConsulHandlerConfig', 'ServiceInstance',
    ],
  },
  {
    entry: '@onex/infra/handlers/local',
    source: '../src/handlers/local/index.ts',
    module: () => import('@onex/infra/handlers/local'),
    values: [
      'LOCAL_OPERATIONS', 'LocalHandler',
    ],
    types: [
      'LocalHandlerOptions',
    ],
  },
] as const;

describe('public API of each entry point', () => {
  it.each(ENTRIES.map((e) => [e.entry, e] as const))('%s exports exactly its pinned list', async (_entry, e) => {
    const source = readFileSync(new URL(e.source, import.meta.url), 'utf8');
    expect(source).not.toMatch(/export \*/);
    expect(exportedNames(source)).toEqual({ values: [...e.values].sort(), types: [...e.types].sort() });
    expect(Object.keys(await e.module()).sort()).toEqual([...e.values].sort());
  });
});
