/**
 * What the host knows about each handler, tracked by the host rather than by each handler:
 * the lifecycle state of the spec's "Handler Lifecycle State Machine", the last health check,
 * the circuit state (from a {@link HandlerCircuitView}), the last error and the calls in
 * flight. `/health/handlers` shows it and `/health/ready` judges the required handlers by it.
 */
import type { EnvelopeHandler, HandlerInvocationContext, JsonValue, OnexEnvelope } from '@onex/core';
import type { EnvelopeTracing } from '../tracing/envelope-tracing.js';
import { errorFacts } from '../tracing/envelope-tracing.js';
import type { Scheduler } from './scheduler.js';
import type { CircuitState } from '../resilience/circuit-breaker.js';

/**
 * The spec's lifecycle states. `INITIALIZED` ⇄ `HEALTHY` follows the health checks (a handler
 * whose last check failed is back to "initialized, not confirmed healthy"); `EXECUTING`
 * while at least one call is in flight; `SHUTDOWN` is terminal.
 */
export type HandlerLifecycleState = 'CREATED' | 'INITIALIZED' | 'HEALTHY' | 'EXECUTING' | 'SHUTDOWN';

/** A handler's circuit breaker state. */
export type HandlerCircuitState = CircuitState;

/**
 * The seam to the circuit breakers of the resilience wrapper: what state each handler's
 * breaker is in, `undefined` when the handler has none. An `open` breaker makes a required
 * handler count against readiness.
 */
export interface HandlerCircuitView {
  stateOf(handlerType: string): HandlerCircuitState | undefined;
}

/** No circuit breakers: every handler reports `circuit: null`. */
export const NO_CIRCUITS: HandlerCircuitView = Object.freeze({ stateOf: () => undefined });

/** One handler on `GET /health/handlers` (snake_case JSON, times as ISO-8601). */
export interface HandlerStatus {
  readonly handler_type: string;
  /** Whether an unhealthy state of this handler takes the host out of readiness. */
  readonly required: boolean;
  readonly lifecycle_state: HandlerLifecycleState;
  /** The last health check's verdict; null before the first. */
  readonly healthy: boolean | null;
  readonly last_health_check_at: string | null;
  /** Why the last health check failed. */
  readonly health_error?: string;
  readonly circuit: HandlerCircuitState | null;
  readonly in_flight: number;
  readonly last_error: { readonly code: string; readonly at: string } | null;
}

interface Entry {
  readonly handlerType: string;
  readonly required: boolean;
  state: 'CREATED' | 'INITIALIZED' | 'HEALTHY' | 'SHUTDOWN';
  inFlight: number;
  healthy: boolean | undefined;
  healthError: string | undefined;
  checkedAt: number | undefined;
  lastError: { code: string; at: number } | undefined;
}

export interface HandlerLifecycleOptions {
  /** Handler types in contract order, each with whether it is required for readiness. */
  readonly handlers: readonly { readonly type: string; readonly required?: boolean | undefined }[];
  readonly scheduler: Scheduler;
  readonly tracing: EnvelopeTracing;
  /** @default NO_CIRCUITS */
  readonly circuits?: HandlerCircuitView;
}

export class HandlerLifecycle {
  readonly #entries = new Map<string, Entry>();
  readonly #scheduler: Scheduler;
  readonly #tracing: EnvelopeTracing;
  readonly #circuits: HandlerCircuitView;

  constructor(options: HandlerLifecycleOptions) {
    this.#scheduler = options.scheduler;
    this.#tracing = options.tracing;
    this.#circuits = options.circuits ?? NO_CIRCUITS;
    for (const h of options.handlers) {
      this.#entries.set(h.type, { handlerType: h.type, required: h.required ?? true, state: 'CREATED', inFlight: 0, healthy: undefined, healthError: undefined, checkedAt: undefined, lastError: undefined });
    }
  }

  /** Every handler was initialized (wiring initializes all or none). */
  initialized(): void {
    for (const e of this.#entries.values()) if (e.state === 'CREATED') e.state = 'INITIALIZED';
  }

  /** Every handler is shut down (or never started): terminal. */
  shutdown(): void {
    for (const e of this.#entries.values()) e.state = 'SHUTDOWN';
  }

  /** Records a health check result: INITIALIZED ⇄ HEALTHY. */
  recordHealth(handlerType: string, healthy: boolean, error: string | undefined): void {
    const e = this.#entries.get(handlerType);
    if (e === undefined || e.state === 'SHUTDOWN' || e.state === 'CREATED') return;
    e.healthy = healthy;
    e.healthError = healthy ? undefined : error;
    e.checkedAt = this.#scheduler.now();
    e.state = healthy ? 'HEALTHY' : 'INITIALIZED';
  }

  /**
   * Wraps a handler so each call is counted in flight, traced as a CLIENT span, and its
   * failure recorded as the handler's last error. The handler itself is not changed.
   */
  observe(handler: EnvelopeHandler): EnvelopeHandler {
    const handlerType = handler.handlerType;
    const entry = this.#entries.get(handlerType);
    if (entry === undefined) return handler;
    return {
      handlerType,
      execute: async (envelope: OnexEnvelope, context: HandlerInvocationContext): Promise<JsonValue> => {
        entry.inFlight += 1;
        try {
          return await this.#tracing.handlerCall(handlerType, envelope, context.nodeSlug, () => handler.execute(envelope, context));
        } catch (error) {
          entry.lastError = { code: errorFacts(error).code, at: this.#scheduler.now() };
          throw error;
        } finally {
          entry.inFlight -= 1;
        }
      },
    };
  }

  /**
   * Why the host is not ready because of a handler, or undefined: a required handler whose
   * last health check failed, or whose breaker is open. A handler not checked yet counts as
   * healthy (it initialized at start, and its first check is on its way).
   */
  notReadyReason(): string | undefined {
    for (const e of this.#entries.values()) {
      if (!e.required) continue;
      if (e.healthy === false) return `required handler "${e.handlerType}" failed its last health check${e.healthError === undefined ? '' : `: ${e.healthError}`}`;
      if (this.#circuits.stateOf(e.handlerType) === 'open') return `the circuit breaker of required handler "${e.handlerType}" is open`;
    }
    return undefined;
  }

  /** One status per handler, in contract order. */
  statuses(): HandlerStatus[] {
    return [...this.#entries.values()].map((e) => {
      const status: HandlerStatus = {
        handler_type: e.handlerType,
        required: e.required,
        lifecycle_state: e.state !== 'SHUTDOWN' && e.state !== 'CREATED' && e.inFlight > 0 ? 'EXECUTING' : e.state,
        healthy: e.healthy ?? null,
        last_health_check_at: e.checkedAt === undefined ? null : new Date(e.checkedAt).toISOString(),
        ...(e.healthError === undefined ? {} : { health_error: e.healthError }),
        circuit: this.#circuits.stateOf(e.handlerType) ?? null,
        in_flight: e.inFlight,
        last_error: e.lastError === undefined ? null : { code: e.lastError.code, at: new Date(e.lastError.at).toISOString() },
      };
      return status;
    });
  }
}
