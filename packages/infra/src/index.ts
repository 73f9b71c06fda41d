/**
 * @onex/infra: implementations of the @onex/spi interfaces — protocol handlers, event
 * buses, and the runtime host process that drives @onex/core's NodeRuntime.
 *
 * Each handler is a unit (handlers/<type>/<type>-unit.ts) listed in one registry, which
 * contract validation, `describe`, wiring and docs all read. The handler classes live on
 * their own entry points (`@onex/infra/handlers/http`, `/db`, `/local`) and units load
 * them lazily, so a host loads a driver (undici, pg, PGlite) only when its contract uses
 * that handler.
 *
 * The public surface is this named list, pinned by test/public-api.test.ts so that a
 * change to it is deliberate. Plumbing (queues, limiters, guards, secret-scope and
 * source-merging internals) stays inside the package.
 */

// The runtime host: from a contract, or wired by hand.
export {
  createRuntimeHostFromContract,
  settingsFromContract,
  createEventBus,
  createIdempotencyStore,
  resolveIngressTokens,
  type HostFromContractOptions,
  type SettingsFromContractOptions,
} from './runtime/host-from-contract.js';
export {
  RuntimeHostProcess,
  createRuntimeHostProcess,
  type RuntimeHostProcessOptions,
  type RuntimeHostSettings,
  type RuntimeHostState,
  type RuntimeHostHealth,
  type SubmitOptions,
  type SubmitResult,
  type StopOptions,
} from './runtime/runtime-host-process.js';
export {
  startIngressServer,
  ONEX_ORIGIN_HOST_HEADER,
  type IngressServer,
  type IngressOptions,
  type IngressClientToken,
  type IngressConnectionStats,
} from './runtime/ingress-server.js';
export type { HandlerGuardMode } from './runtime/handler-scope.js';
// Health: what /health/handlers reports per handler, and the seam circuit breakers plug into.
export type { HandlerCircuitView, HandlerCircuitState, HandlerLifecycleState, HandlerStatus } from './runtime/handler-lifecycle.js';
export {
  serviceRegistrationPlan,
  registerServiceInConsul,
  type ServiceRegistrationPlan,
  type ServiceRegistration,
} from './discovery/consul-service-registration.js';
export { nodeProviders } from './runtime/node-providers.js';
export { systemScheduler, type Scheduler, type TimerHandle } from './runtime/scheduler.js';
export { NOOP_RESILIENCE_OBSERVER, type ResilienceObserver } from './resilience/resilience-observer.js';
export type { CircuitState } from './resilience/circuit-breaker.js';
export { loadVersionFacts, assertCompatibleVersions, type ResolvedVersions, type VersionRequirement } from './runtime/version-check.js';

// Contracts on disk.
export { FileRegistry, MAX_CONTRACT_FILE_BYTES, type LoadedContract } from './runtime/file-registry.js';

// Handlers: the units, their registry, and where descriptors come from.
export { HANDLER_UNITS, HANDLER_CATALOG, handlerCatalog, findHandlerUnit } from './handlers/registry.js';
export {
  defineHandlerUnit,
  fieldsOf,
  type HandlerUnit,
  type HandlerOperation,
  type HandlerSecurityNeeds,
  type HandlerUnitDeps,
  type HandlerHostFacts,
  type ContractSecurity,
  type ResolvedSettings,
  type HandlerInitConfig,
  type HandlerConfigValue,
  type FieldSummary,
} from './handlers/handler-unit.js';
export { HandlerBootstrapSource, type BootstrapSourceOptions, type HandlerRequest } from './runtime/handler-bootstrap-source.js';
export {
  HandlerContractSource,
  DEFAULT_MAX_HANDLER_CONTRACT_BYTES,
  type HandlerContractSourceOptions,
  type HandlerContractDiscovery,
  type HandlerImplementation,
  type HandlerImplementationLookup,
} from './runtime/handler-contract-source.js';
export {
  resolveHandlerSource,
  handlerSourceFromContract,
  ResolvedHandlerSource,
  type ResolveHandlerSourceOptions,
  type HandlerSourceResolution,
  type HandlerSourceCounts,
} from './runtime/handler-source-resolution.js';

// Event buses and idempotency stores.
export { InMemoryEventBus, type InMemoryEventBusOptions } from './event-bus/in-memory-event-bus.js';
export { KafkaEventBus, type KafkaEventBusOptions, type KafkaEventBusSettings } from './event-bus/kafka/kafka-event-bus.js';
export type { DeadLetterRecordBody } from './event-bus/kafka/dead-letter-record.js';
export { InMemoryIdempotencyStore, type InMemoryIdempotencyStoreOptions } from './idempotency/in-memory-idempotency-store.js';

// Secrets: one resolver over prioritised sources (Vault joins as one more source).
export {
  SecretResolver,
  createSecretResolver,
  DEFAULT_SECRET_TTL_MS,
  DEFAULT_LEASE_REFRESH_RATIO,
  type SecretResolverOptions,
} from './secrets/secret-resolver.js';
export { EnvSecretSource, createEnvSecretSource, envVarNameOf, type EnvSecretSourceOptions } from './secrets/env-secret-source.js';
export {
  createSecretsFromContract,
  type HostSecrets,
  type SecretsFromContractOptions,
  type ClosableSecretSource,
} from './secrets/secrets-from-contract.js';
export { HandlerConfigResolver, envOverrideName, type HandlerConfigResolverOptions, type ScopableSecretResolver } from './runtime/handler-config-resolver.js';
export {
  FileSecretSource,
  createFileSecretSource,
  DEFAULT_MAX_SECRET_FILE_BYTES,
  type FileSecretSourceOptions,
} from './secrets/file-secret-source.js';
export {
  VaultSecretSource,
  createVaultSecretSource,
  type VaultSecretSourceOptions,
  type VaultAuthOptions,
} from './secrets/vault-secret-source.js';
export type { VaultSessionHealth } from './vault/vault-session.js';

// Logging.
export { createLogger, silentLogger, REDACTED_LOG_PATHS, type Logger, type CreateLoggerOptions } from './logging/logger.js';
// Metrics: the host's prom-client registry (GET /metrics) and the seam resilience policies report to.
export { createHostMetrics, type HostMetrics, type HostMetricsOptions } from './observability/host-metrics.js';
