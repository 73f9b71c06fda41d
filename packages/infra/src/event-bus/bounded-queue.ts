/**
 * A FIFO with a hard capacity. `put` waits while the queue is full instead of growing
 * memory; `take` waits while it is empty. Both waits end with `close()`.
 */
export class BoundedQueue<T> {
  readonly capacity: number;
  #items: T[] = [];
  #head = 0;
  #takers: Array<(item: T | undefined) => void> = [];
  #putters: Array<{ item: T; resolve: () => void; reject: (e: unknown) => void }> = [];
  #closed = false;
  #closeReason: () => unknown = () => new Error('queue closed');

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer (got ${capacity})`);
    this.capacity = capacity;
  }

  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Number of publishers waiting for room. */
  get waitingPutters(): number {
    return this.#putters.length;
  }

  get closed(): boolean {
    return this.#closed;
  }

  put(item: T): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closeReason());
    const taker = this.#takers.shift();
    if (taker) {
      taker(item);
      return Promise.resolve();
    }
    if (this.size < this.capacity) {
      this.#items.push(item);
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => this.#putters.push({ item, resolve, reject }));
  }

  /**
   * Enqueues without waiting: true when the item was accepted now, false when the
   * queue is full or closed (then use `put` to wait). Saves a promise per message on
   * the hot path.
   */
  offer(item: T): boolean {
    if (this.#closed) return false;
    const taker = this.#takers.shift();
    if (taker) {
      taker(item);
      return true;
    }
    if (this.size < this.capacity && this.#putters.length === 0) {
      this.#items.push(item);
      return true;
    }
    return false;
  }

  /** The next item if one is queued, without waiting. */
  poll(): T | undefined {
    return this.size > 0 ? this.#shift() : undefined;
  }

  /** The next item, or `undefined` once the queue is closed and empty. */
  take(): Promise<T | undefined> {
    if (this.size > 0) return Promise.resolve(this.#shift());
    if (this.#closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#takers.push(resolve));
  }

  /** Removes and returns everything queued (waiting putters included), in order. */
  drainAll(): T[] {
    const out = this.#items.slice(this.#head);
    this.#items = [];
    this.#head = 0;
    for (const p of this.#putters.splice(0)) {
      out.push(p.item);
      p.resolve();
    }
    return out;
  }

  /** Removes and returns the queued items only; waiting putters keep waiting (or fail on `close`). */
  clearQueued(): T[] {
    const out = this.#items.slice(this.#head);
    this.#items = [];
    this.#head = 0;
    return out;
  }

  /** Refuses new items, wakes waiting takers with `undefined` and fails waiting putters. */
  close(reason?: () => unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    if (reason) this.#closeReason = reason;
    for (const t of this.#takers.splice(0)) t(undefined);
    for (const p of this.#putters.splice(0)) p.reject(this.#closeReason());
  }

  #shift(): T {
    const item = this.#items[this.#head] as T;
    this.#head += 1;
    // Compact now and then so a long-lived queue does not keep a growing dead prefix.
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    const putter = this.#putters.shift();
    if (putter) {
      this.#items.push(putter.item);
      putter.resolve();
    }
    return item;
  }
}
