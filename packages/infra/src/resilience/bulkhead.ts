import type { BulkheadPolicy } from '@onex/core';

/**
 * A concurrency limit for one handler: `maxConcurrent` calls run, `maxQueue` more wait in
 * arrival order, and the rest are refused at once. Refusing (rather than queueing without
 * bound) is what keeps a slow dependency from holding every host slot: its surplus
 * envelopes are answered and free their slots for envelopes of other handlers.
 */
export class Bulkhead {
  readonly maxConcurrent: number;
  readonly maxQueue: number;
  #active = 0;
  #queue: Array<{ readonly grant: () => void }> = [];

  constructor(policy: BulkheadPolicy) {
    this.maxConcurrent = policy.maxConcurrent;
    this.maxQueue = policy.maxQueue;
  }

  get active(): number {
    return this.#active;
  }

  get queued(): number {
    return this.#queue.length;
  }

  /** Takes a free place now (release it with {@link release}); `false` when none is free, whatever the queue. */
  tryAcquire(): boolean {
    if (this.#active >= this.maxConcurrent) return false;
    this.#active += 1;
    return true;
  }

  /**
   * `true` once a place is held (release it with {@link release}); `false` when the
   * bulkhead and its queue are full. A waiter whose `signal` aborts leaves the queue and the
   * promise rejects with the abort reason.
   */
  acquire(signal: AbortSignal): Promise<boolean> {
    if (this.#active < this.maxConcurrent) {
      this.#active += 1;
      return TRUE;
    }
    if (this.#queue.length >= this.maxQueue) return FALSE;
    if (signal.aborted) return Promise.reject(signal.reason as unknown);
    return new Promise((resolve, reject) => {
      const waiter = {
        grant: () => {
          signal.removeEventListener('abort', onAbort);
          this.#active += 1;
          resolve(true);
        },
      };
      const onAbort = (): void => {
        this.#queue = this.#queue.filter((w) => w !== waiter);
        reject(signal.reason as unknown);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#queue.push(waiter);
    });
  }

  release(): void {
    this.#active -= 1;
    this.#queue.shift()?.grant();
  }
}

const TRUE = Promise.resolve(true);
const FALSE = Promise.resolve(false);
