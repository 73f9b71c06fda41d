/**
 * @onex/infra: implementations of the @onex/spi interfaces — protocol handlers, event
 * buses, and the runtime host process that drives @onex/core's NodeRuntime.
 *
 * The handlers live on their own entry points, `@onex/infra/handlers/http` and
 * `@onex/infra/handlers/db`, so a host loads a driver (undici, pg, PGlite) only when its
 * contract uses that handler.
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
export { HandlerBootstrapSource, wireHandlers, type BootstrapSourceOptions, type HandlerRequest } from './runtime/handler-bootstrap-source.js';
export * from './runtime/version-check.js';
export { nodeProviders, nodeRandomIdProvider } from './runtime/node-providers.js';
export * from './runtime/runtime-host-process.js';
export * from './runtime/ingress-server.js';
export * from './runtime/host-from-contract.js';
export * from './runtime/file-registry.js';
