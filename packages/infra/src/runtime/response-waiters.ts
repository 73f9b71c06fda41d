import type { OnexEnvelope } from '@onex/core';

interface Waiter {
  readonly resolve: (response: OnexEnvelope | undefined) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * Requests waiting for their response, keyed by the request's envelope id (a
 * response's `causation_id`). Keyed by envelope id rather than correlation id because
 * many requests may share one correlation id; several waiters may share an envelope id
 * (a client resending while the first attempt still waits), and all of them get the answer.
 */
export class ResponseWaiters {
  readonly #waiters = new Map<string, Waiter[]>();

  get size(): number {
    let n = 0;
    for (const list of this.#waiters.values()) n += list.length;
    return n;
  }

  /** Resolves with the response, or `undefined` after `timeoutMs` or on `cancel`. */
  wait(requestEnvelopeId: string, timeoutMs: number): Promise<OnexEnvelope | undefined> {
    return new Promise((resolve) => {
      const waiter: Waiter = {
        resolve,
        timer: setTimeout(() => {
          this.#remove(requestEnvelopeId, waiter);
          resolve(undefined);
        }, timeoutMs),
      };
      const list = this.#waiters.get(requestEnvelopeId);
      if (list) list.push(waiter);
      else this.#waiters.set(requestEnvelopeId, [waiter]);
    });
  }

  /** Hands a response to every waiter of its request; false when nobody waits for it. */
  deliver(response: OnexEnvelope): boolean {
    if (response.causationId === undefined) return false;
    const list = this.#waiters.get(response.causationId);
    if (!list) return false;
    this.#waiters.delete(response.causationId);
    for (const w of list) {
      clearTimeout(w.timer);
      w.resolve(response);
    }
    return true;
  }

  /** Ids of the requests still waiting. */
  pendingIds(): string[] {
    return [...this.#waiters.keys()];
  }

  /** Ends every wait for one request without a response. */
  cancel(requestEnvelopeId: string): void {
    const list = this.#waiters.get(requestEnvelopeId);
    if (!list) return;
    this.#waiters.delete(requestEnvelopeId);
    for (const w of list) {
      clearTimeout(w.timer);
      w.resolve(undefined);
    }
  }

  #remove(id: string, waiter: Waiter): void {
    const list = this.#waiters.get(id);
    if (!list) return;
    const rest = list.filter((w) => w !== waiter);
    if (rest.length === 0) this.#waiters.delete(id);
    else this.#waiters.set(id, rest);
  }
}
