/**
 * The policy stack the host puts around every handler, from its binding's policies,
 * without touching handler code. One order, outside in:
 *
 * 1. **Deadline check.** An envelope whose deadline has passed is refused with EXPIRED
 *    before it costs anything. The attempt's budget starts here: `timeout_ms`, or the
 *    deadline when that is sooner; every wait below spends from it.
 * 2. **Bulkhead** (per handler). Outermost of the limits because it is the one that
 *    protects the host: a call refused here frees its host slot at once, so a slow
 *    dependency holds at most `max_concurrent + max_queue` of `max_in_flight` and cannot
 *    starve envelopes bound for other handlers.
 * 3. **Rate limit** (token bucket per handler instance). Inside the bulkhead so that the
 *    calls waiting for a token are bounded too. A token due within the budget is waited
 *    for; otherwise the call fails at once with INFRA_RATE_LIMITED and `retry_after_ms`
 *    (waiting for a token that comes too late would only hold a slot).
 * 4. **Circuit breaker.** After the waits, so that a call is admitted (and counted as a
 *    half-open trial) only when it is really about to run. Open: fails fast with
 *    INFRA_UNAVAILABLE and `retry_after_seconds`. Counts only transport-class failures
 *    (connection, timeout, unavailable); an answer from the dependency, even a 4xx or a
 *    constraint violation, counts as a success, and a call its caller gave up on counts
 *    as nothing.
 * 5. **Timeout.** The handler gets a signal that aborts at the end of the budget
 *    (INFRA_TIMEOUT, or EXPIRED at the deadline) or when the caller's own signal aborts;
 *    the handlers cancel the HTTP request or the SQL statement on it. The call is also
 *    raced against the signal, so a handler that ignored it cannot hold the caller.
 *
 * Retries are not here: the host's retry loop is the one retry mechanism, around this
 * whole stack, so each retry passes every policy again (and counts in the breaker).
 * Failures made by this stack itself (bulkhead full, no token in time, circuit open)
 * carry `details.policy`; the host does not retry those, the caller decides.
 */
import {
  envelopeDeadlineMs,
  expiredError,
  InfraConnectionError,
  InfraRateLimitedError,
  InfraTimeoutError,
  InfraUnavailableError,
  isOnexError,
  TRANSPORT_TYPES,
  type EnvelopeHandler,
  type HandlerInvocationContext,
  type HandlerPolicies,
  type HandlerType,
  type JsonValue,
  type OnexEnvelope,
  type TransportType,
} from '@onex/core';
import type { Logger } from '../logging/logger.js';
import type { Scheduler, TimerHandle } from '../runtime/scheduler.js';
import { AttemptAbort } from './attempt-abort.js';
import { Bulkhead } from './bulkhead.js';
import { CircuitBreaker, type CallOutcome, type CircuitPermit, type CircuitState } from './circuit-breaker.js';
import type { ResilienceObserver } from './resilience-observer.js';
import { TimeoutQueue } from './timeout-queue.js';
import { TokenBucket } from './token-bucket.js';

/** Names the policy that refused a call, in the error's `details.policy`. */
export type PolicyName = 'bulkhead' | 'rate_limit' | 'circuit_breaker';

export interface ResilientHandlerOptions {
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  readonly observer: ResilienceObserver;
}

/** A handler inside its binding's policy stack. */
export class ResilientHandler implements EnvelopeHandler {
  readonly handlerType: HandlerType;
  readonly #inner: EnvelopeHandler;
  readonly #timeoutMs: number;
  readonly #scheduler: Scheduler;
  readonly #observer: ResilienceObserver;
  readonly #transport: TransportType;
  readonly #breaker: CircuitBreaker | undefined;
  readonly #bulkhead: Bulkhead | undefined;
  readonly #bucket: TokenBucket | undefined;
  readonly #timeouts: TimeoutQueue;

  constructor(inner: EnvelopeHandler, policies: HandlerPolicies, options: ResilientHandlerOptions) {
    this.handlerType = inner.handlerType;
    this.#inner = inner;
    this.#timeoutMs = policies.timeoutMs;
    this.#scheduler = options.scheduler;
    this.#timeouts = new TimeoutQueue(options.scheduler);
    this.#observer = options.observer;
    this.#transport = (TRANSPORT_TYPES as readonly string[]).includes(inner.handlerType) ? (inner.handlerType as TransportType) : 'runtime';
    const handlerType = inner.handlerType;
    const { logger, observer } = options;
    this.#breaker = policies.circuitBreaker.enabled
      ? new CircuitBreaker(policies.circuitBreaker, options.scheduler, (from, to) => {
          const fields = { handler_type: handlerType, circuit_from: from, circuit_to: to };
          if (to === 'open') logger.warn({ ...fields, reset_timeout_ms: policies.circuitBreaker.resetTimeoutMs }, 'circuit breaker opened: calls fail fast until the reset timeout');
          else logger.info(fields, to === 'closed' ? 'circuit breaker closed' : 'circuit breaker half-open: admitting trial calls');
          observer.circuitStateChanged(handlerType, from, to);
        })
      : undefined;
    // Reported once at wiring, so the state is exported before its first change.
    if (this.#breaker !== undefined) observer.circuitStateChanged(handlerType, 'closed', 'closed');
    this.#bulkhead = policies.bulkhead === undefined ? undefined : new Bulkhead(policies.bulkhead);
    this.#bucket = policies.rateLimit === undefined ? undefined : new TokenBucket(policies.rateLimit, options.scheduler);
  }

  /** The breaker's state now; undefined when this binding turned its breaker off. */
  get circuitState(): CircuitState | undefined {
    return this.#breaker?.state;
  }

  /** Calls in the bulkhead now (running), when the binding has one. */
  get bulkheadActive(): number | undefined {
    return this.#bulkhead?.active;
  }

  /**
   * Not an `async` function: a call admitted at once (a free bulkhead place, a token now) runs
   * the handler synchronously and settles through one `then`, and only a call that must wait
   * goes through a promise chain. The async version's frame and await were ≈ a third of the
   * stack's cost on a no-op handler (docs/benchmarks.md, "Policy and observability stack").
   */
  execute(envelope: OnexEnvelope, context: HandlerInvocationContext): Promise<JsonValue> {
    const scheduler = this.#scheduler;
    const start = scheduler.now();
    // 1. Deadline.
    const deadline = envelopeDeadlineMs(envelope);
    if (deadline !== undefined && start >= deadline) {
      this.#observer.expired(this.handlerType, envelope.operation);
      return Promise.reject(expiredError(envelope, deadline, start, false));
    }
    const outer = context.signal;
    if (outer?.aborted === true) return Promise.reject(outer.reason as Error);
    const byDeadline = deadline !== undefined && deadline < start + this.#timeoutMs;
    const endAt = byDeadline ? (deadline as number) : start + this.#timeoutMs;
    // The attempt's abort: its AbortController exists only if something reads the signal.
    const call = new AttemptAbort();
    const onOuter = outer === undefined ? undefined : (): void => call.abort(outer.reason);
    if (onOuter !== undefined) outer?.addEventListener('abort', onOuter, { once: true });
    // timeout_ms ends go through the binding's queue (one timer for all its calls); a sooner
    // envelope deadline is out of that order and gets a timer of its own.
    const timer = byDeadline
      ? scheduler.setTimeout(() => call.abort(expiredError(envelope, deadline as number, scheduler.now(), true)), endAt - start)
      : this.#timeouts.add(endAt, () => call.abort(this.#timeoutError(envelope)));
    const attempt: Attempt = { envelope, context, outer, onOuter, call, timer, byDeadline, endAt, held: false };
    let waiting: Promise<void> | undefined;
    try {
      waiting = this.#admit(attempt, start);
    } catch (error) {
      return Promise.reject(this.#failed(attempt, error));
    }
    if (waiting === undefined) return this.#run(attempt);
    return waiting.then(
      () => this.#run(attempt),
      (error: unknown) => {
        throw this.#failed(attempt, error);
      },
    );
  }

  /**
   * 2. Bulkhead and 3. rate limit. Undefined when the call may run now; a promise when it has
   * to wait for a place or a token (it rejects with the refusal); throws a refusal at once.
   */
  #admit(attempt: Attempt, now: number): Promise<void> | undefined {
    const bulkhead = this.#bulkhead;
    if (bulkhead !== undefined) {
      attempt.held = bulkhead.tryAcquire();
      // Only a call that has to queue needs the signal.
      if (!attempt.held) {
        return bulkhead.acquire(attempt.call.signal).then((held) => {
          attempt.held = held;
          if (!held) {
            this.#observer.bulkheadRejected(this.handlerType);
            throw this.#bulkheadFull(attempt.envelope, bulkhead);
          }
          return this.#rateLimit(attempt, this.#scheduler.now());
        });
      }
    }
    return this.#rateLimit(attempt, now);
  }

  #rateLimit(attempt: Attempt, now: number): Promise<void> | undefined {
    const bucket = this.#bucket;
    if (bucket === undefined) return undefined;
    const reservation = bucket.reserve(attempt.endAt - now, now);
    if ('retryAfterMs' in reservation) {
      this.#observer.rateLimited(this.handlerType);
      throw this.#rateLimited(attempt.envelope, reservation.retryAfterMs);
    }
    if (reservation.waitMs === 0) return undefined;
    this.#observer.rateLimitWait(this.handlerType, reservation.waitMs);
    const call = attempt.call;
    return this.#scheduler.sleep(reservation.waitMs, call.signal).then(() => {
      if (call.aborted) {
        bucket.refund();
        throw call.reason;
      }
    });
  }

  /** 4. Circuit breaker, then 5. the handler on the attempt's signal, raced against it. */
  #run(attempt: Attempt): Promise<JsonValue> {
    const permit: CircuitPermit = this.#breaker?.tryAcquire() ?? NO_BREAKER;
    if (!permit.admitted) {
      this.#observer.circuitRejected(this.handlerType);
      return Promise.reject(this.#failed(attempt, this.#circuitOpen(attempt.envelope, permit.retryAfterMs)));
    }
    let pending: Promise<JsonValue>;
    try {
      pending = this.#inner.execute(attempt.envelope, new AttemptContext(attempt.context, attempt.call));
    } catch (error) {
      pending = Promise.reject(error as Error);
    }
    return attempt.call.race(pending).then(
      (result) => {
        this.#breaker?.record(permit.trial, 'success');
        this.#release(attempt);
        return result;
      },
      (error: unknown) => {
        this.#breaker?.record(permit.trial, aborted(attempt.outer) ? 'ignored' : outcomeOf(error));
        throw this.#failed(attempt, error);
      },
    );
  }

  /** Counts a cut-off (timeout or deadline) the attempt's own abort caused, releases what it held, and returns the error to throw. */
  #failed(attempt: Attempt, error: unknown): unknown {
    const call = attempt.call;
    if (call.aborted && error === call.reason && !aborted(attempt.outer)) {
      if (attempt.byDeadline) this.#observer.expired(this.handlerType, attempt.envelope.operation);
      else this.#observer.timedOut(this.handlerType, attempt.envelope.operation);
    }
    this.#release(attempt);
    return error;
  }

  /** Frees what the attempt holds: its bulkhead place, its timer, its listener on the caller's signal. Once per attempt, on whichever path ends it. */
  #release(attempt: Attempt): void {
    if (attempt.held) this.#bulkhead?.release();
    attempt.timer.cancel();
    if (attempt.onOuter !== undefined) attempt.outer?.removeEventListener('abort', attempt.onOuter);
  }

  #timeoutError(envelope: OnexEnvelope): InfraTimeoutError {
    return new InfraTimeoutError(`The ${this.handlerType} call ${envelope.operation} did not finish within timeout_ms (${this.#timeoutMs} ms) and was cancelled`, {
      transportType: this.#transport,
      handlerType: this.handlerType,
      operation: envelope.operation,
      correlationId: envelope.correlationId,
      details: { timeout_ms: this.#timeoutMs },
      hint: `The budget covers waiting for the bulkhead and the rate limit too. Raise timeout_ms in the ${this.handlerType} binding if the dependency is just slow, or look at why it is.`,
    });
  }

  #bulkheadFull(envelope: OnexEnvelope, bulkhead: Bulkhead): InfraUnavailableError {
    return new InfraUnavailableError(`The ${this.handlerType} handler is at its concurrency limit (${bulkhead.maxConcurrent} running, ${bulkhead.maxQueue} waiting); ${envelope.operation} was not executed`, {
      transportType: this.#transport,
      handlerType: this.handlerType,
      operation: envelope.operation,
      correlationId: envelope.correlationId,
      details: { policy: 'bulkhead' satisfies PolicyName, max_concurrent: bulkhead.maxConcurrent, max_queue: bulkhead.maxQueue },
      hint: `Send it again later. If this is steady load, raise bulkhead.max_concurrent (or max_queue) in the ${this.handlerType} binding, or find why its calls are slow.`,
    });
  }

  #rateLimited(envelope: OnexEnvelope, retryAfterMs: number): InfraRateLimitedError {
    return new InfraRateLimitedError(`The ${this.handlerType} handler's rate limit has no token for ${envelope.operation} within its budget; it was not executed`, {
      transportType: this.#transport,
      handlerType: this.handlerType,
      operation: envelope.operation,
      correlationId: envelope.correlationId,
      details: { policy: 'rate_limit' satisfies PolicyName, retry_after_ms: retryAfterMs },
      hint: `Send it again after retry_after_ms (${retryAfterMs} ms), or raise rate_limit.per_second / burst in the ${this.handlerType} binding.`,
    });
  }

  #circuitOpen(envelope: OnexEnvelope, retryAfterMs: number): InfraUnavailableError {
    const retryAfterSeconds = Math.ceil(retryAfterMs / 1000);
    return new InfraUnavailableError(`The ${this.handlerType} circuit breaker is open after repeated transport failures; ${envelope.operation} was not executed`, {
      transportType: this.#transport,
      handlerType: this.handlerType,
      operation: envelope.operation,
      correlationId: envelope.correlationId,
      details: { policy: 'circuit_breaker' satisfies PolicyName, retry_after_seconds: retryAfterSeconds },
      hint: `The dependency behind the ${this.handlerType} handler kept failing; trial calls resume in about ${retryAfterSeconds} s. Check that it is up and reachable.`,
    });
  }
}

/** One attempt through the stack: what its steps share. */
interface Attempt {
  readonly envelope: OnexEnvelope;
  readonly context: HandlerInvocationContext;
  readonly outer: HandlerInvocationContext['signal'];
  readonly onOuter: (() => void) | undefined;
  readonly call: AttemptAbort;
  readonly timer: TimerHandle;
  /** The envelope's deadline, not timeout_ms, ends this attempt. */
  readonly byDeadline: boolean;
  /** When the attempt's budget ends (epoch ms). */
  readonly endAt: number;
  /** It holds a bulkhead place. */
  held: boolean;
}

const NO_BREAKER: CircuitPermit = Object.freeze({ admitted: true, trial: 0 });

/**
 * How a failure counts for the breaker: transport-class failures count; any other typed
 * error means the dependency answered (a 4xx, a constraint violation); an untyped throw
 * says nothing about the dependency.
 */
export function outcomeOf(error: unknown): CallOutcome {
  if (error instanceof InfraConnectionError || error instanceof InfraTimeoutError || error instanceof InfraUnavailableError) return 'failure';
  return isOnexError(error) ? 'success' : 'ignored';
}

/** Whether an error (or an error envelope's body, where details sit at the top) was made by the policy stack: the host does not retry those. */
export function refusedByPolicy(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const policy = (isOnexError(error) ? error.details : (error as { policy?: unknown })).policy;
  return policy === 'bulkhead' || policy === 'rate_limit' || policy === 'circuit_breaker';
}

/** Read through a call so the compiler does not narrow it: a signal can abort during any await. */
function aborted(signal: HandlerInvocationContext['signal']): boolean {
  return signal?.aborted === true;
}

/**
 * The handler's context: the caller's, with the attempt's signal read lazily. A class rather
 * than `{ ...context, get signal() {} }`: an accessor in a spread literal takes V8's slow
 * path (≈ 7 % of a no-op round trip's CPU). Frozen, as the context always was.
 */
class AttemptContext implements HandlerInvocationContext {
  readonly correlationId: string | undefined;
  readonly envelopeId: string;
  readonly operation: string;
  readonly nodeSlug: string | undefined;
  readonly access: HandlerInvocationContext['access'];
  readonly #call: AttemptAbort;

  constructor(context: HandlerInvocationContext, call: AttemptAbort) {
    this.correlationId = context.correlationId;
    this.envelopeId = context.envelopeId;
    this.operation = context.operation;
    this.nodeSlug = context.nodeSlug;
    this.access = context.access;
    this.#call = call;
    Object.freeze(this);
  }

  get signal(): AbortSignal {
    return this.#call.signal;
  }
}
