/**
 * The `timeout_ms` timers of one handler binding on a single scheduler timer.
 *
 * Every call of a binding gets the same `timeout_ms`, so calls reach their end in the
 * order they started: a FIFO list, sorted by construction, with one timer armed for its
 * head, replaces a timer per call. A call that finishes unlinks itself (O(1)) without
 * touching the timer; when the timer fires it times out every entry that is due and arms
 * itself for the new head. Under steady load the timer fires about once per `timeout_ms`
 * instead of being created and cleared per call (which, with the rest of a per-call timer's
 * bookkeeping, was a tenth of the policy stack's cost on a no-op round trip;
 * docs/benchmarks.md, "Policy and observability stack").
 *
 * An entry that would break the order (the clock stepped back) gets a timer of its own, so
 * no entry is ever late behind a later one.
 */
import type { Scheduler, TimerHandle } from '../runtime/scheduler.js';

class Entry implements TimerHandle {
  prev: Entry | undefined;
  next: Entry | undefined;
  linked = true;

  constructor(
    readonly endAt: number,
    readonly onTimeout: () => void,
    readonly queue: TimeoutQueue,
  ) {}

  cancel(): void {
    if (this.linked) this.queue.unlink(this);
  }
}

export class TimeoutQueue {
  readonly #scheduler: Scheduler;
  #head: Entry | undefined;
  #tail: Entry | undefined;
  #timer: TimerHandle | undefined;
  /** When the armed timer fires. */
  #armedFor = Number.POSITIVE_INFINITY;

  constructor(scheduler: Scheduler) {
    this.#scheduler = scheduler;
  }

  /** Runs `onTimeout` at `endAt` (epoch ms, on the scheduler's clock) unless cancelled first. */
  add(endAt: number, onTimeout: () => void): TimerHandle {
    const tail = this.#tail;
    if (tail !== undefined && endAt < tail.endAt) return this.#scheduler.setTimeout(onTimeout, endAt - this.#scheduler.now());
    const entry = new Entry(endAt, onTimeout, this);
    entry.prev = tail;
    if (tail === undefined) this.#head = entry;
    else tail.next = entry;
    this.#tail = entry;
    // Usually armed already, for an earlier end. An entry that became the head of an empty
    // list after the clock stepped back may end before the armed time: re-arm for it.
    if (this.#timer === undefined || endAt < this.#armedFor) {
      this.#timer?.cancel();
      this.#arm(this.#scheduler.now());
    }
    return entry;
  }

  /** @internal Removes an entry; its timeout will not run. */
  unlink(entry: Entry): void {
    entry.linked = false;
    if (entry.prev === undefined) this.#head = entry.next;
    else entry.prev.next = entry.next;
    if (entry.next === undefined) this.#tail = entry.prev;
    else entry.next.prev = entry.prev;
    entry.prev = undefined;
    entry.next = undefined;
    // The timer stays armed even when the list empties: cancelling and re-arming it per call
    // is the cost this queue exists to avoid. Firing on an empty list does nothing.
  }

  #arm(now: number): void {
    const head = this.#head;
    this.#timer = undefined;
    this.#armedFor = Number.POSITIVE_INFINITY;
    if (head === undefined) return;
    this.#armedFor = head.endAt;
    this.#timer = this.#scheduler.setTimeout(this.#fire, Math.max(0, head.endAt - now));
  }

  readonly #fire = (): void => {
    const now = this.#scheduler.now();
    try {
      for (let head = this.#head; head !== undefined && head.endAt <= now; head = this.#head) {
        this.unlink(head);
        head.onTimeout();
      }
    } finally {
      // Also after a throwing callback: the entries still due run on the next turn.
      this.#arm(now);
    }
  };
}
