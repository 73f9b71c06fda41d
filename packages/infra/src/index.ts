/**
 * @onex/infra: implementations of the @onex/spi interfaces — protocol handlers, event
 * buses, and the runtime host process that drives @onex/core's NodeRuntime.
 *
 * Each handler is a unit (handlers/<type>/<type>-unit.ts) listed in one registry, which
 * contract validation, `describe`, wiring and docs all read. The handler classes live on
 * their own entry points (`@onex/infra/handlers/http`, `/db`, `/local`) and units load
 * them lazily, so a host loads a driver (undici, pg, PGlite) only when its contract uses
 * that handler.
 */
export * from './logging/logger.js';
export { WarningLimiter, type WarningLimiterOptions } from './logging/warning-limiter.js';
export { InMemoryEventBus, type InMemoryEventBusOptions } from './event-bus/in-memory-event-bus.js';
export { BoundedQueue } from './event-bus/bounded-queue.js';
export { KafkaEventBus, type KafkaEventBusOptions, type KafkaEventBusSettings } from './event-bus/kafka/kafka-event-bus.js';
export type { DeadLetterRecordBody } from './event-bus/kafka/dead-letter-record.js';
export { InMemoryIdempotencyStore, type InMemoryIdempotencyStoreOptions } from './idempotency/in-memory-idempotency-store.js';
export { systemScheduler, type Scheduler, type TimerHandle } from './runtime/scheduler.js';
export { ConcurrencyLimiter } from './runtime/concurrency-limiter.js';
export { guardHandler, assertNotInHandlerScope, type HandlerGuardMode } from './runtime/handler-scope.js';
export { HandlerBootstrapSource, descriptorOf, wireHandlers, type BootstrapSourceOptions, type HandlerRequest } from './runtime/handler-bootstrap-source.js';
export {
  defineHandlerUnit,
  catalogEntryOf,
  fieldsOf,
  type HandlerUnit,
  type HandlerOperation,
  type HandlerSecurityNeeds,
  type HandlerUnitDeps,
  type ResolvedSettings,
  type FieldSummary,
} from './handlers/handler-unit.js';
export { HANDLER_UNITS, HANDLER_CATALOG, handlerCatalog, findHandlerUnit } from './handlers/registry.js';
export * from './runtime/version-check.js';
export { nodeProviders, nodeRandomIdProvider } from './runtime/node-providers.js';
export * from './runtime/runtime-host-process.js';
export * from './runtime/ingress-server.js';
export * from './runtime/host-from-contract.js';
export * from './runtime/file-registry.js';
export {
  HandlerContractSource,
  implementationsFromDescriptors,
  DEFAULT_MAX_HANDLER_CONTRACT_BYTES,
  type HandlerContractSourceOptions,
  type HandlerContractDiscovery,
  type HandlerImplementation,
  type HandlerImplementationLookup,
} from './runtime/handler-contract-source.js';
export {
  resolveHandlerSource,
  handlerSourceFromContract,
  mergeHybrid,
  ResolvedHandlerSource,
  type ResolveHandlerSourceOptions,
  type HandlerSourceResolution,
  type HandlerSourceCounts,
} from './runtime/handler-source-resolution.js';
export { bindingSecretRefs, matchesSecretScope, secretScopeFailures, bindingSecretFailures, assertBindingSecrets, type SecretScopeCheckOptions } from './runtime/handler-security.js';
