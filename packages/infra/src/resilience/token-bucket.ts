import type { RateLimit } from '@onex/core';
import type { Scheduler } from '../runtime/scheduler.js';

/**
 * A token bucket that hands out reservations: a caller that will wait takes its token now
 * (the balance may go below zero) and learns how long to wait, so waiters are served in
 * arrival order and each sleeps once. `burst` tokens at most; `perSecond` added per second.
 */
export class TokenBucket {
  readonly #perMs: number;
  readonly #burst: number;
  readonly #scheduler: Scheduler;
  #tokens: number;
  #last: number;

  constructor(limit: RateLimit, scheduler: Scheduler) {
    this.#perMs = limit.perSecond / 1000;
    this.#burst = limit.burst;
    this.#scheduler = scheduler;
    this.#tokens = limit.burst;
    this.#last = scheduler.now();
  }

  /**
   * Reserves a token if it is due within `maxWaitMs`: `{ waitMs }` (0 = now). Otherwise
   * nothing is reserved and `{ retryAfterMs }` says when a token would be free. `now` is the
   * scheduler's time, for a caller that has just read it (a clock read per call shows on a
   * no-op round trip).
   */
  reserve(maxWaitMs: number, now = this.#scheduler.now()): { readonly waitMs: number } | { readonly retryAfterMs: number } {
    this.#refill(now);
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return NOW;
    }
    const waitMs = Math.ceil((1 - this.#tokens) / this.#perMs);
    if (waitMs > maxWaitMs) return { retryAfterMs: waitMs };
    this.#tokens -= 1;
    return { waitMs };
  }

  /** Gives back a reservation whose caller stopped waiting (cancelled), so the next one is not delayed for it. */
  refund(): void {
    this.#refill();
    this.#tokens = Math.min(this.#burst, this.#tokens + 1);
  }

  /** Whole tokens available now (for tests and health). */
  get available(): number {
    this.#refill();
    return Math.max(0, Math.floor(this.#tokens));
  }

  #refill(now = this.#scheduler.now()): void {
    const elapsed = now - this.#last;
    if (elapsed > 0) {
      this.#tokens = Math.min(this.#burst, this.#tokens + elapsed * this.#perMs);
      this.#last = now;
    }
  }
}

const NOW = Object.freeze({ waitMs: 0 });
