import type { CircuitState } from './circuit-breaker.js';

/**
 * What the policy stack reports, for metrics and health to subscribe to. Every label is
 * bounded (handler type, operation, state names, attempt numbers): no ids. Methods are
 * called synchronously on the hot path, so implementations must be cheap and must not throw.
 * Spread {@link NOOP_RESILIENCE_OBSERVER} to implement only some of them.
 */
export interface ResilienceObserver {
  /** An attempt of an envelope starts (1 = first try), by the host's retry loop. */
  attempt(handlerType: string, operation: string, attempt: number): void;
  /** A retryable failure will be retried after `delayMs`. */
  retryScheduled(handlerType: string, operation: string, attempt: number, delayMs: number): void;
  /** A call waits `waitMs` for a rate-limit token. */
  rateLimitWait(handlerType: string, waitMs: number): void;
  /** A call was refused by the rate limit (no token within its budget). */
  rateLimited(handlerType: string): void;
  /** A handler's breaker changed state (also logged). */
  circuitStateChanged(handlerType: string, from: CircuitState, to: CircuitState): void;
  /** A call failed fast because the breaker is open (or its trial places are taken). */
  circuitRejected(handlerType: string): void;
  /** A call was refused because the handler's bulkhead and its queue are full. */
  bulkheadRejected(handlerType: string): void;
  /** A call ran out of its `timeout_ms` and was cancelled. */
  timedOut(handlerType: string, operation: string): void;
  /** An envelope was refused or cancelled because its deadline passed. */
  expired(handlerType: string, operation: string): void;
}

const noop = (): void => undefined;

/** Observes nothing: the default until metrics or health connect their own. */
export const NOOP_RESILIENCE_OBSERVER: ResilienceObserver = Object.freeze({
  attempt: noop,
  retryScheduled: noop,
  rateLimitWait: noop,
  rateLimited: noop,
  circuitStateChanged: noop,
  circuitRejected: noop,
  bulkheadRejected: noop,
  timedOut: noop,
  expired: noop,
});
