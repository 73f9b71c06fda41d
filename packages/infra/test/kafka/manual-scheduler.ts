/**
 * A Scheduler whose clock moves only when a test calls `advance(ms)`: commit ticks, broker
 * probes, retry back-offs and drain bounds run exactly when the test says, without patching
 * the global timers.
 */
import type { Scheduler, TimerHandle } from '../../src/runtime/scheduler.js';

interface Timer {
  readonly seq: number;
  at: number;
  readonly every: number | undefined;
  readonly fn: () => void;
}

/** Lets every queued promise continuation run (a few macrotask turns, so chains finish too). */
export async function flush(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i += 1) await new Promise((resolve) => setImmediate(resolve));
}

export class ManualScheduler implements Scheduler {
  #now: number;
  #seq = 0;
  #timers: Timer[] = [];

  constructor(startMs = Date.UTC(2026, 0, 15, 9, 30, 0)) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.#add(fn, ms, undefined);
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    if (!(ms > 0)) throw new Error(`ManualScheduler.setInterval: interval must be positive, got ${ms}`);
    return this.#add(fn, ms, ms);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = this.setTimeout(resolve, ms);
      signal?.addEventListener(
        'abort',
        () => {
          timer.cancel();
          resolve();
        },
        { once: true },
      );
    });
  }

  random(): number {
    return 0.5;
  }

  /** Sets the clock back by `ms` without firing anything (a wall clock stepped by NTP). */
  stepBack(ms: number): void {
    this.#now -= ms;
  }

  /** Timers not yet fired or cancelled. */
  get pending(): number {
    return this.#timers.length;
  }

  /**
   * Moves the clock forward by `ms`, firing each due timer at its own time (earliest first,
   * in creation order on ties) and letting the work it started run before the next one.
   */
  async advance(ms: number): Promise<void> {
    // Work already under way happens now, before the clock moves (it may set timers of its own).
    await flush();
    const end = this.#now + ms;
    for (;;) {
      const due = this.#timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (due === undefined) break;
      this.#now = due.at;
      if (due.every === undefined) this.#timers = this.#timers.filter((t) => t !== due);
      else due.at += due.every;
      due.fn();
      await flush();
    }
    this.#now = end;
    await flush();
  }

  #add(fn: () => void, ms: number, every: number | undefined): TimerHandle {
    const timer: Timer = { seq: (this.#seq += 1), at: this.#now + Math.max(0, ms), every, fn };
    this.#timers.push(timer);
    return {
      cancel: () => {
        this.#timers = this.#timers.filter((t) => t !== timer);
      },
    };
  }
}
