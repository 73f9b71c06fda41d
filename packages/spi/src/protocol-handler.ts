import type { EnvelopeHandler, HandlerType, JsonValue } from '@onex/core';

/**
 * Health of a handler, served as JSON on `GET /health/handlers`. Extra keys (pool
 * sizes, `dev_test_only`, last error) are handler-specific and snake_case.
 */
export interface HandlerHealth {
  readonly healthy: boolean;
  readonly handler_type: HandlerType;
  readonly [detail: string]: JsonValue;
}

/** What a handler can do, for `describe` output, docs and contract validation. */
export interface HandlerDescription {
  readonly handlerType: HandlerType;
  /** Every `operation` the handler accepts, e.g. `["db.query", "db.execute"]`. */
  readonly supportedOperations: readonly string[];
  /** Payload fields each operation requires. */
  readonly requiredPayloadFields: Readonly<Record<string, readonly string[]>>;
  /** Shape of a successful response payload, for people. */
  readonly responseShape: string;
  readonly version: string;
}

/**
 * A protocol handler: the adapter between envelopes and one external system (HTTP,
 * PostgreSQL, Vault, Consul). Handlers are request/response: they execute one
 * operation and return its result. They never publish to the event bus; that is the
 * runtime host's job (see README: handler vs event bus).
 *
 * Lifecycle: created → `initialize(config)` once → `execute` any number of times,
 * concurrently → `shutdown()` exactly once. `healthCheck()` may be called any time
 * before shutdown.
 */
export interface ProtocolHandler<Config = unknown> extends EnvelopeHandler {
  readonly handlerType: HandlerType;
  /**
   * Opens pools and clients. `config` comes from the contract and is validated by the
   * handler itself (it is untrusted input). Failures are typed errors.
   */
  initialize(config: Config): Promise<void>;
  /** Releases every resource. Safe to call once after a failed initialize. */
  shutdown(): Promise<void>;
  healthCheck(): Promise<HandlerHealth>;
  describe(): HandlerDescription;
}
