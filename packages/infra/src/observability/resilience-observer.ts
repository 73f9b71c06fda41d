/**
 * The seam between the resilience policies wrapped around each handler (rate limit, circuit
 * breaker, bulkhead, timeout) and whoever counts what they do. The policies report events;
 * they never import prom-client. The host hands its metrics' observer to the wrapper; the
 * default observer drops everything, so a wrapper built without one costs nothing.
 *
 * Every method is called on the hot path, synchronously, and must not throw. Arguments are
 * plain values (no event objects) so that reporting allocates nothing; every label they
 * become is bounded (a handler type is one of the host's registered types).
 */

/** A circuit breaker's state, as exported in `onex_circuit_state{state}`. */
export type CircuitState = 'closed' | 'open' | 'half_open';
export const CIRCUIT_STATES: readonly CircuitState[] = ['closed', 'open', 'half_open'];

/** Why a rate-limited call stopped waiting: it got a token, or its deadline came first. */
export type RateLimitOutcome = 'admitted' | 'rejected';

export interface ResilienceObserver {
  /**
   * A circuit breaker of `handlerType` changed state (also called once at wiring with
   * `from === to === 'closed'`, so the state is exported before the first change).
   */
  circuitStateChanged(handlerType: string, from: CircuitState, to: CircuitState): void;
  /** A call waited `waitedMs` for a rate-limit token (0 when one was free is not reported). */
  rateLimitWait(handlerType: string, waitedMs: number, outcome: RateLimitOutcome): void;
  /** A call was refused because the handler's bulkhead (its concurrency limit and queue) was full. */
  bulkheadRejected(handlerType: string): void;
  /** A call was cut off by its `timeout_ms` or by the envelope's deadline. */
  timedOut(handlerType: string, reason: 'timeout' | 'deadline'): void;
  /** A call failed fast because the handler's circuit is open. */
  circuitRejected(handlerType: string): void;
}

/** Drops every event: the default when metrics are off or nothing is connected. */
export const NOOP_RESILIENCE_OBSERVER: ResilienceObserver = Object.freeze({
  circuitStateChanged: () => undefined,
  rateLimitWait: () => undefined,
  bulkheadRejected: () => undefined,
  timedOut: () => undefined,
  circuitRejected: () => undefined,
});
