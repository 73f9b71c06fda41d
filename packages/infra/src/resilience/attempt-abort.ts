/**
 * The abort of one handler attempt, with its AbortController made only when someone asks
 * for the signal. On Node 20 an AbortController costs more than the rest of the policy
 * stack together (its construction and the EventTarget listeners showed as ≈ 30 % of the
 * CPU of a no-op round trip; docs/benchmarks.md, "Policy and observability stack"), and
 * most calls finish without a handler ever reading `context.signal`. Whoever reads it gets
 * a signal that is already aborted if the attempt was, with the same reason.
 */
export class AttemptAbort {
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown;
  #onAbort: ((reason: unknown) => void) | undefined;

  get aborted(): boolean {
    return this.#aborted;
  }

  /** Why it aborted (undefined until it has). */
  get reason(): unknown {
    return this.#reason;
  }

  /** The attempt's signal, created on first read. */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** Aborts once; later calls do nothing. */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
    this.#onAbort?.(reason);
  }

  /** `promise`, or the abort reason as soon as the attempt aborts (a handler that ignores its signal cannot hold the caller). One race per attempt. */
  race<T>(promise: Promise<T>): Promise<T> {
    if (this.#aborted) {
      promise.catch(() => undefined);
      return Promise.reject(this.#reason);
    }
    return new Promise<T>((resolve, reject) => {
      this.#onAbort = reject;
      promise.then(resolve, reject);
    });
  }
}
