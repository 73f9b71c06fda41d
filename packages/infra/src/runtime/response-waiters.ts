import type { OnexEnvelope } from '@onex/core';

interface Waiter {
  readonly resolve: (response: OnexEnvelope | undefined) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * Requests waiting for their response, keyed by the request's envelope id (a
 * response's `causation_id`). Keyed by envelope id rather than correlation id because
 * many requests may share one correlation id.
 */
export class ResponseWaiters {
  readonly #waiters = new Map<string, Waiter>();

  get size(): number {
    return this.#waiters.size;
  }

  /** Resolves with the response, or `undefined` after `timeoutMs` or on `rejectAll`. */
  wait(requestEnvelopeId: string, timeoutMs: number): Promise<OnexEnvelope | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(requestEnvelopeId);
        resolve(undefined);
      }, timeoutMs);
      this.#waiters.set(requestEnvelopeId, { resolve, timer });
    });
  }

  /** Hands a response to its waiter; false when nobody waits for it. */
  deliver(response: OnexEnvelope): boolean {
    if (response.causationId === undefined) return false;
    const waiter = this.#waiters.get(response.causationId);
    if (!waiter) return false;
    this.#waiters.delete(response.causationId);
    clearTimeout(waiter.timer);
    waiter.resolve(response);
    return true;
  }

  /** Ids of the requests still waiting. */
  pendingIds(): string[] {
    return [...this.#waiters.keys()];
  }

  /** Ends one wait without a response. */
  cancel(requestEnvelopeId: string): void {
    const waiter = this.#waiters.get(requestEnvelopeId);
    if (!waiter) return;
    this.#waiters.delete(requestEnvelopeId);
    clearTimeout(waiter.timer);
    waiter.resolve(undefined);
  }
}
