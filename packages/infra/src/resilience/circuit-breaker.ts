import type { CircuitBreakerPolicy } from '@onex/core';
import type { Scheduler } from '../runtime/scheduler.js';

/** `closed`: calls go through. `open`: calls fail fast. `half_open`: a few trial calls go through. */
export type CircuitState = 'closed' | 'open' | 'half_open';

/** What `tryAcquire` answers: go ahead (as a trial call when half-open), or fail fast for `retryAfterMs`. */
export type CircuitPermit = { readonly admitted: true; readonly trial: number } | { readonly admitted: false; readonly retryAfterMs: number };

/** How a finished call counts: `failure` only for transport-class failures of the dependency. */
export type CallOutcome = 'success' | 'failure' | 'ignored';

/**
 * A consecutive-failures circuit breaker on the injected clock. Opens after `threshold`
 * consecutive failures; after `resetTimeoutMs` the next calls find it half-open and up to
 * `halfOpenMaxCalls` are admitted at once as trials; `halfOpenSuccesses` successful trials
 * close it, and one failed trial opens it again for another `resetTimeoutMs`. An `ignored`
 * outcome (the caller gave up) changes nothing but frees its trial place.
 */
export class CircuitBreaker {
  readonly #policy: CircuitBreakerPolicy;
  readonly #scheduler: Scheduler;
  readonly #onChange: (from: CircuitState, to: CircuitState) => void;
  #state: CircuitState = 'closed';
  #failures = 0;
  #openedAt = 0;
  #trialsInFlight = 0;
  #trialSuccesses = 0;
  /** Numbers each half-open period, so a trial that outlives its period is not counted in the next. */
  #period = 0;

  constructor(policy: CircuitBreakerPolicy, scheduler: Scheduler, onChange: (from: CircuitState, to: CircuitState) => void) {
    this.#policy = policy;
    this.#scheduler = scheduler;
    this.#onChange = onChange;
  }

  /** The state now: an open breaker whose reset timeout has passed reads as half-open. */
  get state(): CircuitState {
    if (this.#state === 'open' && this.#scheduler.now() - this.#openedAt >= this.#policy.resetTimeoutMs) this.#move('half_open');
    return this.#state;
  }

  tryAcquire(): CircuitPermit {
    const state = this.state;
    if (state === 'closed') return NOT_TRIAL;
    if (state === 'half_open' && this.#trialsInFlight < this.#policy.halfOpenMaxCalls) {
      this.#trialsInFlight += 1;
      return { admitted: true, trial: this.#period };
    }
    // Half-open with every trial place taken: wait for the trials' verdict, at least briefly.
    const retryAfterMs = state === 'open' ? Math.max(1, this.#openedAt + this.#policy.resetTimeoutMs - this.#scheduler.now()) : 1000;
    return { admitted: false, retryAfterMs };
  }

  /** Counts a finished call; `trial` is its permit's (0 for an ordinary call). */
  record(trial: number, outcome: CallOutcome): void {
    const current = trial !== 0 && trial === this.#period && this.#state === 'half_open';
    if (current) this.#trialsInFlight -= 1;
    if (outcome === 'ignored') return;
    if (outcome === 'success') {
      this.#failures = 0;
      if (current) {
        this.#trialSuccesses += 1;
        if (this.#trialSuccesses >= this.#policy.halfOpenSuccesses) this.#move('closed');
      }
      return;
    }
    if (current) {
      this.#open();
      return;
    }
    if (this.#state !== 'closed') return;
    this.#failures += 1;
    if (this.#failures >= this.#policy.threshold) this.#open();
  }

  #open(): void {
    this.#openedAt = this.#scheduler.now();
    this.#move('open');
  }

  #move(to: CircuitState): void {
    const from = this.#state;
    if (from === to) return;
    this.#state = to;
    this.#failures = 0;
    this.#trialSuccesses = 0;
    this.#trialsInFlight = 0;
    if (to === 'half_open') this.#period += 1;
    this.#onChange(from, to);
  }
}

const NOT_TRIAL: CircuitPermit = Object.freeze({ admitted: true, trial: 0 });
