/**
 * Caps how many envelopes are processed at once. `acquire` resolves when a slot is
 * free; callers wait in FIFO order, which keeps per-topic order of *starts*.
 */
export class ConcurrencyLimiter {
  readonly limit: number;
  #active = 0;
  #peak = 0;
  #waiters: Array<{ readonly grant: () => void; readonly reject: (reason: unknown) => void }> = [];
  #idleWaiters: Array<() => void> = [];

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer (got ${limit})`);
    this.limit = limit;
  }

  get active(): number {
    return this.#active;
  }

  /** Highest number of slots ever held at once. */
  get peak(): number {
    return this.#peak;
  }

  /** Takes a slot if one is free right now, without a promise. */
  tryAcquire(): boolean {
    if (this.#active >= this.limit) return false;
    this.#take();
    return true;
  }

  /**
   * Resolves once a slot is held. With `signal`, a caller still waiting when it aborts
   * leaves the queue and is rejected with the abort reason: it never gets the slot, so work
   * whose caller gave up cannot start later.
   */
  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason as unknown);
    if (this.#active < this.limit) {
      this.#take();
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(signal?.reason as unknown);
      };
      const waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          this.#take();
          resolve();
        },
        reject: (reason: unknown) => {
          signal?.removeEventListener('abort', onAbort);
          reject(reason);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  release(): void {
    this.#active -= 1;
    const next = this.#waiters.shift();
    if (next) next.grant();
    else if (this.#active === 0) for (const w of this.#idleWaiters.splice(0)) w();
  }

  /**
   * Rejects every caller still waiting for a slot with `reason`; they never get one.
   * For a drain that gives up: a caller blocked forever would keep the bus from closing.
   */
  cancelWaiters(reason: unknown): void {
    for (const w of this.#waiters.splice(0)) w.reject(reason);
    if (this.#active === 0) for (const w of this.#idleWaiters.splice(0)) w();
  }

  /** Resolves once no slot is held (immediately if none is). */
  whenIdle(): Promise<void> {
    if (this.#active === 0 && this.#waiters.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #take(): void {
    this.#active += 1;
    if (this.#active > this.#peak) this.#peak = this.#active;
  }
}
