import type { OnexEnvelope } from '@onex/core';
import { systemScheduler, type Scheduler, type TimerHandle } from './scheduler.js';

interface Waiter {
  readonly resolve: (response: OnexEnvelope | undefined) => void;
  readonly timer: TimerHandle;
}

/**
 * Requests waiting for their response, keyed by a key the host owns: the ticket id it gives
 * each ingress request, never an id the client chose. Two clients may send the same
 * `envelope_id` at once; keyed by that id, each could be handed the other's answer. Several
 * waiters may share a key (a client resending while its first attempt still runs joins it),
 * and all of them get the answer.
 */
export class ResponseWaiters {
  readonly #waiters = new Map<string, Waiter[]>();
  readonly #scheduler: Scheduler;

  constructor(scheduler: Scheduler = systemScheduler) {
    this.#scheduler = scheduler;
  }

  get size(): number {
    let n = 0;
    for (const list of this.#waiters.values()) n += list.length;
    return n;
  }

  /** Resolves with the response, or `undefined` after `timeoutMs` or on `cancel`. */
  wait(key: string, timeoutMs: number): Promise<OnexEnvelope | undefined> {
    return new Promise((resolve) => {
      const waiter: Waiter = {
        resolve,
        timer: this.#scheduler.setTimeout(() => {
          this.#remove(key, waiter);
          resolve(undefined);
        }, timeoutMs),
      };
      const list = this.#waiters.get(key);
      if (list) list.push(waiter);
      else this.#waiters.set(key, [waiter]);
    });
  }

  /** Hands `response` to every waiter of `key`; false when nobody waits for it. */
  deliver(key: string, response: OnexEnvelope): boolean {
    const list = this.#waiters.get(key);
    if (!list) return false;
    this.#waiters.delete(key);
    for (const w of list) {
      w.timer.cancel();
      w.resolve(response);
    }
    return true;
  }

  /** Keys still waited for. */
  pendingIds(): string[] {
    return [...this.#waiters.keys()];
  }

  /** Ends every wait for one key without a response. */
  cancel(key: string): void {
    const list = this.#waiters.get(key);
    if (!list) return;
    this.#waiters.delete(key);
    for (const w of list) {
      w.timer.cancel();
      w.resolve(undefined);
    }
  }

  #remove(key: string, waiter: Waiter): void {
    const list = this.#waiters.get(key);
    if (!list) return;
    const rest = list.filter((w) => w !== waiter);
    if (rest.length === 0) this.#waiters.delete(key);
    else this.#waiters.set(key, rest);
  }
}
